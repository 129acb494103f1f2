"""Writing animations keeps every delay, the loop count, identical frames and transparency."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from frameswap.media import open_media, write_media
from frameswap.media.types import Frame, FrameTiming
from kit.media_builders import animation_info, panning_frames

DELAYS = [20, 30, 100, 70, 1000, 0]
SIZE = (96, 72)


@pytest.mark.parametrize("loop", [0, 3, None])
def test_gif_round_trip_keeps_every_delay_and_the_loop(tmp_path, loop):
    out = write_media(
        tmp_path / "a.gif", panning_frames(DELAYS, SIZE), animation_info(DELAYS, SIZE, loop=loop)
    )
    with open_media(out) as reader:
        assert reader.info.loop == loop
        assert reader.info.durations_ms == tuple(float(d) for d in DELAYS)
        frames = list(reader.frames())
    assert [f.timing.duration for f in frames] == DELAYS
    assert all(f.timing.time_base == Fraction(1, 1000) for f in frames)


@pytest.mark.parametrize("fmt", ["gif", "apng", "webp"])
def test_identical_consecutive_frames_are_not_merged(tmp_path, fmt):
    still = next(panning_frames([10], SIZE)).rgb
    frames = [Frame(i, still, FrameTiming(i * 40, 40, Fraction(1, 1000))) for i in range(4)]
    info = animation_info([40] * 4, SIZE, fmt=fmt, loop=0)
    out = write_media(tmp_path / f"same.{'png' if fmt == 'apng' else fmt}", iter(frames), info)
    with open_media(out) as reader:
        assert reader.info.frame_count == 4
        assert reader.info.durations_ms == (40.0,) * 4


@pytest.mark.parametrize(("suffix", "fmt"), [(".png", "apng"), (".webp", "webp")])
def test_apng_and_webp_round_trip_keep_delays_loop_and_pixels(tmp_path, suffix, fmt):
    source = list(panning_frames(DELAYS, SIZE))
    out = write_media(tmp_path / f"a{suffix}", iter(source), animation_info(DELAYS, SIZE, fmt="gif", loop=2))
    with open_media(out) as reader:
        assert reader.info.format == fmt
        assert reader.info.loop == 2
        assert reader.info.durations_ms == tuple(float(d) for d in DELAYS)
        frames = list(reader.frames())
    assert [round(f.timing.duration_ms) for f in frames] == DELAYS
    for a, b in zip(source, frames, strict=True):
        err = np.abs(a.rgb.astype(int) - b.rgb.astype(int)).mean()
        assert err < (0.01 if fmt == "apng" else 6.0)  # APNG is lossless


def test_apng_keeps_a_non_millisecond_delay_exactly(tmp_path):
    tb = Fraction(1, 30)  # 33.333... ms frames
    rgb = next(panning_frames([10], SIZE)).rgb
    frames = [Frame(i, rgb[:, ::-1] if i % 2 else rgb, FrameTiming(i, 1, tb)) for i in range(3)]
    info = animation_info([33, 33, 33], SIZE, fmt="apng")
    with open_media(write_media(tmp_path / "a.png", iter(frames), info)) as reader:
        assert [f.timing.duration * f.timing.time_base for f in reader.frames()] == [Fraction(1, 30)] * 3


def test_gif_keeps_transparency_of_the_input(tmp_path):
    info = animation_info([50, 50], SIZE, alpha=True)
    out = write_media(tmp_path / "t.gif", panning_frames([50, 50], SIZE, alpha=True), info)
    with open_media(out) as reader:
        assert reader.info.has_alpha
        frames = list(reader.frames())
    h, w = SIZE[1], SIZE[0]
    for f in frames:
        assert f.alpha is not None
        assert (f.alpha[: h // 4, : w // 4] == 0).all()
        assert (f.alpha[h // 4 :, :] == 255).all()


def test_gif_palette_keeps_skin_tones_close(tmp_path):
    from skimage import color

    from kit.media_builders import photo

    rgb = photo((256, 256))
    frame = Frame(0, rgb, FrameTiming(0, 100, Fraction(1, 1000)))
    info = animation_info([100], (256, 256))
    with open_media(write_media(tmp_path / "p.gif", [frame], info)) as reader:
        (back,) = reader.frames()
    face = (slice(30, 110), slice(80, 170))
    de = np.linalg.norm(color.rgb2lab(rgb[face] / 255) - color.rgb2lab(back.rgb[face] / 255), axis=-1)
    assert de.mean() < 4.0  # a 32-colour or banded palette measures well above this


def test_still_to_gif_is_a_one_frame_gif_and_animation_to_jpeg_keeps_frame_one(tmp_path):
    source = list(panning_frames([30, 40], SIZE))
    info = animation_info([30, 40], SIZE)
    jpg = write_media(tmp_path / "first.jpg", iter(source), info)
    with open_media(jpg) as reader:
        assert reader.info.format == "jpeg"
        (f,) = reader.frames()
    assert np.abs(f.rgb.astype(int) - source[0].rgb.astype(int)).mean() < 8
    assert (
        np.abs(f.rgb.astype(int) - source[1].rgb.astype(int)).mean()
        > np.abs(f.rgb.astype(int) - source[0].rgb.astype(int)).mean()
    )
