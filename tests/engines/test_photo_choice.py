"""Choosing among an identity's photos: nearest pose, held per track so animations do not flicker,
and a pitch reading that follows the nose tip."""

from __future__ import annotations

import itertools

import numpy as np

from frameswap.engines.classic.photos import HYSTERESIS_DEGREES, choose
from frameswap.engines.classic.pose import pitch_degrees

PHOTO_YAWS = np.array([-30.0, 0.0, 30.0])


def _run(yaws: np.ndarray) -> list[int]:
    picks: list[int] = []
    previous = None
    for yaw in yaws:
        previous = choose(np.abs(PHOTO_YAWS - yaw), previous)
        picks.append(previous)
    return picks


def test_a_noisy_turn_switches_once_per_boundary():
    rng = np.random.default_rng(0)
    # a head turning from -40 to +40 degrees and back, with +-4 degrees of landmark noise
    sweep = np.concatenate([np.linspace(-40, 40, 200), np.linspace(40, -40, 200)])
    yaws = sweep + rng.uniform(-4, 4, sweep.size)
    held = _run(yaws)
    switches = sum(a != b for a, b in itertools.pairwise(held))
    assert switches == 4  # -30 → 0 → 30, then back: the fewest possible
    assert held[0] == 0 and held[199] == 2 and held[-1] == 0
    # without hysteresis (the plain nearest photo) the same noise flickers at each boundary
    bare = [int(np.argmin(np.abs(PHOTO_YAWS - yaw))) for yaw in yaws]
    assert sum(a != b for a, b in itertools.pairwise(bare)) > 8


def test_the_nearest_photo_wins_once_it_is_clearly_nearer():
    assert choose(np.array([5.0, 20.0]), None) == 0
    assert choose(np.array([5.0, 5.0 + HYSTERESIS_DEGREES - 1]), 1) == 1  # within the margin: held
    assert choose(np.array([5.0, 5.0 + HYSTERESIS_DEGREES + 1]), 1) == 0  # past it: switched


def _face(nose_share: float) -> np.ndarray:
    """68 points of an upright face: eyes at y=0, mouth at y=1, the nose tip at ``nose_share``."""
    pts = np.zeros((68, 2))
    pts[36:42] = [(-1.0, 0.0)] * 6
    pts[42:48] = [(1.0, 0.0)] * 6
    pts[48:68] = [(0.0, 1.0)] * 20
    pts[0], pts[16] = (-2.0, 0.5), (2.0, 0.5)
    pts[30] = (0.0, nose_share)
    return pts * 40 + 100


def test_pitch_rises_as_the_nose_tip_climbs_and_ignores_roll():
    readings = [pitch_degrees(_face(s)) for s in (0.7, 0.6, 0.5, 0.4, 0.3)]
    assert all(b > a for a, b in itertools.pairwise(readings))  # tip nearer the eyes: head up
    assert readings[0] < 0 < readings[-1]
    angle = np.radians(25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = _face(0.4)
    rolled = (pts - 100) @ rot.T + 100
    assert abs(pitch_degrees(rolled) - pitch_degrees(pts)) < 1e-6
