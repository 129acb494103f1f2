"""Several source photos in the classic engine: each target face gets the photo posed most like it.

A 2D warp re-poses a face only a little: a frontal photo pasted on a head turned by 35 degrees
squeezes the far half and shows a cheek the photo never had. With photos of the person at several
head poses, the photo whose yaw and pitch (read from the 68 landmarks) are nearest the target's is
warped instead, so a turned head gets a turned source.

Choosing afresh on every frame would flicker between two photos whenever the target's pose sits
near the middle of them (landmark noise alone moves the yaw by a few degrees), so a track keeps
its photo until another one is nearer by ``HYSTERESIS_DEGREES``: the pipeline hands back the
track's previous choice (``PerFaceSource.pick``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from frameswap.engines.classic.pose import pitch_degrees, yaw_degrees
from frameswap.faces.types import Face

HYSTERESIS_DEGREES = 8.0
# pitch counts half as much as yaw in the choice: its reading is coarser (see pitch_degrees)
PITCH_WEIGHT = 0.5


def head_pose(points: np.ndarray) -> np.ndarray:
    """(yaw, pitch) in degrees."""
    return np.array([yaw_degrees(points), pitch_degrees(points)])


@dataclass(frozen=True)
class PhotoSet:
    """Prepared sources of one person and each photo's head pose: a ``PerFaceSource``."""

    sources: tuple[object, ...]  # the engine's prepared sources (ClassicSource)
    poses: np.ndarray  # (n, 2) yaw, pitch in degrees

    @classmethod
    def from_photos(cls, sources: Sequence[object], faces: Sequence[Face]) -> PhotoSet:
        poses = [head_pose(np.asarray(f.landmarks)) for f in faces]
        return cls(tuple(sources), np.array(poses, dtype=np.float64).reshape(-1, 2))

    def distances(self, target: Face) -> np.ndarray:
        """Pose distance in degrees from the target face to each photo."""
        if target.landmarks is None:
            return np.zeros(len(self.sources))
        delta = self.poses - head_pose(np.asarray(target.landmarks))
        delta[:, 1] *= PITCH_WEIGHT
        return np.linalg.norm(delta, axis=1)

    def pick(self, target: Face, previous: int | None) -> tuple[int, object]:
        """The photo posed nearest the target, held per track (see ``choose``)."""
        best = choose(self.distances(target), previous)
        return best, self.sources[best]


def choose(distances: np.ndarray, previous: int | None) -> int:
    """The nearest photo, unless ``previous`` is within ``HYSTERESIS_DEGREES`` of it."""
    best = int(np.argmin(distances))
    if (
        previous is not None
        and 0 <= previous < len(distances)
        and distances[previous] <= distances[best] + HYSTERESIS_DEGREES
    ):
        return previous
    return best
