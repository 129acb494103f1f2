"""Similarity alignment of five keypoints to the templates the models were trained on.

The numbers and the method (a least-squares Umeyama similarity, as insightface's
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
