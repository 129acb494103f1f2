"""SCRFD face detector (buffalo_l ``det_10g.onnx``): letterbox, decode and NMS as insightface.

Pre/post-processing follows docs/models.md §2 exactly (insightface ``SCRFD.detect`` with one det size):
top-left letterbox with ``int`` truncation, ``(x - 127.5) / 128`` on RGB, anchor centres
``(x*s, y*s)`` twice per cell, distances in stride units, ``score >= thresh``, a stable sort by
score and greedy NMS with "+1" pixel areas at IoU 0.4. Images come in as RGB (insightface feeds
its BGR images through ``swapRB``, which gives the same blob).

Batch-first: ``detect`` takes several images; det_10g's batch axis is fixed at 1, so the loop is
inside. ``detect_regions`` runs the detector on crops around known boxes at the scale a full-frame
detection would use, so refreshed keypoints agree with full detections (used by ``describe``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from frameswap.errors import ModelContractError, OptionsError, UnsupportedMediaError
from frameswap.models.session import SessionOptions, create_session

_STRIDES = (8, 16, 32)
_ANCHORS = 2
_MEAN, _STD = 127.5, 128.0


@dataclass(frozen=True)
class Detections:
    """Faces found in one image, in descending score order: boxes (N,4), scores (N,), kps (N,5,2)."""

    boxes: np.ndarray
    scores: np.ndarray
    kps: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))


def check_rgb_image(image: np.ndarray) -> None:
    """Refuse anything that is not an RGB uint8 (H, W, 3) array, with a clear error."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        desc = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise UnsupportedMediaError(f"expected an RGB uint8 image of shape (H, W, 3), got {desc}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise UnsupportedMediaError(f"image has no pixels: shape {image.shape}")


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thresh: float) -> np.ndarray:
    """insightface's greedy NMS ("+1" areas, keep IoU <= thresh); indices kept, best first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size > 0:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[iou <= iou_thresh]
    return np.asarray(keep, dtype=np.int64)


class SCRFD:
    """The det_10g detector around an injected onnxruntime session (no I/O here)."""

    def __init__(
        self,
        session: Any,
        det_size: tuple[int, int] = (640, 640),
        det_thresh: float = 0.5,
        nms_thresh: float = 0.4,
    ) -> None:
        w, h = (int(v) for v in det_size)
        if w <= 0 or h <= 0 or w % 32 or h % 32:
            raise OptionsError(f"det_size must be positive multiples of 32, got {det_size}")
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4 or len(outputs) != 9:
            raise ModelContractError(
                "not an SCRFD detector with keypoints: expected 1 NCHW input and 9 outputs "
                f"(scores, boxes, keypoints for strides 8/16/32), got {len(inputs)} input(s) and "
                f"{len(outputs)} output(s)"
            )
        self.session = session
        self.input_name = inputs[0].name
        self.output_names = [o.name for o in outputs]
        self.batched = len(outputs[0].shape) == 3  # rank-3 exports carry a batch axis of 1
        self.det_size = (w, h)
        self.det_thresh = float(det_thresh)
        self.nms_thresh = float(nms_thresh)
        self._centers: dict[tuple[int, int, int], np.ndarray] = {}

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        session_options: SessionOptions = SessionOptions(),
        det_size: tuple[int, int] = (640, 640),
        det_thresh: float = 0.5,
        nms_thresh: float = 0.4,
    ) -> SCRFD:
        return cls(create_session(path, session_options), det_size, det_thresh, nms_thresh)

    # --- public -------------------------------------------------------------------------------

    def scale_for(self, image_shape: tuple[int, ...]) -> tuple[float, int, int]:
        """(det_scale, new_w, new_h) of the letterbox for an image of this shape."""
        img_h, img_w = image_shape[:2]
        det_w, det_h = self.det_size
        im_ratio = float(img_h) / img_w
        if im_ratio > float(det_h) / det_w:
            new_h, new_w = det_h, int(det_h / im_ratio)
        else:
            new_w, new_h = det_w, int(det_w * im_ratio)
        return float(new_h) / img_h, new_w, new_h

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Faces of each RGB image, descending score (insightface's order)."""
        results = []
        for image in images:
            check_rgb_image(image)
            det_scale, new_w, new_h = self.scale_for(image.shape)
            canvas = np.zeros((self.det_size[1], self.det_size[0], 3), dtype=np.uint8)
            canvas[:new_h, :new_w] = cv2.resize(image, (max(new_w, 1), max(new_h, 1)))
            results.append(self._detect_canvas(canvas, det_scale))
        return results

    def detect_regions(self, image: np.ndarray, regions: np.ndarray) -> list[Detections]:
        """Detections inside each region (x1, y1, x2, y2) of ``image``, in image coordinates.

        Each region is cut out of the letterboxed canvas a full detection of ``image`` would see,
        snapped outwards to the 32-pixel anchor grid, so the network sees the face at the same scale
        and on the same anchors as in full detections (refreshed keypoints agree with them), at a
        fraction of the cost.
        """
        check_rgb_image(image)
        det_scale, new_w, new_h = self.scale_for(image.shape)
        img_h, img_w = image.shape[:2]
        sx, sy = new_w / img_w, new_h / img_h  # what cv2.resize applies to the full frame
        grid = _STRIDES[-1]
        max_x, max_y = -(-new_w // grid) * grid, -(-new_h // grid) * grid
        results = []
        for region in np.asarray(regions, dtype=np.float64).reshape(-1, 4):
            cx0 = min(max(0, int(np.floor(region[0] * sx / grid)) * grid), max_x)
            cy0 = min(max(0, int(np.floor(region[1] * sy / grid)) * grid), max_y)
            cx1 = min(max_x, int(np.ceil(region[2] * sx / grid)) * grid)
            cy1 = min(max_y, int(np.ceil(region[3] * sy / grid)) * grid)
            if cx1 <= cx0 or cy1 <= cy0:
                results.append(Detections.empty())
                continue
            # Inverse map of cv2.resize (pixel centres), shifted to the region's corner.
            inverse = np.array([[1 / sx, 0, (cx0 + 0.5) / sx - 0.5], [0, 1 / sy, (cy0 + 0.5) / sy - 0.5]])
            canvas = cv2.warpAffine(image, inverse, (cx1 - cx0, cy1 - cy0),
                                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=0)
            canvas[max(0, new_h - cy0):, :] = 0  # the letterbox padding of the full canvas
            canvas[:, max(0, new_w - cx0):] = 0
            results.append(self._detect_canvas(canvas, det_scale, (float(cx0), float(cy0))))
        return results

    # --- internals ----------------------------------------------------------------------------

    def _anchor_centers(self, height: int, width: int, stride: int) -> np.ndarray:
        key = (height, width, stride)
        centers = self._centers.get(key)
        if centers is None:
            centers = np.stack(list(np.mgrid[:height, :width][::-1]), axis=-1).astype(np.float32)
            centers = np.repeat((centers * stride).reshape(-1, 2), _ANCHORS, axis=0)
            if len(self._centers) < 64:
                self._centers[key] = centers
        return centers

    def _detect_canvas(
        self, canvas: np.ndarray, det_scale: float, offset: tuple[float, float] = (0.0, 0.0)
    ) -> Detections:
        """Run on one (part of a) letterboxed canvas; map back by ``(xy + offset) / det_scale``."""
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / _STD, (canvas.shape[1], canvas.shape[0]),
                                     (_MEAN, _MEAN, _MEAN), swapRB=False)
        outs = self.session.run(self.output_names, {self.input_name: np.ascontiguousarray(blob, np.float32)})
        if self.batched:
            outs = [o[0] for o in outs]
        in_h, in_w = canvas.shape[:2]
        scores_l, boxes_l, kps_l = [], [], []
        for idx, stride in enumerate(_STRIDES):
            scores = outs[idx].reshape(-1)
            keep = np.where(scores >= self.det_thresh)[0]
            if keep.size == 0:
                continue
            centers = self._anchor_centers(in_h // stride, in_w // stride, stride)[keep]
            dist = outs[idx + 3][keep] * stride
            kps = outs[idx + 6][keep] * stride
            boxes_l.append(np.concatenate([centers - dist[:, 0:2], centers + dist[:, 2:4]], axis=1))
            kps_l.append(kps.reshape(-1, 5, 2) + centers[:, None, :])
            scores_l.append(scores[keep])
        if not scores_l:
            return Detections.empty()
        scores = np.concatenate(scores_l).astype(np.float32)
        # float32 arithmetic throughout, as insightface (array / python float stays float32).
        scale = np.float32(det_scale)
        off = np.array(offset, dtype=np.float32)
        boxes = ((np.concatenate(boxes_l).reshape(-1, 2, 2) + off) / scale).reshape(-1, 4)
        kps = (np.concatenate(kps_l) + off) / scale
        order = np.argsort(-scores, kind="stable")
        boxes, scores, kps = boxes[order], scores[order], kps[order]
        keep = nms(boxes, scores, self.nms_thresh)
        return Detections(boxes[keep], scores[keep], kps[keep])
