"""Where the new face's landmarks go: the source's proportions and features, the target's expression.

Moving every point towards the source's freezes the source photo's expression on the target: a
talking head stops talking, a blink never closes, a shout becomes the photo's smile (seen on the
LivePortrait driving clips: an open "O" came out as the astronaut's grin, closed eyes open).
Taking the target's feature outlines instead keeps the expression but loses the person: the shape
of a mouth carries much of what a descriptor knows of it (measured on t1 with the astronaut: the
frontal faces' distance to the source went from 0.48 to 0.59, no longer nearer the source than
their originals).

So the features keep the source's outline and proportions, and take from the target only how far
they are open:

- the lower lip moves so the lips part as the target's do (its inner lips' gap), closing a
  photo's open smile on a closed mouth and opening it on a shout;
- each eye's lids part as the target's do, as a share of the eye's width (a blink closes them);
- the brows stay the target's (the region is raised over them); the jaw moves by ``JAW_WEIGHT``.

What a photo cannot show is moved from the target into the new outlines (``keep_interiors``): its
eyes (where they look, the closed lids of a blink) and, where it opens wider than the photo's, its
mouth's opening (teeth, tongue, the dark of a shout); where it opens much less, the photo's own
opening is shadowed into a slit.
"""

from __future__ import annotations

import cv2
import numpy as np

from frameswap.engines.classic.mesh import align_shape
from frameswap.engines.classic.regions import JAW

FEATURES = np.arange(27, 68)  # nose, eyes and mouth: the points that carry the source's proportions
JAW_WEIGHT = 0.5  # share of the weight the jaw line takes (the region stays inside the target's)
# the inner lips: upper points, the lower points facing them, the corners (how far the mouth is
# open); and the lower lip's points that move with the gap
INNER_LIPS = ((61, 62, 63), (67, 66, 65), (60, 64))
LOWER_LIP = np.array([55, 56, 57, 58, 59, 65, 66, 67])
# per eye: the upper lid's points, the lower lid's facing them, and the two corners
LIDS = (((37, 38), (41, 40), (36, 39)), ((43, 44), (47, 46), (42, 45)))
# per feature whose interior ``keep_interiors`` takes from the target: the points it moves with,
# and its outline (the eyes' own; the mouth's opening inside the lips)
INTERIORS = (
    (np.arange(36, 42), np.arange(36, 42)),
    (np.arange(42, 48), np.arange(42, 48)),
    (np.arange(48, 68), np.arange(60, 68)),
)
MOUTH_INTERIOR = 2
# The eyes are always the target's. Tried on the shared clips and the sample GIF: the photo's eyes
# with only their lids following the target (and the target's lids mixed in as they closed) lost
# every glance of the reaction GIFs, came out dark red where the skin's colour shift reached the
# whites (sky_omg), and blinked a frame late (smoothed landmarks lag a blink); the photo's irises
# moved to where the target's look cost more of the sample GIF's faces nearer the source (86 %)
# than the target's own eyes (89 %). The mouth takes the target's as it opens beyond the
# photo's, in full OPEN_MOUTH (of the mouth's width) beyond: the photo's teeth may close, not
# grow (the target's teeth in every smile cost 4 points there).
OPEN_MOUTH = 0.15
# A mouth the target opens less than the photo's squeezes the photo's teeth, which under
# SQUEEZED[1] of their height read as a broken white line (the LivePortrait clips' talking
# frames): the opening goes into shadow instead (MOUTH_SHADOW of its light), in full at
# SQUEEZED[0]. (The target's own opening there cost 3-7 points of faces nearer the source.)
SQUEEZED = (0.3, 0.6)
MOUTH_SHADOW = 0.35


def _openness(
    points: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...], corners: tuple[int, int]
) -> float:
    """How far a feature is open: its facing points' mean distance over its width."""
    gap = np.mean([np.linalg.norm(points[u] - points[v]) for u, v in zip(upper, lower, strict=True)])
    return float(gap / max(float(np.linalg.norm(points[corners[1]] - points[corners[0]])), 1e-6))


