"""Where the classic engine may paint: face regions from the 68 iBUG landmarks, and a skin test.

Two problems of a 2D swap live here. The source photo carries more than a face: a microphone
under the chin, a hand, glasses, the backdrop around the jaw. The target may have things in front
of its face: hair, glasses, a hand. Both are solved the same way:

- Only the *inner* face is used: brows (raised a little, so the target's own brows are covered and
  never show twice) down to three quarters of the way from the mouth to the chin, the cheeks inside
  the jaw line. The chin's edge and what is under it (microphones, collars) and the silhouette
  (where the backdrop is) are never taken from the source and never painted on the target.
- Inside that region, a sizeable blob that is not skin by a skin model of *that same face* and
  that crosses the region's edge is left out: on the source it is not pasted, on the target it
  is kept. The model is a robust (median and MAD) per-channel Gaussian in CIE Lab, fitted on the
  region itself minus the features, so a moderate occluder does not shift it. The features
  (eyes, brows, lips, nostrils) are not skin by any colour test and are protected: they are
  always part of the face. A blob that skin surrounds is the face's own (see ``not_skin``).

A skin test cannot tell a hand of the same colour from a cheek; that is the known limit here.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

JAW = np.arange(0, 17)
BROWS = np.arange(17, 27)
EYES = (np.arange(36, 42), np.arange(42, 48))
OUTER_LIPS = np.arange(48, 60)
NOSE_BOTTOM = np.arange(30, 36)

# Brows raised by this fraction of the eyes-to-chin vector: covers the target's brows and a
# little forehead (brows are 3-5 % of that height thick).
BROW_RAISE = 0.10
# Jaw points move this fraction towards the nose so the region stays inside the silhouette.
JAW_INSET = 0.08
# Lower jaw points (5..11) move this fraction towards the lower lip: the region ends three
# quarters of the way from the mouth to the chin; the chin's edge (and what is under it) is never
# used. (0.45 kept more of the target's chin and cost identity: 26 of 34 faces against 30.)
CHIN_CUT = 0.25


@dataclass(frozen=True)
class SkinModel:
    """A per-channel robust Gaussian of skin in Lab (OpenCV's 8-bit Lab scale)."""

    mean: np.ndarray  # (3,) float32
    std: np.ndarray  # (3,) float32

    # floors: a face in flat light has a tiny spread; below these a shadow would count as "not skin"
    MIN_STD = (9.0, 3.0, 3.0)

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """Per-pixel normalised distance (a Mahalanobis distance with a diagonal covariance)."""
        std = np.maximum(self.std, np.asarray(self.MIN_STD, np.float32))
        z = (lab.astype(np.float32) - self.mean) / std
        # lightness varies with shading far more than chroma does: weigh it down
        return np.sqrt(0.25 * z[..., 0] ** 2 + z[..., 1] ** 2 + z[..., 2] ** 2)

    def as_array(self) -> np.ndarray:
        return np.concatenate([self.mean, self.std]).astype(np.float32)

    @classmethod
    def from_array(cls, values: np.ndarray) -> SkinModel:
        v = np.asarray(values, dtype=np.float32)
        return cls(v[:3].copy(), v[3:6].copy())


def region_polygon(points: np.ndarray) -> np.ndarray:
    """The inner-face polygon (see the module docstring) of 68 landmarks, float (N, 2)."""
    pts = np.asarray(points, dtype=np.float64)
    eyes_mid = pts[36:48].mean(axis=0)
    up = eyes_mid - pts[8]
    nose = pts[30]
    jaw = pts[JAW].copy()
    jaw += JAW_INSET * (nose - jaw)
    lip = pts[57]
    cut = np.zeros(17)
    cut[5:12] = CHIN_CUT
    cut[4] = cut[12] = CHIN_CUT / 3
    jaw += cut[:, None] * (lip - jaw)
    brows = pts[BROWS][::-1] + BROW_RAISE * up
    return np.vstack([jaw, brows])


def _poly(mask: np.ndarray, pts: np.ndarray, value: int = 255) -> None:
    cv2.fillPoly(mask, [np.round(pts * 16).astype(np.int32)], value, cv2.LINE_8, 4)


def region_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask (255 inside) of the inner-face region of ``points`` in an image of ``shape``."""
    mask = np.zeros(shape, np.uint8)
    _poly(mask, region_polygon(points))
    return mask


def feature_mask(points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """uint8 mask of the features no skin test may drop: eyes, brows, lips and nostrils."""
    pts = np.asarray(points, dtype=np.float64)
    width = float(np.ptp(pts[JAW, 0])) or 1.0
    mask = np.zeros(shape, np.uint8)
    for eye in EYES:
        _poly(mask, pts[eye])
    _poly(mask, pts[OUTER_LIPS])
    _poly(mask, pts[NOSE_BOTTOM])
    thick = max(1, round(0.05 * width))
    for brow in (pts[17:22], pts[22:27]):
        cv2.polylines(mask, [np.round(brow).astype(np.int32)], False, 255, thick)
    grow = max(1, round(0.03 * width))
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))


def fit_skin(lab: np.ndarray, sample: np.ndarray) -> SkinModel | None:
    """Robust skin statistics of ``lab`` pixels where ``sample`` is set; None when too few."""
    values = lab[sample > 0].astype(np.float32)
    if len(values) < 32:
        return None
    median = np.median(values, axis=0)
    mad = np.median(np.abs(values - median), axis=0) * 1.4826
    return SkinModel(median.astype(np.float32), mad.astype(np.float32))


def not_skin(
    lab: np.ndarray,
    region: np.ndarray,
    features: np.ndarray,
    model: SkinModel,
    threshold: float,
    face_width: float,
) -> np.ndarray:
    """uint8 mask of sizeable non-skin blobs inside ``region`` outside ``features`` that reach
    the region's edge.

    Specks (pores, a stray hair, JPEG noise) are opened away and only blobs of at least ~1 % of
    the region are kept, so the result is an object (a microphone, a lock of hair, a hand of
    another colour), never a sprinkle that would make the new face look patchy. And only blobs
    that touch the region's edge: whatever is in front of the inner face is held from outside
    it (a hand, hair, a microphone, a glasses frame all cross its edge), so a blob that skin
    surrounds is the face's own: a shadowed eye socket or a cheek's warm shade under a side
    light, which the one-Gaussian skin model (fitted on the lit majority) cannot tell from an
    object. Keeping those on a target kept the original's eyes inside the new face.
    """
    candidate = ((model.distance(lab) > threshold) & (region > 0) & (features == 0)).astype(np.uint8)
    k = max(1, round(0.02 * face_width))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    if count <= 1:
        return np.zeros_like(region)
    min_area = 0.01 * max(int((region > 0).sum()), 1)
    # the region's edge band, as wide as the opening can pull a blob back from it
    inside = (region > 0).astype(np.uint8)
    edge = inside & (cv2.erode(inside, kernel, borderValue=0) == 0)
    reaches_edge = np.bincount(labels[edge > 0], minlength=count) > 0
    keep = np.zeros(count, np.uint8)
    keep[1:] = ((stats[1:, cv2.CC_STAT_AREA] >= min_area) & reaches_edge[1:]).astype(np.uint8) * 255
    blobs = keep[labels]
    return cv2.dilate(blobs, kernel)
