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

from frameswap.engines.classic.pose import yaw_degrees
from frameswap.faces.types import Face

HYSTERESIS_DEGREES = 8.0
# pitch counts half as much as yaw in the choice: its reading is coarser (see pitch_degrees)
PITCH_WEIGHT = 0.5
# the nose tip's depth below the eye line, as a share of the eye-to-mouth height, on a level face
# (the median over dlib fits of the frontal faces of t1, astronaut, and the shared test photos and
# clips, which read from -10 to +23 degrees around it: faces differ), and the nose's protrusion
# as a share of that height (a typical adult face)
_LEVEL_NOSE_SHARE = 0.52
_NOSE_DEPTH_SHARE = 0.45


def pitch_degrees(points: np.ndarray) -> float:
    """Signed head pitch in degrees from 68 landmarks: positive when the face tilts up.

    The eyes and mouth lie near one plane and the nose tip stands out of it, so when the head
    tilts up the tip climbs towards the eye line: ``share = level - depth * tan(pitch)``, with the
    share measured across the eye line (so a rolled head reads the same). A coarse reading (a few
    degrees of noise), enough to tell a raised or lowered head from a level one.
    """
    pts = np.asarray(points, dtype=np.float64)
    axis = pts[42:48].mean(axis=0) - pts[36:42].mean(axis=0)
    norm = float(np.linalg.norm(axis))
    if norm <= 0:
        return 0.0
    down = np.array([-axis[1], axis[0]]) / norm  # perpendicular to the eye line, pointing chinwards
    eyes = pts[36:48].mean(axis=0)
    height = float((pts[48:68].mean(axis=0) - eyes) @ down)
    if height <= 0:
        return 0.0
    share = float((pts[30] - eyes) @ down) / height
    return float(np.degrees(np.arctan((_LEVEL_NOSE_SHARE - share) / _NOSE_DEPTH_SHARE)))


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
