"""Face restoration (GFPGAN 1.3/1.4, CodeFormer) after the swap: align, restore, paste back softly.

Each face is aligned to the FFHQ-512 template from its five keypoints, restored as RGB in
[-1, 1], and pasted back through facexlib's soft box mask (the warped crop, eroded by 2 pixels,
then by ``2*w_edge`` and blurred ``2*w_edge+1`` with ``w_edge = sqrt(area)//20``), so only pixels
of the face's region change. ``blend`` is the restored face's visibility (facefusion's
``face_enhancer_blend``): 0 leaves the frame as it was. All faces of all frames are cropped from
the input frames (as facexlib does) and go through the model in as few calls as it allows.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from frameswap.engines.base import FaceSkippedWarning
from frameswap.errors import OptionsError
from frameswap.faces.geometry import FFHQ_512, estimate_similarity, keypoints_degenerate
from frameswap.faces.types import Face
from frameswap.models.restorer import RestorerModel
from frameswap.models.session import SessionOptions
from frameswap.options import CanonicalRestorer, canonical_restorer


@dataclass
class _RestorePlan:
    frame: int
    matrix: np.ndarray  # 2x3, frame → S x S crop
    roi: tuple[int, int, int, int]  # x0, y0, x1, y1 of the paste region
    inverse: np.ndarray  # 2x3, crop → ROI coordinates
    mask: np.ndarray  # (h, w, 1) float32 in [0, 1]


def _soft_box_mask(size: int, inverse: np.ndarray, roi_size: tuple[int, int]) -> np.ndarray:
    """facexlib's paste mask (``use_parse=False``, upscale 1) over the ROI, float32 in [0, 1]."""
    ones = np.ones((size, size), dtype=np.float32)
    mask = cv2.warpAffine(ones, inverse, roi_size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    mask = cv2.erode(mask, np.ones((2, 2), np.uint8))
    w_edge = int(math.sqrt(float(mask.sum()))) // 20
    if w_edge > 0:
        mask = cv2.erode(mask, np.ones((2 * w_edge, 2 * w_edge), np.uint8))
        mask = cv2.GaussianBlur(mask, (2 * w_edge + 1, 2 * w_edge + 1), 0)
    return mask


def plan_restore(frame_shape: tuple[int, ...], kps: np.ndarray, size: int) -> _RestorePlan | str:
    """Alignment and soft mask for one face, or why it must be skipped."""
    if keypoints_degenerate(kps):
        return "degenerate keypoints"
    matrix = estimate_similarity(np.asarray(kps, np.float64), FFHQ_512.astype(np.float64) * (size / 512.0))
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix[:, :2])) < 1e-12:
        return "keypoints give no usable alignment"
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64) @ inverse.T
    height, width = frame_shape[:2]
    x0, y0 = (max(0, int(v) - 2) for v in np.floor(corners.min(axis=0)))
    x1 = min(width, int(np.ceil(corners[:, 0].max())) + 2)
    y1 = min(height, int(np.ceil(corners[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return "its crop lies outside the frame"
    local = inverse.copy()
    local[:, 2] -= (x0, y0)
    mask = _soft_box_mask(size, local, (x1 - x0, y1 - y0))
    if not mask.any():
        return "its crop lies outside the frame"
    return _RestorePlan(-1, matrix, (x0, y0, x1, y1), local, mask[:, :, None])


class FaceRestorer:
    """Restore faces in frames with a GFPGAN or CodeFormer ONNX model."""

    def __init__(
        self,
        model: RestorerModel,
        kind: CanonicalRestorer = "gfpgan-1.4",
        *,
        weight: float = 0.5,
        blend: float = 1.0,
    ) -> None:
        if not 0.0 <= weight <= 1.0:
            raise OptionsError(f"restore weight (CodeFormer fidelity) must be in [0, 1], got {weight}")
        if not 0.0 <= blend <= 1.0:
            raise OptionsError(f"restore blend must be in [0, 1], got {blend}")
        self.model = model
        self.kind = kind
        self.weight = float(weight)
        self.blend = float(blend)

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        kind: str = "gfpgan-1.4",
        session_options: SessionOptions = SessionOptions(),
        weight: float = 0.5,
        blend: float = 1.0,
    ) -> FaceRestorer:
        """Load a restorer. ``kind`` is any accepted spelling (``codeformer``, ``GFPGANv1.4.pth``...)."""
        canonical = canonical_restorer(kind)
        if canonical == "none":
            raise OptionsError("face_restore 'none' has no model to load")
        return cls(RestorerModel.from_path(path, session_options), canonical, weight=weight, blend=blend)

    def _blob(self, frame: np.ndarray, plan: _RestorePlan) -> np.ndarray:
        size = self.model.size
        crop = cv2.warpAffine(
            frame, plan.matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return (crop.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)

    def _paste(self, frame: np.ndarray, restored: np.ndarray, plan: _RestorePlan) -> None:
        x0, y0, x1, y1 = plan.roi
        face = np.clip(restored, -1.0, 1.0).transpose(1, 2, 0)
        face = np.rint((face + 1.0) * 127.5).astype(np.uint8)
        warped = cv2.warpAffine(face, plan.inverse, (x1 - x0, y1 - y0), borderValue=0.0)
        alpha = plan.mask * np.float32(self.blend)
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.rint(alpha * warped + (1.0 - alpha) * region).astype(np.uint8)

    def restore(
        self, frames: Sequence[np.ndarray], faces_per_frame: Sequence[Sequence[Face]]
    ) -> list[np.ndarray]:
        """Restore every listed face of every frame; frames with no (usable) face come back as is."""
        if len(frames) != len(faces_per_frame):
            raise OptionsError(f"{len(frames)} frames but {len(faces_per_frame)} face lists")
        if self.blend == 0.0:
            return list(frames)
        plans: list[_RestorePlan] = []
        for i, (frame, faces) in enumerate(zip(frames, faces_per_frame, strict=True)):
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise OptionsError(f"frame {i} is not RGB uint8 (H, W, 3): {frame.dtype} {frame.shape}")
            for j, face in enumerate(faces):
                plan = plan_restore(frame.shape, face.kps, self.model.size)
                if isinstance(plan, str):
                    message = f"frame {i}, face {j}: not restored, {plan}"
                    warnings.warn(message, FaceSkippedWarning, stacklevel=2)
                    continue
                plan.frame = i
                plans.append(plan)
        if not plans:
            return list(frames)
        blobs = np.stack([self._blob(frames[p.frame], p) for p in plans])
        restored = self.model.run(blobs, self.weight)
        outputs = list(frames)
        for i in {p.frame for p in plans}:
            outputs[i] = np.array(frames[i], copy=True, order="C")
        for plan, face in zip(plans, restored, strict=True):
            self._paste(outputs[plan.frame], face, plan)
        return outputs
