"""GIF in, GIF out: every pixel the pipeline did not change comes back bit for bit.

The oracle is Pillow decoding the input and the output independently (its own LZW decoder and
compositing), never frameswap's reader alone.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageSequence

from frameswap.media import open_media
from frameswap.media.writer import encode_bytes
from kit.media_builders import GifFrameSpec, hand_gif, panning_frames

SIZE = (96, 72)


def pillow_frames(data: bytes) -> tuple[list[np.ndarray], list[int], int | None]:
    """RGBA frames, delays (ms) and loop as Pillow decodes them."""
    with Image.open(io.BytesIO(data)) as im:
        frames, delays = [], []
        for page in ImageSequence.Iterator(im):
            frames.append(np.asarray(page.convert("RGBA")))
            delays.append(page.info.get("duration"))
        return frames, delays, im.info.get("loop")


def same_picture(a: np.ndarray, b: np.ndarray) -> bool:
    """Same alpha everywhere and same colour wherever something is visible."""
    visible = a[..., 3] > 0
    return bool((a[..., 3] == b[..., 3]).all() and (a[..., :3][visible] == b[..., :3][visible]).all())


def round_trip(data: bytes, change=None) -> bytes:
    """Decode with frameswap, optionally change frames as the pipeline does, encode to GIF."""
    with open_media(data) as reader:
        info = reader.info
        frames = [f if change is None else f.with_rgb(change(f)) for f in reader.frames()]
    return encode_bytes(iter(frames), info, format="gif")


def pillow_gif(frames: list[np.ndarray], delays: list[int], colors: int, loop: int | None = 0) -> bytes:
    """A GIF as Pillow's own encoder writes it (one shared palette, optimised sub-rectangles)."""
    pages, palette = indexed(frames, colors)
    images = [Image.fromarray(p, "P") for p in pages]
    for im in images:
        im.putpalette(palette.tobytes())
    buf = io.BytesIO()
    extra = {} if loop is None else {"loop": loop}
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=delays, **extra)
    return buf.getvalue()


