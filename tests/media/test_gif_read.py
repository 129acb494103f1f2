"""GIF decoding: every disposal method, transparency, sub-rectangles, delays and loop as stored."""

from __future__ import annotations

import numpy as np

from frameswap.media import open_media
from kit.media_builders import GifFrameSpec, hand_gif

RED, GREEN, BLUE, WHITE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (255, 255, 0)
PALETTE = np.array([(0, 0, 0), RED, GREEN, BLUE, WHITE, YELLOW, (9, 9, 9), (7, 7, 7)], dtype=np.uint8)


def _full(color, size=4):
    return np.tile(np.array(color, np.uint8), (size, size, 1))


def test_each_disposal_method_and_transparency_composite_to_the_expected_pixels():
    green_with_hole = np.full((2, 2), 2, np.uint8)
    green_with_hole[0, 0] = 0  # index 0 is transparent in this frame
    frames = [
        GifFrameSpec(np.full((4, 4), 1, np.uint8), delay_cs=1, disposal=1),  # red everywhere
        GifFrameSpec(green_with_hole, x=1, y=1, delay_cs=2, disposal=3, transparent=0),  # then restore
        GifFrameSpec(np.full((2, 2), 3, np.uint8), x=2, y=2, delay_cs=3, disposal=2),  # then clear
        GifFrameSpec(np.full((1, 1), 4, np.uint8), delay_cs=0, disposal=0),  # unspecified: keep
        GifFrameSpec(np.full((2, 2), 5, np.uint8), x=3, y=3, delay_cs=100, disposal=1),  # clipped
    ]
    data = hand_gif(4, 4, frames, global_palette=PALETTE, loop=0, background=4)
    with open_media(data) as reader:
        assert reader.info.has_alpha
        got = list(reader.frames())

    e0 = _full(RED)
    e1 = e0.copy()
    e1[1:3, 1:3] = GREEN
    e1[1, 1] = RED  # the transparent pixel shows what was below
    e2 = _full(RED)  # disposal 3 restored the red
    e2[2:4, 2:4] = BLUE
    e3 = _full(RED)
    e3[0, 0] = WHITE
    a3 = np.full((4, 4), 255, np.uint8)
    a3[2:4, 2:4] = 0  # disposal 2 cleared the blue square to transparent
    e4 = e3.copy()
    e4[3, 3] = YELLOW  # only the part inside the canvas is drawn
    a4 = a3.copy()
    a4[3, 3] = 255

    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    for f, expected in zip(got[:3], (e0, e1, e2), strict=True):
        np.testing.assert_array_equal(f.rgb, expected)
        np.testing.assert_array_equal(f.alpha, np.full((4, 4), 255, np.uint8))
    np.testing.assert_array_equal(got[3].alpha, a3)
    np.testing.assert_array_equal(got[3].rgb[a3 == 255], e3[a3 == 255])
    np.testing.assert_array_equal(got[4].alpha, a4)
    # frame 3's "unspecified" disposal must not inherit frame 2's "clear" (Pillow's habit)
    np.testing.assert_array_equal(got[4].rgb[a4 == 255], e4[a4 == 255])
    assert [f.timing.duration for f in got] == [10, 20, 30, 0, 1000]
    assert [f.timing.pts for f in got] == [0, 10, 30, 60, 60]
    assert all(f.rgb.flags.c_contiguous and f.rgb.dtype == np.uint8 for f in got)


def test_disposal_to_background_without_transparency_uses_the_background_colour():
    frames = [
        GifFrameSpec(np.full((4, 4), 1, np.uint8), delay_cs=5, disposal=2),
        GifFrameSpec(np.full((1, 1), 2, np.uint8), delay_cs=5, disposal=1),
    ]
    with open_media(hand_gif(4, 4, frames, global_palette=PALETTE, background=4)) as reader:
        assert not reader.info.has_alpha
        got = list(reader.frames())
    expected = _full(WHITE)
    expected[0, 0] = GREEN
    np.testing.assert_array_equal(got[1].rgb, expected)
    assert got[1].alpha is None


def test_local_palette_overrides_the_global_one():
    local = np.array([(0, 0, 0), (10, 20, 30)], np.uint8)
    frames = [GifFrameSpec(np.ones((2, 3), np.uint8), palette=local)]
    with open_media(hand_gif(3, 2, frames, global_palette=PALETTE)) as reader:
        (f,) = reader.frames()
    assert (f.rgb == (10, 20, 30)).all()


def test_single_frame_gif_and_absent_loop():
    with open_media(
        hand_gif(2, 2, [GifFrameSpec(np.ones((2, 2), np.uint8), delay_cs=7)], global_palette=PALETTE)
    ) as reader:
        assert reader.info.frame_count == 1
        assert reader.info.loop is None
        assert reader.info.kind == "image"
        assert reader.info.durations_ms == (70.0,)
        assert len(list(reader.frames())) == 1


def test_frames_restart_from_the_first_frame():
    frames = [GifFrameSpec(np.full((2, 2), i + 1, np.uint8), delay_cs=1) for i in range(3)]
    with open_media(hand_gif(2, 2, frames, global_palette=PALETTE, loop=5)) as reader:
        first = [f.rgb[0, 0].tolist() for f in reader.frames()]
        second = [f.rgb[0, 0].tolist() for f in reader.frames()]
        assert reader.info.loop == 5
    assert first == second == [list(RED), list(GREEN), list(BLUE)]
