"""Bridge the frames where the detector misses a face that is still there, and only those.

Detectors miss faces on single frames: motion blur, an under-exposed frame, a head turning past
what the detector was trained on. Left alone, the swapped face strobes: new face, old face, new
face. A tracked face that the detection of a frame did not find is therefore *followed*: the
analyzer fits its landmarks in the box the tracker predicts (``FaceAnalyzer.describe``), and the
result is kept when it still looks like the same face:

- the fit is geometrically sound (``describe``'s follow quality, e.g. dlib's box agreement);
- its appearance matches the track's last good look: the face resampled to a small canonical
  grey patch through its five keypoints, normalised for brightness and contrast (so a dark frame
  still matches), and compared by normalised cross-correlation. Landmarks fitted on a wall, a
  shoulder or another face correlate poorly with the face they left;
- the track has not been followed for more than ``max_gap`` frames in a row: a face that is
  really gone ends its track after a short gap instead of leaving a ghost.

A followed face that overlaps a face the detector did find is dropped (that is the same person
under a new track, or a neighbour), so following never duplicates a face.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.geometry import iou_matrix
from frameswap.faces.types import Face

_PATCH = 40
# five keypoints (eyes, nose tip, mouth corners) in the canonical patch, ArcFace's layout scaled
_TEMPLATE = (
    np.array([[38.29, 51.70], [73.53, 51.50], [56.03, 71.74], [41.55, 92.37], [70.73, 92.20]], np.float32)
    - (0.0, 16.0)
) * (_PATCH / 112.0)


def appearance(rgb: np.ndarray, kps: np.ndarray) -> np.ndarray | None:
    """The face as a zero-mean, unit-variance grey patch aligned by its keypoints (None: flat, or
    keypoints off the picture, where there is no look to compare)."""
    pts = np.asarray(kps, np.float32)
    h, w = rgb.shape[:2]
    if not (np.all(pts >= 0) and np.all(pts[:, 0] < w) and np.all(pts[:, 1] < h)):
        return None
    m, _ = cv2.estimateAffinePartial2D(pts, _TEMPLATE)
    if m is None:
        return None
    # warp first, then grey: only the 40x40 patch is converted, not the whole frame per face
    patch = cv2.warpAffine(rgb, m, (_PATCH, _PATCH), flags=cv2.INTER_AREA)
    patch = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY).astype(np.float32)
    patch -= patch.mean()
    std = float(patch.std())
    return patch / std if std > 1.0 else None


def similarity(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Normalised cross-correlation of two ``appearance`` patches (-1..1; 0 when unknown)."""
    if a is None or b is None:
        return 0.0
    return float((a * b).mean())


@dataclass
class GapFiller:
    """Follows tracked faces through the frames where detection missed them (see module docs)."""

    analyzer: FaceAnalyzer
    max_gap: int = 8  # frames in a row a face may be followed without being detected
    min_quality: float = 0.4  # describe's follow quality below which the fit slid off the face
    min_similarity: float = 0.5  # appearance correlation with the track's last good look
    followed: int = 0  # faces filled in so far
    _looks: dict[int, np.ndarray] = field(default_factory=dict, repr=False)
    _run: dict[int, int] = field(default_factory=dict, repr=False)

    def reset(self) -> None:
        self.followed = 0
        self._looks.clear()
        self._run.clear()

    def fill(self, rgb: np.ndarray, expected: Sequence[Face], found: Sequence[Face]) -> list[Face]:
        """Faces of ``expected`` (the tracker's predictions, with track ids) that detection did not
        ``found`` on this frame but are still there, refitted; each keeps its track id."""
        found_ids = {f.track_id for f in found}
        missing = [
            p
            for p in expected
            if p.track_id is not None
            and p.track_id not in found_ids
            and self._run.get(p.track_id, 0) < self.max_gap
        ]
        if found and missing:
            overlap = iou_matrix(np.stack([p.box for p in missing]), np.stack([f.box for f in found]))
            missing = [p for p, row in zip(missing, overlap, strict=True) if row.max() < 0.3]
        if not missing:
            return []
        refitted = self.analyzer.describe([rgb], [missing], embed=False)[0]
        kept = []
        for guess, face in zip(missing, refitted, strict=True):
            if not np.all(np.isfinite(face.box)) or face.score < self.min_quality:
                continue
            if not self.looks_like(guess.track_id, rgb, face):
                continue
            kept.append(replace(face, track_id=guess.track_id, embedding=None))
        self.followed += len(kept)
        return kept

    def looks_like(self, track_id: int | None, rgb: np.ndarray, face: Face, *, unknown: bool = False) -> bool:
        """Whether ``face`` (fitted on ``rgb``) still looks like the track's last detected look;
        ``unknown`` for a track with no look to compare with (a gap is only filled for a track
        whose look is known; the follower keeps its geometric checks alone for such a track)."""
        if track_id is None or track_id not in self._looks:
            return unknown
        return similarity(self._looks[track_id], appearance(rgb, face.kps)) >= self.min_similarity

    def remember(self, rgb: np.ndarray, detected: Sequence[Face], followed: Sequence[Face]) -> None:
        """Update each track's look (from detections only: a followed face never becomes the
        reference it is checked against) and its count of frames followed in a row."""
        for face in detected:
            if face.track_id is None:
                continue
            self._run[face.track_id] = 0
            look = appearance(rgb, face.kps)
            if look is not None:
                self._looks[face.track_id] = look
        for face in followed:
            if face.track_id is not None:
                self._run[face.track_id] = self._run.get(face.track_id, 0) + 1
