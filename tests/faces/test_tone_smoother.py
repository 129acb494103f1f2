"""Per-track smoothing of a face's colour statistics: steadier than the raw figures, never dragged
across a cut, and each track on its own."""

from __future__ import annotations

import numpy as np

from frameswap.faces.smooth import ToneSmoother


def _tone(lightness: float) -> np.ndarray:
    return np.array([lightness, 140.0, 135.0, 12.0, 4.0, 4.0], np.float32)


def test_noise_is_damped_and_the_level_is_kept():
    rng = np.random.default_rng(0)
    raw = [_tone(150 + rng.normal(0, 4)) for _ in range(60)]
    smoother = ToneSmoother()
    smoothed = [smoother.smooth(1, t, i) for i, t in enumerate(raw)]
    step = lambda seq: np.abs(np.diff([t[0] for t in seq])).mean()  # noqa: E731
    assert step(smoothed) < 0.5 * step(raw)
    assert abs(np.mean([t[0] for t in smoothed[10:]]) - 150) < 2


def test_a_cut_restarts_and_tracks_do_not_mix():
    smoother = ToneSmoother()
    for i in range(5):
        smoother.smooth(1, _tone(150), i)
        smoother.smooth(2, _tone(80), i)
    assert smoother.smooth(1, _tone(60), 5)[0] == 60  # a jump of 90 levels: a cut, not noise
    assert abs(smoother.smooth(2, _tone(84), 5)[0] - 81.2) < 0.01  # 0.3 of the way, its own track
    assert smoother.smooth(None, _tone(99), 6)[0] == 99  # a still (no track): untouched


def test_each_figure_can_have_its_own_weight():
    # the classic engine's glasses score (7th figure) moves at 0.1 a frame, its colour at 0.3
    smoother = ToneSmoother((0.3,) * 6 + (0.1,))
    smoother.smooth(1, np.append(_tone(150), 0.0), 0)
    value = smoother.smooth(1, np.append(_tone(160), 1.0), 1)
    assert abs(value[0] - 153.0) < 1e-4 and abs(value[6] - 0.1) < 1e-6


def test_a_figure_a_frame_could_not_measure_keeps_the_tracks_last_value():
    # the classic engine's 8th figure (the detector's reading of the turn) is NaN on followed frames
    smoother = ToneSmoother((0.3,) * 6 + (0.1, 0.5))
    smoother.smooth(1, np.append(_tone(150), [0.0, 80.0]), 0)
    value = smoother.smooth(1, np.append(_tone(150), [0.0, np.nan]), 1)
    assert value[7] == 80.0 and not np.isnan(value).any()
    assert smoother.smooth(1, np.append(_tone(150), [0.0, 60.0]), 2)[7] == 70.0  # half way, as set
    # a track's first frame has nothing to keep; nor has a track unseen for longer than max_gap
    assert np.isnan(smoother.smooth(2, np.append(_tone(150), [0.0, np.nan]), 0)[7])
    assert np.isnan(smoother.smooth(1, np.append(_tone(150), [0.0, np.nan]), 2 + smoother.max_gap + 1)[7])