def destination(source: np.ndarray, target: np.ndarray, weight: float) -> np.ndarray:
    """The 68 points the source face is warped onto.

    ``source`` and ``target`` are (68, 2) landmarks; ``weight`` is how far the features move
    towards the source's places and shapes (0: the target's, 1: the source's). How far the lips
    and lids are open is the target's whatever the weight.
    """
    tgt = np.asarray(target, dtype=np.float64)
    moved = tgt + weight * (align_shape(source, tgt) - tgt)
    dest = tgt.copy()
    dest[FEATURES] = moved[FEATURES]
    dest[JAW] = tgt[JAW] + JAW_WEIGHT * (moved[JAW] - tgt[JAW])
    pairs = zip(INNER_LIPS[0], INNER_LIPS[1], strict=True)
    gap = np.mean([(tgt[lo] - tgt[up]) - (moved[lo] - moved[up]) for up, lo in pairs], axis=0)
    dest[LOWER_LIP] += gap
    for upper, lower, corners in LIDS:
        ratio = _openness(tgt, upper, lower, corners) / max(_openness(moved, upper, lower, corners), 1e-6)
        for up, lo in zip(upper, lower, strict=True):
            middle, half = (moved[up] + moved[lo]) / 2, (moved[up] - moved[lo]) / 2
            dest[up], dest[lo] = middle + ratio * half, middle - ratio * half
    return dest


def _affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 affine map taking ``src`` points nearest ``dst`` (least squares; exact when one is)."""
    design = np.hstack([src, np.ones((len(src), 1))])
    solution, *_ = np.linalg.lstsq(design, dst, rcond=None)
    return np.ascontiguousarray(solution.T)


def keep_interiors(
    face: np.ndarray, image: np.ndarray, source: np.ndarray, target: np.ndarray, dest: np.ndarray,
    width: float,
) -> np.ndarray:
    """``face`` (the new face's pixels, uint8) with the target's own eyes and, as far as it opens
    beyond the photo's, its mouth's opening, each moved with its feature from ``target``'s place
    to ``dest``'s.

    ``image`` is the target's pixels, in the coordinates of ``target`` and ``dest``; ``source`` is
    the photo's landmarks (any frame: only how far its mouth is open is read). Each interior's
    weight is its share (see ``OPEN_MOUTH``) inside ``dest``'s outline, fading to 0 over about
    1 % of the face ``width`` outside it.
    """
    out = face.copy()
    soft = max(0.5, 0.01 * width)
    grow = max(1, round(soft))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    reach = grow + int(np.ceil(3 * soft)) + 1  # how far outside the outline the weight is above 0
    h, w = image.shape[:2]
    for k, (points, outline) in enumerate(INTERIORS):
        share, shade = 1.0, False
        if k == MOUTH_INTERIOR:
            photo, now = (_openness(p, *INNER_LIPS) for p in (source, target))
            wider = (now - photo) / OPEN_MOUTH
            narrower = (SQUEEZED[1] - now / max(photo, 1e-6)) / (SQUEEZED[1] - SQUEEZED[0])
            share, shade = float(np.clip(max(wider, narrower), 0.0, 1.0)), narrower > 0
        # the work is done in the outline's box only (a feature is a few % of the face)
        x0, y0 = np.maximum(np.floor(dest[outline].min(axis=0)).astype(int) - reach, 0)
        x1, y1 = np.minimum(np.ceil(dest[outline].max(axis=0)).astype(int) + reach + 1, (w, h))
        if share <= 0.0 or x1 <= x0 or y1 <= y0:
            continue  # the photo's own feature will do, or the feature is outside the picture
        weight = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(weight, [np.round((dest[outline] - (x0, y0)) * 16).astype(np.int32)], 1.0, cv2.LINE_8, 4)
        if not weight.any():
            continue  # a shut mouth or eye: nothing of the target's to show
        box = out[y0:y1, x0:x1].astype(np.float32)
        if shade:
            # a slit's shadow darkens its lightness only: dimming all three channels turned a
            # lipstick's pink purple on the sample GIF's small faces
            lab = cv2.cvtColor(box / 255.0, cv2.COLOR_RGB2LAB)
            lab[..., 0] *= MOUTH_SHADOW
            fill = cv2.cvtColor(lab, cv2.COLOR_LAB2RGB) * 255.0
        else:
            matrix = _affine(target[points], dest[points] - (x0, y0))
            fill = cv2.warpAffine(
                image, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            ).astype(np.float32)
        # grown by the softening's width first, so a mouth open a few pixels is covered in full
        # (a shadow is not grown on a small face: a pixel more there darkens the lips)
        grown = weight if shade and soft < 1.0 else cv2.dilate(weight, kernel)
        inside = share * np.maximum(weight, cv2.GaussianBlur(grown, (0, 0), soft))
        box += inside[..., None] * (fill - box)
        out[y0:y1, x0:x1] = (box + 0.5).astype(np.uint8)
    return out
