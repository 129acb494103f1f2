"""The rims of glasses over the target's face, so the new face goes behind them.

The skin test of ``regions`` keeps what covers the target's face when it is a sizeable blob of
another colour (a hand, a lock of hair, thick dark frames). Thin metal or clear rims are neither:
a line one or two pixels wide, close to the skin's colour, that the test's speck removal opens
away, so the swapped face lost its glasses (LivePortrait's ``d9``: only the temples outside the
face stayed). Rims are found here by their shape instead:

- A ridge map: the larger Hessian eigenvalue magnitude of the lightness at a scale of a rim's
  width (one scale: scikit-image's multi-scale ``sato`` filter costs 13 ms a face, and every
  face of every frame is measured).
- Lines: hysteresis thresholds at multiples of the skin's own median ridge strength, so a soft,
  dim or grainy face sets its own bar.
- Glasses, not wrinkles: a ridge counts only inside a lens-sized ring around each eye, and only
  when the lines there go around *both* eyes, above and below, with one long curve among them
  (``glasses_score``). Brows and lid creases stay above an eye, eye bags below, crow's feet,
  smile folds and the nose's sides are short pieces to one side.
- Steady: the score is one of the looks the pipeline smooths per tracked face (with the skin
  tone), so glasses do not blink off for a frame where a rim is lost in a reflection.

Faces narrower than ``MIN_FACE_WIDTH`` pixels are left alone: a rim there is under a pixel, and a
GIF's dithering makes ridges everywhere. So are heads turned by ``MAX_YAW`` or more, whose score
decays over a few frames along the track (a wearer who turns away loses the rims until facing
the camera again: the known limit).
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.filters import apply_hysteresis_threshold

from frameswap.engines.classic.pose import yaw_degrees
from frameswap.engines.classic.regions import EYES

MIN_FACE_WIDTH = 90.0  # pixels at working size
# a head turned this far (degrees of yaw) is not judged: the far eye's ring is squeezed into the
# nose's edge and the lid creases, which read as rims (two 45-degree heads of t1 scored 0.6-0.75)
MAX_YAW = 25.0
RIM_SCALE = 0.008  # Gaussian scale of the ridge map, as a share of the face width (~a rim's width)
LOW, HIGH = 4.0, 8.0  # hysteresis thresholds, in multiples of the skin's median ridge strength
# the lens ring around an eye's centre, half-axes in eye widths (across, up): inside it the
# eyelids and their creases, outside it brows, cheeks and the nose's sides
LENS_INNER, LENS_OUTER = (0.8, 0.55), (1.5, 1.2)
ANGLE_BINS = 24
# ``glasses_score`` from which a face wears glasses. Measured on the shared trial clips: per
# frame, the talking head with metal glasses scores 0.47 / 0.67 / 0.83 (10th / 50th / 90th
# percentile), faces without (four talking heads, three GIFs, the Hamilton clip, the 1280x720
# group) at most 0.25 at the 90th percentile and 0.42 in single frames; smoothed along each
# track (``GLASSES_ALPHA``) the wearer stays above it in all 587 frames and no other face
# reaches 0.33.
WEARS_GLASSES = 0.4
GLASSES_ALPHA = 0.1  # the pipeline's smoothing weight of a frame's score (ToneSmoother)


def ridge_strength(lightness: np.ndarray, sigma: float) -> np.ndarray:
    """Per pixel, the larger magnitude of the Hessian's eigenvalues at scale ``sigma``: high on
    thin lines, bright or dark.

    Written out (Gaussian blur, central differences, the 2x2 eigenvalues in closed form) rather
    than scikit-image's ``hessian_matrix`` + ``hessian_matrix_eigvals``, which compute the same
    for any number of dimensions and cost 1 ms a face against 0.3 ms here; the score is measured
    on every face of every frame. Only ratios of this map are used, so its scale does not matter.
    """
    smooth = cv2.GaussianBlur(lightness, (0, 0), sigma)
    dy, dx = np.gradient(smooth)
    dyy, dyx = np.gradient(dy)
    dxx = np.gradient(dx, axis=1)
    half = (dxx + dyy) / 2.0
    root = np.sqrt(((dxx - dyy) / 2.0) ** 2 + dyx**2)
    big, small = half + root, half - root
    return np.maximum(np.maximum(-small, big), 0.0).astype(np.float32)


def _rings(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
           face_width: float) -> tuple[tuple[slice, slice], list[tuple[np.ndarray, np.ndarray]]] | None:
    """The box around both lens rings, and per eye the line pixels inside its ring (a bool mask
    of that box) with their angles seen from the eye's centre; None when the face is too small or
    has too little skin to tell. The ridge map's typical level is read on the whole face; lines
    are traced in the box only (a third of the face)."""
    inside = (region > 0) & (features == 0)
    if face_width < MIN_FACE_WIDTH or int(inside.sum()) < 64:
        return None
    ridge = ridge_strength(lab[..., 0].astype(np.float32), RIM_SCALE * face_width)
    level = max(float(np.median(ridge[inside])), 1e-3)
    pts = np.asarray(points, dtype=np.float64)
    eyes = []
    for eye in EYES:
        width = max(float(np.linalg.norm(pts[eye[3]] - pts[eye[0]])), 1.0)
        eyes.append((pts[eye].mean(axis=0), width))
    x0 = max(0, int(min(c[0] - LENS_OUTER[0] * w for c, w in eyes)))
    x1 = min(region.shape[1], int(max(c[0] + LENS_OUTER[0] * w for c, w in eyes)) + 2)
    y0 = max(0, int(min(c[1] - LENS_OUTER[1] * w for c, w in eyes)))
    y1 = min(region.shape[0], int(max(c[1] + LENS_OUTER[1] * w for c, w in eyes)) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    box = (slice(y0, y1), slice(x0, x1))
    lines = apply_hysteresis_threshold(np.where(inside[box], ridge[box], 0.0), LOW * level, HIGH * level)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    out = []
    for centre, width in eyes:
        dx, dy = (xs - centre[0]) / width, (ys - centre[1]) / width
        outer = (dx / LENS_OUTER[0]) ** 2 + (dy / LENS_OUTER[1]) ** 2 <= 1.0
        inner = (dx / LENS_INNER[0]) ** 2 + (dy / LENS_INNER[1]) ** 2 < 1.0
        ring = lines & outer & ~inner
        out.append((ring, np.arctan2(dy[ring], dx[ring])))
    return box, out


def glasses_score(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
                  face_width: float) -> float:
    """How surely the face wears glasses, 0..1, the least over both eyes of two shares of the
    angles seen from the eye's centre: where a line in the lens ring lies, in the half above and
    the half below the eye (rims go all the way round; brows and lid creases stay above, eye bags
    below), and twice what its longest line spans (a rim is one long curve; the sides of the nose
    and a face's edge, which can fill both halves of a wide-eyed face, are short pieces)."""
    if abs(yaw_degrees(points)) >= MAX_YAW:
        return 0.0
    found = _rings(lab, region, features, points, face_width)
    if found is None:
        return 0.0
    half = ANGLE_BINS // 2
    shares = []
    for ring, angles in found[1]:
        pixel_bins = ((angles + np.pi) / (2 * np.pi) * ANGLE_BINS).astype(int) % ANGLE_BINS
        bins = np.unique(pixel_bins)
        above = int((bins < half).sum())  # image y grows downwards: negative angles are above
        # the angle bins each connected line spans (labels and angles share the ring's pixel order)
        _, labels = cv2.connectedComponents(ring.astype(np.uint8), connectivity=8)
        pairs = np.unique(labels[ring].astype(np.int64) * ANGLE_BINS + pixel_bins)
        longest = int(np.bincount(pairs // ANGLE_BINS).max()) if len(pairs) else 0
        shares.append(min(above / half, (len(bins) - above) / half, 2.0 * longest / ANGLE_BINS))
    return float(min(shares))


def glasses_rims(lab: np.ndarray, region: np.ndarray, features: np.ndarray, points: np.ndarray,
                 face_width: float) -> np.ndarray:
    """uint8 mask (255) of the lines in both lens rings, grown by a pixel, inside ``region``: the
    rims to keep, once ``glasses_score`` (smoothed over the track) says the face wears glasses."""
    found = _rings(lab, region, features, points, face_width)
    rims = np.zeros(region.shape, np.uint8)
    if found is None:
        return rims
    box, rings = found
    for ring, _ in rings:
        rims[box][ring] = 255
    return cv2.dilate(rims, np.ones((3, 3), np.uint8)) & region
