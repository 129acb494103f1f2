"""Temporal landmark smoothing per track, so a swapped face does not jitter on video.

A One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass filter whose cut-off rises with
speed, so a still face is smoothed hard (landmark noise disappears) while a moving face follows
with little lag. Speeds are measured in face sizes per frame (divided by the eye distance), so one
setting works for small and large faces alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _alpha(cutoff: float) -> float:
    """Smoothing factor of a first-order low pass at ``cutoff`` (cycles per frame), one frame step."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau)


@dataclass
class _TrackState:
    value: np.ndarray
    speed: np.ndarray
    last_frame: int


@dataclass
class LandmarkSmoother:
    """One-Euro filtering of (N, 2) landmark arrays, one filter state per track id.

    ``min_cutoff`` (cycles/frame) sets the smoothing of a still face (lower: smoother, more lag);
    ``beta`` how fast the cut-off rises with speed (higher: less lag on fast motion). A track
    unseen for more than ``max_gap`` frames restarts from its new landmarks (a cut or a re-entry
    must not drag the old position along).
    """

    min_cutoff: float = 0.05
    beta: float = 1.0
    d_cutoff: float = 0.5
    max_gap: int = 5
    _tracks: dict[int, _TrackState] = field(default_factory=dict, repr=False)

    def reset(self) -> None:
        """Forget every track (call between clips)."""
        self._tracks.clear()

    def smooth(self, track_id: int | None, points: np.ndarray, frame: int) -> np.ndarray:
        """The filtered landmarks of ``track_id`` at ``frame``; unfiltered when ``track_id`` is None."""
        pts = np.asarray(points, dtype=np.float64)
        if track_id is None:
            return pts
        state = self._tracks.get(track_id)
        if state is None or frame <= state.last_frame or frame - state.last_frame > self.max_gap:
            self._tracks[track_id] = _TrackState(pts.copy(), np.zeros_like(pts), frame)
            return pts
        steps = frame - state.last_frame
        scale = max(_eye_distance(pts), 1.0)
        raw_speed = (pts - state.value) / (scale * steps)
        a_d = _alpha(self.d_cutoff)
        speed = a_d * raw_speed + (1.0 - a_d) * state.speed
        magnitude = np.linalg.norm(speed, axis=1, keepdims=True)
        cutoff = self.min_cutoff + self.beta * magnitude
        tau = 1.0 / (2.0 * np.pi * cutoff)
        a = 1.0 / (1.0 + tau / steps)
        value = a * pts + (1.0 - a) * state.value
        self._tracks[track_id] = _TrackState(value, speed, frame)
        return value


def _eye_distance(points: np.ndarray) -> float:
    """Distance between the eye centres of 68 landmarks (or the point spread for other sets)."""
    if len(points) >= 48:
        return float(np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0)))
    return float(np.ptp(points, axis=0).max())


@dataclass
class ToneSmoother:
    """Exponential smoothing of a face's colour statistics per track, so brightness does not pump.

    Per-frame skin statistics wobble with landmark noise and with what drifts into the sampled
    region (a hand, a shadow edge); pasted with each frame's own figures, the new face breathes
    in brightness while the original did not. ``alpha`` is the weight of the newest frame: one
    for every figure, or one per figure (an engine's slower-moving looks after the colour, see
    ``ToneAwareEngine.tone_alpha``); a jump of more than ``reset_jump`` in mean lightness (a cut,
    a light switched on) restarts the track from the new value rather than fading across it.
    A figure a frame could not measure (NaN: the engine's detector-only figures on frames where
    the face was followed, not detected) keeps the track's last value.
    """

    alpha: float | tuple[float, ...] = 0.3
    reset_jump: float = 25.0
    max_gap: int = 5
    _tracks: dict[int, tuple[np.ndarray, int]] = field(default_factory=dict, repr=False)

    def smooth(self, track_id: int | None, values: np.ndarray, frame: int) -> np.ndarray:
        """The smoothed statistics (Lab mean then std) of ``track_id`` at ``frame``."""
        new = np.asarray(values, dtype=np.float32)
        if track_id is None:
            return new
        state = self._tracks.get(track_id)
        recent = state is not None and state[1] < frame <= state[1] + self.max_gap
        if recent and state is not None and state[0].shape == new.shape:
            new = np.where(np.isnan(new), state[0], new).astype(np.float32)
        if not recent or state is None or abs(float(new[0] - state[0][0])) > self.reset_jump:
            self._tracks[track_id] = (new, frame)
            return new
        alpha = np.asarray(self.alpha, dtype=np.float32)
        value = (alpha * new + (1.0 - alpha) * state[0]).astype(np.float32)
        self._tracks[track_id] = (value, frame)
        return value
