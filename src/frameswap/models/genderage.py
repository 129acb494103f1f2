"""Gender and age estimator (buffalo_l ``genderage.onnx``), batched, as insightface ``Attribute``.

insightface's contract (``model_zoo/attribute.py``): a square crop centred on the face box, scaled
so the box's longer side spans 2/3 of it (no rotation); ``(x - mean) / std`` with mean 127.5, std
128 unless the graph starts with an MXNet normalisation (a ``Sub``/``_minus`` and a ``Mul``/``_mul``
among the first 8 nodes, or a ``bn_data`` among the first 3: then mean 0, std 1); RGB in. The one
output has 3 values: female and male scores (the argmax is the gender, 0 female, 1 male) and the
age divided by 100.

Faces go through the batch axis with :func:`~frameswap.models.chunking.run_in_chunks`, like the
other wrappers: all at once (in chunks of ``MAX_BATCH``) when the axis is symbolic, as the graph's
fixed batch size takes them otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from frameswap.errors import ModelContractError
from frameswap.models.chunking import run_in_chunks
from frameswap.models.session import SessionOptions, create_session

MAX_BATCH = 256  # faces per session call on a symbolic batch axis (bounds the blob's memory)


def attribute_normalisation(node_names: Sequence[str]) -> tuple[float, float]:
    """insightface ``Attribute``'s (mean, std) guess from the first graph node names."""
    first = list(node_names)[:8]
    has_sub = any(n.startswith(("Sub", "_minus")) for n in first)
    has_mul = any(n.startswith(("Mul", "_mul")) for n in first)
    if "bn_data" in first[:3]:
        has_sub = has_mul = True
    return (0.0, 1.0) if has_sub and has_mul else (127.5, 128.0)


def attribute_matrix(box: np.ndarray, size: int) -> np.ndarray:
    """insightface's ``face_align.transform`` with no rotation: box centre to the crop centre,
    the longer side of the box to 2/3 of the crop."""
    x1, y1, x2, y2 = (float(v) for v in box)
    scale = size / (max(x2 - x1, y2 - y1) * 1.5)
    cx, cy = (x1 + x2) / 2 * scale, (y1 + y2) / 2 * scale
    return np.array([[scale, 0.0, size / 2 - cx], [0.0, scale, size / 2 - cy]], dtype=np.float64)


class GenderAge:
    """A genderage ONNX model around an injected session."""

    def __init__(self, session: Any, input_mean: float = 127.5, input_std: float = 128.0) -> None:
        inputs, outputs = session.get_inputs(), session.get_outputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if len(inputs) != 1 or len(shape) != 4 or len(outputs) != 1 or outputs[0].shape[-1] != 3:
            raise ModelContractError("not a genderage model: expected 1 NCHW input and 1 output of 3 values")
        if not isinstance(shape[2], int) or shape[2] != shape[3]:
            raise ModelContractError(f"genderage input must be square, got {shape}")
        self.session = session
        self.input_name = inputs[0].name
        self.output_name = outputs[0].name
        self.input_size = int(shape[2])
        self.input_mean, self.input_std = float(input_mean), float(input_std)
        # None: a symbolic batch axis (buffalo_l's), chunks of MAX_BATCH; k: chunks of exactly k
        self.batch_capacity = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None

    @classmethod
    def from_path(cls, path: str | Path, session_options: SessionOptions = SessionOptions()) -> GenderAge:
        import onnx

        session = create_session(path, session_options)
        graph = onnx.load(str(path), load_external_data=False).graph
        mean, std = attribute_normalisation([node.name for node in graph.node[:8]])
        return cls(session, mean, std)

    def predict(
        self, images: Sequence[np.ndarray], boxes: Sequence[Sequence[np.ndarray]]
    ) -> list[list[tuple[int, int]]]:
        """(gender, age) of every face box (x1, y1, x2, y2) of every RGB image: gender 0 female,
        1 male. Boxes, not faces: the models layer knows nothing of the faces layer's types."""
        size = self.input_size
        crops = [
            cv2.warpAffine(image, attribute_matrix(box, size), (size, size), borderValue=0.0)
            for image, per_image in zip(images, boxes, strict=True)
            for box in per_image
        ]
        if not crops:
            return [[] for _ in images]
        blobs = cv2.dnn.blobFromImages(
            crops, 1.0 / self.input_std, (size, size), (self.input_mean,) * 3, swapRB=False
        )
        preds = run_in_chunks(self._call, [blobs], capacity=self.batch_capacity, max_batch=MAX_BATCH)
        results = [(int(np.argmax(p[:2])), int(np.round(p[2] * 100))) for p in preds.reshape(-1, 3)]
        out, k = [], 0
        for per_image in boxes:
            out.append(results[k : k + len(per_image)])
            k += len(per_image)
        return out

    def _call(self, blobs: np.ndarray) -> np.ndarray:
        """One session call on a chunk of blobs the batch axis takes: one row of 3 per blob."""
        return np.asarray(self.session.run([self.output_name], {self.input_name: blobs})[0]).reshape(-1, 3)
