"""Face geometry, in one leaf module (numpy, OpenCV and scikit-image only): boxes, keypoints, IoU,
and the similarity alignment of five keypoints to the templates the models were trained on.

Everything that reasons about where a face is (tracker, follower, both analyzers, engines,
benchmark) takes its boxes and overlaps from here, so a box convention or an IoU is defined once.

Alignment: the numbers and the method (a least-squares Umeyama similarity, as insightface's
``face_align.estimate_norm``) match insightface exactly, so crops equal its crops.
Images may be RGB or BGR: alignment does not look at colour.
"""

from __future__ import annotations

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

from frameswap.errors import OptionsError

# ArcFace's 112-pixel template (insightface ``arcface_dst``).
ARCFACE_112 = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
# FFHQ 512 template used by GFPGAN / CodeFormer (facexlib ``face_template``).
FFHQ_512 = np.array(
    [[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
     [201.26117, 371.41043], [313.08905, 371.15118]],
    dtype=np.float32,
)


def arcface_template(size: int) -> np.ndarray:
    """The ArcFace template for a crop of ``size`` (a multiple of 112 or of 128), as insightface."""
    if size % 112 == 0:
        ratio, shift_x = size / 112.0, 0.0
    elif size % 128 == 0:
        ratio = size / 128.0
        shift_x = 8.0 * ratio
    else:
        raise OptionsError(f"ArcFace crop size must be a multiple of 112 or 128, got {size}")
    dst = ARCFACE_112 * ratio
    dst[:, 0] += shift_x
    return dst


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2x3 similarity matrix taking ``src`` points onto ``dst`` (least squares, Umeyama)."""
    # Keep the caller's dtype: insightface estimates from float32 keypoints and the float32
    # template, and estimating in float64 moves the matrix by ~2e-5, enough to flip crop pixels.
    src = np.asarray(src)
    dst = np.asarray(dst, dtype=src.dtype if src.dtype in (np.float32, np.float64) else np.float64)
    if src.dtype not in (np.float32, np.float64):
        src = src.astype(np.float64)
    if hasattr(SimilarityTransform, "from_estimate"):
        tform = SimilarityTransform.from_estimate(src, dst)
    else:  # scikit-image < 0.26
        tform = SimilarityTransform()
        tform.estimate(src, dst)
    return np.asarray(tform.params[0:2, :])


def estimate_norm(kps: np.ndarray, size: int = 112) -> np.ndarray:
    """insightface's ``estimate_norm``: the matrix aligning five keypoints to the ArcFace crop."""
    return estimate_similarity(kps, arcface_template(size))


def norm_crop(image: np.ndarray, kps: np.ndarray, size: int = 112) -> tuple[np.ndarray, np.ndarray]:
    """The aligned crop (black border, bilinear, as insightface ``norm_crop2``) and its matrix."""
    matrix = estimate_norm(kps, size)
    crop = cv2.warpAffine(image, matrix, (size, size), borderValue=0.0)
    return crop, matrix


def keypoints_degenerate(kps: np.ndarray, min_eye_distance: float = 2.0) -> bool:
    """True when five keypoints cannot define a similarity (coincident eyes, NaNs)."""
    kps = np.asarray(kps, dtype=np.float64)
    if kps.shape != (5, 2) or not np.all(np.isfinite(kps)):
        return True
    return float(np.linalg.norm(kps[1] - kps[0])) < min_eye_distance


# The eye distance over the eye-to-mouth distance of a frontal face, as a face detector's five
# keypoints give it: the median over 465 CenterFace detections that dlib's landmarks read as
# within 10 degrees of frontal (the shared clips and GIFs, t1, the samples); faces of 80 px or more
# spread from 0.87 to 1.07 (1st to 50th percentile).
_FRONTAL_EYE_SPAN = 1.05


def turn_from_keypoints(kps: np.ndarray) -> float:
    """How far the head is turned (degrees, unsigned, 0 to 90) as five keypoints show it.

    Why: dlib's 68-point predictor was trained on faces up to about 45 degrees of yaw (iBUG 300-W);
    on a profile it draws a three-quarter face, with the far jaw out on the backdrop, so a yaw read
    from its points stays near 30 degrees while the head is at 80. A CNN detector trained on faces
    in every pose (CenterFace, on WIDER FACE) puts both eyes where they are: the eye distance
    shrinks with the cosine of the turn while the eye-to-mouth distance does not (rolling the head
    changes neither; nodding only shortens the eye-to-mouth distance, which reads as more frontal).
    Noisy near frontal (a few keypoint pixels on a small face), so only a large turn means much.
    """
    pts = np.asarray(kps, dtype=np.float64)
    eyes, mouth = pts[:2].mean(axis=0), pts[3:5].mean(axis=0)
    height = float(np.linalg.norm(mouth - eyes))
    if height <= 0:
        return 0.0
    span = float(np.linalg.norm(pts[1] - pts[0])) / height
    return float(np.degrees(np.arccos(min(1.0, span / _FRONTAL_EYE_SPAN))))


# Where the detector's box sits relative to the landmarks' bounding box, as fractions of the
# landmarks' width/height (means measured on the 7 faces of t1 + astronaut; x made symmetric).
# Used so a box re-derived from landmarks (``describe``) is comparable to a detected box (IoU).
_BOX_HALF_WIDTH = 0.51
_BOX_TOP = -0.125
_BOX_BOTTOM = -0.092


def keypoints_from_68(landmarks: np.ndarray) -> np.ndarray:
    """The five insightface-order keypoints derived from the 68 iBUG points.

    Image-left eye centre (mean of 36-41), image-right eye centre (mean of 42-47), nose tip (30),
    mouth corners on the image's left (48) and right (54).
    """
    pts = np.asarray(landmarks, dtype=np.float32)
    return np.stack(
        [pts[36:42].mean(axis=0), pts[42:48].mean(axis=0), pts[30], pts[48], pts[54]]
    ).astype(np.float32)


def box_from_68(landmarks: np.ndarray) -> np.ndarray:
    """A detector-like box (x1, y1, x2, y2) re-derived from 68 landmarks."""
    pts = np.asarray(landmarks, dtype=np.float64)
    (lx1, ly1), (lx2, ly2) = pts.min(axis=0), pts.max(axis=0)
    w, h = lx2 - lx1, ly2 - ly1
    cx = (lx1 + lx2) / 2.0
    return np.array(
        [cx - _BOX_HALF_WIDTH * w, ly1 + _BOX_TOP * h, cx + _BOX_HALF_WIDTH * w, ly2 + _BOX_BOTTOM * h],
        dtype=np.float32,
    )


# A dlib-like box from five keypoints: a square whose side is a mix of the eye distance and the
# eye-to-mouth distance, centred on the midpoint of the eye and mouth centres, a little raised.
# Fitted by least squares against HOG's boxes on 120 faces (t1, the astronaut, frames of the
# LivePortrait and Hamilton videos, two photos): mean IoU with HOG's box 0.83 (minimum 0.70),
# where CenterFace's own box reaches 0.73 (minimum 0.54).
_SIDE_PER_EYE_DISTANCE = 0.50
_SIDE_PER_EYE_MOUTH = 1.87
_CENTRE_RAISE = 0.018  # of the side


def box_from_5(kps: np.ndarray) -> np.ndarray:
    """A dlib-detector-like square box (x1, y1, x2, y2) from five insightface-order keypoints.

    Why: dlib's 68-point predictor was trained on its detector's boxes and the tracker compares
    boxes by IoU, so faces found by another detector must carry the same box convention.
    """
    pts = np.asarray(kps, dtype=np.float64)
    eyes, mouth = pts[:2].mean(axis=0), pts[3:5].mean(axis=0)
    side = _SIDE_PER_EYE_DISTANCE * float(np.linalg.norm(pts[1] - pts[0])) + _SIDE_PER_EYE_MOUTH * float(
        np.linalg.norm(mouth - eyes)
    )
    cx, cy = (eyes + mouth) / 2.0
    cy -= _CENTRE_RAISE * side
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], dtype=np.float32)


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box of ``boxes_a`` (N, 4) with every box of ``boxes_b`` (M, 4)."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    return float(iou_matrix(np.asarray(a)[None], np.asarray(b)[None])[0, 0])
