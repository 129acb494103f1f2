"""The rims of glasses over the target's face, so the new face goes behind them.

The skin test of ``regions`` keeps what covers the target's face when it is a sizeable blob of
another colour (a hand, a lock of hair, thick dark frames). Thin metal or clear rims are neither:
a line one or two pixels wide, close to the skin's colour, that the test's speck removal opens
away, so the swapped face lost its glasses (LivePortrait's ``d9``: only the temples outside the
face stayed). Rims are found here by their shape instead:

- A ridge map: the larger Hessian eigenvalue magnitude of the lightness at a scale of a rim's
  width (scikit-image's ``hessian_matrix``; its multi-scale ``sato`` filter costs 13 ms a face
  against 1 ms for one scale, and a face is swapped in every frame).
- Lines: hysteresis thresholds at multiples of the skin's own median ridge strength, so a soft,
  dim or grainy face sets its own bar.
- Glasses, not wrinkles: a ridge counts only inside a lens-sized ring around each eye, and only
  when the lines there go around *both* eyes, above and below, with one long curve among them
  (``glasses_score``). Brows and lid creases stay above an eye, eye bags below, crow's feet,
  smile folds and the nose's sides are short pieces to one side.
- Steady: the score is one of the looks the pipeline smooths per tracked face (with the skin
  tone), so glasses do not blink off for a frame where a rim is lost in a reflection.

Faces narrower than ``MIN_FACE_WIDTH`` pixels are left alone: a rim there is under a pixel, and a
GIF's dithering makes ridges everywhere.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.feature import hessian_matrix, hessian_matrix_eigvals
from skimage.filters import apply_hysteresis_threshold

from frameswap.engines.classic.regions import EYES

MIN_FACE_WIDTH = 90.0  # pixels at working size
RIM_SCALE = 0.008  # Gaussian scale of the ridge map, as a share of the face width (~a rim's width)
LOW, HIGH = 4.0, 8.0  # hysteresis thresholds, in multiples of the skin's median ridge strength
# the lens ring around an eye's centre, half-axes in eye widths (across, up): inside it the
# eyelids and their creases, outside it brows, cheeks and the nose's sides
LENS_INNER, LENS_OUTER = (0.8, 0.55), (1.5, 1.2)
ANGLE_BINS = 24
# ``glasses_score`` from which a face wears glasses. Measured on the shared trial clips (score
# per frame): the one with glasses 0.5 / 0.75 / 0.92 (10th / 50th / 90th percentile), three
# without 0 / 0.08-0.17 / 0.17-0.25, at most 0.5 in single frames; the pipeline smooths the
# score over each track, so a frame or two of brows and creases does not flip it.
WEARS_GLASSES = 0.4
GLASSES_ALPHA = 0.1  # the pipeline's smoothing weight of a frame's score (ToneSmoother)


def ridge_strength(lightness: np.ndarray, sigma: float) -> np.ndarray:
    """Per pixel, the larger magnitude of the Hessian's eigenvalues: high on thin lines, bright or dark."""
    hessian = hessian_matrix(lightness, sigma=sigma, order="rc", use_gaussian_derivatives=False)
    big, small = hessian_matrix_eigvals(hessian)
    return np.maximum(np.maximum(-small, big), 0.0).astype(np.float32)


def _rings(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
           face_width: float) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Per eye, the line pixels inside its lens ring (bool mask) and their angles seen from the
    eye's centre; None when the face is too small or has too little skin to tell."""
    inside = (region > 0) & (features == 0)
    if face_width < MIN_FACE_WIDTH or int(inside.sum()) < 64:
        return None
    ridge = ridge_strength(lab[..., 0].astype(np.float32), RIM_SCALE * face_width)
    level = max(float(np.median(ridge[inside])), 1e-3)
    lines = apply_hysteresis_threshold(np.where(inside, ridge, 0.0), LOW * level, HIGH * level)
    pts = np.asarray(points, dtype=np.float64)
    ys, xs = np.mgrid[0 : region.shape[0], 0 : region.shape[1]]
    out = []
    for eye in EYES:
        centre = pts[eye].mean(axis=0)
        width = max(float(np.linalg.norm(pts[eye[3]] - pts[eye[0]])), 1.0)
        dx, dy = (xs - centre[0]) / width, (ys - centre[1]) / width
        outer = (dx / LENS_OUTER[0]) ** 2 + (dy / LENS_OUTER[1]) ** 2 <= 1.0
        inner = (dx / LENS_INNER[0]) ** 2 + (dy / LENS_INNER[1]) ** 2 < 1.0
        ring = lines & outer & ~inner
        out.append((ring, np.arctan2(dy[ring], dx[ring])))
    return out


def _bins(angles: np.ndarray) -> np.ndarray:
    return np.unique(((angles + np.pi) / (2 * np.pi) * ANGLE_BINS).astype(int) % ANGLE_BINS)


def glasses_score(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
                  face_width: float) -> float:
    """How surely the face wears glasses, 0..1, the least over both eyes of two shares of the
    angles seen from the eye's centre: where a line in the lens ring lies, in the half above and
    the half below the eye (rims go all the way round; brows and lid creases stay above, eye bags
    below), and twice what its longest line spans (a rim is one long curve; the sides of the nose
    and a face's edge, which can fill both halves of a wide-eyed face, are short pieces)."""
    rings = _rings(lab, region, features, points, face_width)
    if rings is None:
        return 0.0
    half = ANGLE_BINS // 2
    pts = np.asarray(points, dtype=np.float64)
    shares = []
    for (ring, angles), eye in zip(rings, EYES, strict=True):
        bins = _bins(angles)
        above = int((bins < half).sum())  # image y grows downwards: negative angles are above
        count, labels = cv2.connectedComponents(ring.astype(np.uint8), connectivity=8)
        centre = pts[eye].mean(axis=0)
        longest = 0
        for j in range(1, count):
            ys, xs = np.nonzero(labels == j)
            longest = max(longest, len(_bins(np.arctan2(ys - centre[1], xs - centre[0]))))
        shares.append(min(above / half, (len(bins) - above) / half, 2.0 * longest / ANGLE_BINS))
    return float(min(shares))


def glasses_rims(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
                 face_width: float) -> np.ndarray:
    """uint8 mask (255) of the lines in both lens rings, grown by a pixel, inside ``region``: the
    rims to keep, once ``glasses_score`` (smoothed over the track) says the face wears glasses."""
    rings = _rings(lab, region, features, points, face_width)
    rims = np.zeros(region.shape, np.uint8)
    if rings is None:
        return rims
    for ring, _ in rings:
        rims[ring] = 255
    return cv2.dilate(rims, np.ones((3, 3), np.uint8)) & region
