"""Face records: plain numpy data, no model inside, so selection and tracking test without models."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True, eq=False)
class Face:
    """One detected face in one image.

    Coordinates are pixels of the analysed image. ``kps`` follows insightface's order, in image
    terms: the eye on the image's left, the eye on the image's right, the nose tip, the mouth
    corner on the image's left, the one on the image's right.
    """

    box: np.ndarray  # (4,) float32: x1, y1, x2, y2
    score: float
    kps: np.ndarray  # (5, 2) float32
    landmarks: np.ndarray | None = None  # (68, 2) float32 for dlib; None where the backend has none
    embedding: np.ndarray | None = None  # raw identity embedding (ArcFace 512-D or dlib 128-D)
    track_id: int | None = None
    # degrees the head is turned (unsigned), read from the detector's own five keypoints on this
    # frame (``geometry.turn_from_keypoints``) before a landmark fit replaced ``kps``; None where
    # the face was not detected on this frame (followed, gap-filled) or by a detector without
    # keypoints. The classic engine trusts it over its landmarks on profiles.
    detector_turn: float | None = None

    @property
    def area(self) -> float:
        """Box area in pixels: the hosted API orders faces by it, largest first."""
        x1, y1, x2, y2 = (float(v) for v in self.box)
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    @property
    def normed_embedding(self) -> np.ndarray | None:
        """The embedding divided by its L2 norm (insightface's ``normed_embedding``)."""
        if self.embedding is None:
            return None
        norm = float(np.linalg.norm(self.embedding))
        return self.embedding / norm if norm > 0 else self.embedding

    def with_track(self, track_id: int) -> Face:
        """A copy carrying a track id."""
        return replace(self, track_id=track_id)

    def moved(self, dx: float, dy: float) -> Face:
        """A copy with its box and points moved by (dx, dy): from a crop into its frame (the crop's
        corner) or from a frame into a crop (minus the corner). The embedding does not depend on
        where the face is, so it is kept."""
        shift = np.array([dx, dy], dtype=np.float32)
        return replace(
            self,
            box=(np.asarray(self.box, np.float32) + np.tile(shift, 2)).astype(np.float32),
            kps=(np.asarray(self.kps, np.float32) + shift).astype(np.float32),
            landmarks=None if self.landmarks is None
            else (np.asarray(self.landmarks, np.float32) + shift).astype(np.float32),
        )


def sort_large_to_small(faces: list[Face]) -> list[Face]:
    """Faces ordered by box area, largest first (stable for equal areas), as the hosted API does."""
    return sorted(faces, key=lambda f: -f.area)
