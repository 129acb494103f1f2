"""GIF in, GIF out does not grow: only what changed is written, as real GIFs store it.

Inputs are written by Pillow's encoder (sub-rectangles, transparent "unchanged" pixels, real
LZW), so their file size is an honest yardstick; Pillow also decodes every output.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageSequence

from frameswap.media import open_media
from frameswap.media.writer import encode_bytes
from kit.media_builders import GifFrameSpec, hand_gif, photo

W, H = 160, 120
FACE = 36  # side of the moving square that stands for a face


def face_box(i: int) -> tuple[slice, slice]:
    return slice(40, 40 + FACE), slice(10 + 9 * i, 10 + 9 * i + FACE)


def moving_face_gif(n: int) -> bytes:
    """A still photo with a face-sized patch of it moving right, as Pillow's encoder writes it."""
    background = photo((W, H))
    face = photo((FACE * 4, FACE * 4))[::4, ::4][:FACE, :FACE]
    frames = []
    for i in range(n):
        f = background.copy()
        f[face_box(i)] = face
        frames.append(f)
    first = Image.fromarray(frames[0]).quantize(96, method=Image.Quantize.MEDIANCUT)
    pages = [Image.fromarray(f).quantize(palette=first, dither=Image.Dither.NONE) for f in frames]
    buf = io.BytesIO()
    pages[0].save(buf, "GIF", save_all=True, append_images=pages[1:], duration=60, loop=0)
    return buf.getvalue()


def pillow_rgb(data: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(data)) as im:
        return [np.asarray(p.convert("RGB")) for p in ImageSequence.Iterator(im)]


def round_trip(data: bytes, change=None) -> bytes:
    with open_media(data) as reader:
        info = reader.info
        frames = [f if change is None else f.with_rgb(change(f)) for f in reader.frames()]
    return encode_bytes(iter(frames), info, format="gif")


def test_untouched_gif_with_subrectangles_stays_within_its_size():
    data = moving_face_gif(8)
    out = round_trip(data)
    assert len(out) <= 1.3 * len(data)
    for a, b in zip(pillow_rgb(data), pillow_rgb(out), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_swapped_moving_face_stays_within_the_input_size():
    data = moving_face_gif(8)

    def swap(frame):
        rgb = frame.rgb.copy()
        ys, xs = face_box(frame.index)
        yy, xx = np.mgrid[:FACE, :FACE]
        rgb[ys, xs] = np.stack([180 + yy, 120 + xx, 100 + (yy + xx) // 3], -1)
        return rgb

    out = round_trip(data, swap)
    assert len(out) <= 1.3 * len(data)
    want, got = pillow_rgb(data), pillow_rgb(out)
    assert len(got) == len(want) == 8
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        outside = np.ones((H, W), bool)
        outside[face_box(i)] = False
        np.testing.assert_array_equal(a[outside], b[outside])


def test_repeated_frames_stay_frames_and_cost_a_few_bytes_each():
    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, (64, 3)).astype(np.uint8)
    still = rng.integers(0, 64, (H, W)).astype(np.uint8)

    def gif(n: int) -> bytes:
        specs = [GifFrameSpec(still, delay_cs=5, disposal=1)] * n
        return round_trip(hand_gif(W, H, specs, global_palette=palette, loop=0))

    one, ten = gif(1), gif(10)
    assert len(ten) - len(one) <= 9 * 40  # a repeated frame is a 1x1 "leave as is" block
    frames = pillow_rgb(ten)
    assert len(frames) == 10
    assert all((f == frames[0]).all() for f in frames)
    np.testing.assert_array_equal(frames[0], palette[still])