def indexed(frames: list[np.ndarray], colors: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Frames as indices into one shared palette (the palette of the first, median cut)."""
    first = Image.fromarray(frames[0]).quantize(colors, method=Image.Quantize.MEDIANCUT)
    pages = [np.asarray(Image.fromarray(f).quantize(palette=first, dither=Image.Dither.NONE)) for f in frames]
    palette = np.asarray(first.getpalette(), np.uint8).reshape(-1, 3)
    return pages, palette


def test_untouched_round_trip_is_pixel_identical_with_delays_loop_and_frame_count():
    rgb = [f.rgb for f in panning_frames([40] * 5, SIZE)]
    rgb.insert(3, rgb[2])  # an identical consecutive frame must stay a frame
    delays = [40, 70, 0, 100, 20, 1000]
    for loop in (0, 4, None):
        pages, palette = indexed(rgb, 200)  # built by hand: Pillow's encoder would merge frames 2 and 3
        specs = [GifFrameSpec(p, delay_cs=d // 10, disposal=1) for p, d in zip(pages, delays, strict=True)]
        data = hand_gif(SIZE[0], SIZE[1], specs, global_palette=palette, loop=loop)
        want, want_delays, want_loop = pillow_frames(data)
        got, got_delays, got_loop = pillow_frames(round_trip(data))
        assert len(got) == len(want) == 6
        assert got_delays == want_delays == delays
        assert got_loop == want_loop == loop
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a, b)


def test_hand_built_palettes_subrectangles_disposals_and_transparency_survive():
    rng = np.random.default_rng(7)
    glob = np.array(
        [(0, 0, 0), (200, 10, 10), (10, 200, 10), (10, 10, 200)] + [(9 * i, 50, 99) for i in range(4)]
    )
    local = np.array([(1, 2, 3), (250, 250, 0), (0, 250, 250), (120, 0, 120)], np.uint8)
    base = rng.integers(1, 8, (8, 8)).astype(np.uint8)
    base[0, 7] = 0  # a transparent pixel from the start (Pillow then composites in RGBA throughout)
    hole = rng.integers(1, 4, (3, 4)).astype(np.uint8)
    hole[1, 1:3] = 0  # transparent: the frame below shows through
    specs = [
        GifFrameSpec(base, delay_cs=3, disposal=1, transparent=0),
        GifFrameSpec(hole, x=2, y=2, delay_cs=5, disposal=3, transparent=0, palette=local),
        GifFrameSpec(np.full((3, 3), 5, np.uint8), x=4, y=4, delay_cs=7, disposal=2, transparent=0),
        GifFrameSpec(np.full((2, 2), 6, np.uint8), delay_cs=0, disposal=1, transparent=0),
        GifFrameSpec(np.full((1, 1), 0, np.uint8), x=7, y=7, delay_cs=2, disposal=1, transparent=0),
        GifFrameSpec(np.full((2, 2), 3, np.uint8), x=5, y=5, delay_cs=4, disposal=1, transparent=0),
    ]
    data = hand_gif(8, 8, specs, global_palette=glob, loop=3)
    want, want_delays, want_loop = pillow_frames(data)
    assert (want[3][..., 3] == 0).any()  # the input really turns pixels transparent again
    out = round_trip(data)
    got, got_delays, got_loop = pillow_frames(out)
    assert (got_delays, got_loop) == (want_delays, want_loop) == ([30, 50, 70, 0, 20, 40], 3)
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        assert same_picture(a, b), f"frame {i} differs"
    with open_media(data) as a, open_media(out) as b:  # frameswap's own reader agrees too
        for fa, fb in zip(a.frames(), b.frames(), strict=True):
            np.testing.assert_array_equal(fa.alpha, fb.alpha)
            np.testing.assert_array_equal(fa.rgb[fa.alpha > 0], fb.rgb[fb.alpha > 0])


def gradient_patch(frame_rgb: np.ndarray, box: tuple[slice, slice], shift: int) -> np.ndarray:
    """A smooth skin-like gradient painted into ``box``: what a swapped face looks like to the writer."""
    out = frame_rgb.copy()
    ys, xs = box
    h, w = ys.stop - ys.start, xs.stop - xs.start
    yy, xx = np.mgrid[:h, :w]
    out[box] = np.stack([170 + yy * 60 // h, 110 + xx * 50 // w + shift, 90 + (yy + xx) * 30 // (h + w)], -1)
    return out


def test_a_changed_block_is_quantised_and_everything_else_is_bit_exact():
    rgb = [f.rgb for f in panning_frames([50] * 6, SIZE)]
    data = pillow_gif(rgb, [50] * 6, 48)  # few colours: free palette slots for the new pixels
    box = (slice(20, 52), slice(30, 62))
    changed = {1: 0, 2: 3, 4: 6}

    def swap(frame):
        return gradient_patch(frame.rgb, box, changed[frame.index]) if frame.index in changed else frame.rgb

    want, _, _ = pillow_frames(data)
    got, delays, _ = pillow_frames(round_trip(data, swap))
    assert len(got) == 6 and delays == [50] * 6
    inside = np.zeros(SIZE[::-1], bool)
    inside[box] = True
    for i, (a, b) in enumerate(zip(want, got, strict=True)):
        if i not in changed:
            np.testing.assert_array_equal(a, b)
            continue
        np.testing.assert_array_equal(a[~inside], b[~inside])
        painted = gradient_patch(a[..., :3], box, changed[i])[box].astype(int)
        err = b[..., :3][box].astype(int) - painted
        assert np.abs(err).mean() < 6 and np.abs(err).max() <= 48  # dithered into few new colours
        local = err.reshape(8, 4, 8, 4, 3).mean(axis=(1, 3))  # what a viewer sees: 4x4 averages
        assert np.abs(local).max() <= 6


def test_frames_with_more_than_256_colours_fall_back_to_the_quantiser():
    rng = np.random.default_rng(3)
    first = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    other = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    idx = np.arange(256, dtype=np.uint8).reshape(16, 16)
    specs = [
        GifFrameSpec(np.hstack([idx, idx[::-1]]), delay_cs=10, disposal=1),
        GifFrameSpec(idx[:, ::-1].copy(), delay_cs=20, disposal=1, palette=other),  # 512 colours now
    ]
    data = hand_gif(32, 16, specs, global_palette=first, loop=0)
    with open_media(data) as reader:
        assert [f.source_colors is None for f in reader.frames()] == [False, True]
    want, _, _ = pillow_frames(data)
    got, delays, _ = pillow_frames(round_trip(data))
    assert delays == [100, 200]
    np.testing.assert_array_equal(want[0], got[0])  # 256 colours: still exact
    err = np.abs(want[1].astype(int) - got[1].astype(int))[..., :3]
    assert err.mean() < 12  # random colours, 256 of 512 kept: today's quantiser, within its tolerance
