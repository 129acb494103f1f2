"""``keep``: regions of the target face (mouth, eyes, brows) that stay exactly the original's.

Applied after the swap and the restorer, whatever the engine, so the lips and gaze of a talking
clip are the original's pixel for pixel. Regions come from the landmarks the analyzer gave: dlib's
68 points outline the lips, eyes and brows; with insightface's five keypoints an ellipse is placed
around the mouth corners, each eye, and above each eye for the brow, sized by the eye distance.
Landmarks are smoothed per tracked face by the pipeline, so the regions follow each person steadily.

Inside a region the output is the input; outside, the kept pixels fade into the swapped face over
a feather proportional to the face's size, so there is no seam.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from frameswap.faces.types import Face

FEATHER = 0.25  # feather width outside a region, as a share of the eye distance
_GROW = {"mouth": 0.18, "eyes": 0.12, "brows": 0.0}  # dilation, share of the eye distance (lids, lip edge)
_LIPS = np.arange(48, 60)
_EYES = (np.arange(36, 42), np.arange(42, 48))
_BROWS = (np.arange(17, 22), np.arange(22, 27))


def _eye_frame(kps: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vector along the eye line, unit vector towards the chin, eye distance."""
    axis = kps[1] - kps[0]
    dist = max(float(np.linalg.norm(axis)), 1.0)
    along = axis / dist
    return along, np.array([-along[1], along[0]]), dist


def _ellipse(mask: np.ndarray, centre: np.ndarray, axes: tuple[float, float], along: np.ndarray) -> None:
    angle = float(np.degrees(np.arctan2(along[1], along[0])))
    cv2.ellipse(mask, (centre * 16).astype(np.int32).tolist(), (int(axes[0] * 16), int(axes[1] * 16)),
                angle, 0, 360, 255, -1, cv2.LINE_8, 4)


def _polygons_68(pts: np.ndarray, region: str, down: np.ndarray, eye_dist: float) -> list[np.ndarray]:
    if region == "mouth":
        return [pts[_LIPS]]
    if region == "eyes":
        return [pts[idx] for idx in _EYES]
    # a brow is a line of 5 points: a band around it, thicker in the middle
    band = []
    for idx in _BROWS:
        line = pts[idx]
        half = 0.09 * eye_dist * np.array([0.6, 0.9, 1.0, 0.9, 0.6])[:, None]
        band.append(np.concatenate([line - half * down, (line + half * down)[::-1]]))
    return band


def region_mask(face: Face, shape: tuple[int, int], regions: Sequence[str]) -> np.ndarray:
    """uint8 mask (255 inside) of the face's kept regions over an image of ``shape``."""
    mask = np.zeros(shape, np.uint8)
    kps = np.asarray(face.kps, np.float64)
    along, down, eye_dist = _eye_frame(kps)
    has68 = face.landmarks is not None and np.asarray(face.landmarks).shape == (68, 2)
    for region in regions:
        part = np.zeros(shape, np.uint8)
        if has68:
            pts = np.asarray(face.landmarks, np.float64)
            for poly in _polygons_68(pts, region, down, eye_dist):
                cv2.fillPoly(part, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_8, 4)
        elif region == "mouth":
            corners = kps[3:5]
            width = max(float(np.linalg.norm(corners[1] - corners[0])), 1.0)
            _ellipse(part, corners.mean(axis=0), (0.62 * width, 0.36 * width), along)
        elif region == "eyes":
            for eye in kps[:2]:
                _ellipse(part, eye, (0.27 * eye_dist, 0.15 * eye_dist), along)
        else:  # brows
            for eye in kps[:2]:
                _ellipse(part, eye - 0.30 * eye_dist * down, (0.32 * eye_dist, 0.11 * eye_dist), along)
        grow = round(_GROW[region] * eye_dist)
        if grow > 0:
            disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
            part = cv2.dilate(part, disk).astype(np.uint8)
        mask |= part
    return mask


def keep_regions(
    original: np.ndarray, swapped: np.ndarray, faces: Sequence[Face], regions: Sequence[str]
) -> np.ndarray:
    """``swapped`` with each face's ``regions`` put back from ``original`` (feathered outwards)."""
    if not regions or not faces:
        return swapped
    h, w = original.shape[:2]
    out = swapped.copy()
    for face in faces:
        _, _, eye_dist = _eye_frame(np.asarray(face.kps, np.float64))
        feather = max(2.0, FEATHER * eye_dist)
        x1, y1, x2, y2 = (float(v) for v in face.box)
        pad = 0.5 * max(x2 - x1, y2 - y1) + feather
        bx0, by0 = max(0, int(x1 - pad)), max(0, int(y1 - pad))
        bx1, by1 = min(w, int(x2 + pad) + 1), min(h, int(y2 + pad) + 1)
        if bx1 <= bx0 or by1 <= by0:
            continue
        local = face.moved(-bx0, -by0)
        mask = region_mask(local, (by1 - by0, bx1 - bx0), regions)
        if not mask.any():
            continue
        # 0 inside, distance outside: the alpha of the original is 1 inside and fades out
        dist = cv2.distanceTransform(255 - mask, cv2.DIST_L2, 3)
        alpha = np.clip(1.0 - dist / feather, 0.0, 1.0)[..., None]
        roi_o = original[by0:by1, bx0:bx1].astype(np.float32)
        roi_s = out[by0:by1, bx0:bx1].astype(np.float32)
        mixed = np.clip(roi_s + alpha * (roi_o - roi_s) + 0.5, 0, 255).astype(np.uint8)
        inside = mask > 0
        mixed[inside] = original[by0:by1, bx0:bx1][inside]  # exactly the original's, no rounding
        out[by0:by1, bx0:bx1] = mixed
    return out
