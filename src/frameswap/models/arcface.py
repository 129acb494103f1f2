"""ArcFace recogniser (buffalo_l ``w600k_r50.onnx``): 512-D identity embeddings, batched.

As insightface ``ArcFaceONNX`` (docs/models.md §3) on crops already aligned to the model's template
(``norm_crop`` to 112 on the five keypoints: the caller's job, ``faces.insightface_backend.embed_faces``,
so this wrapper, like every one in ``models/``, imports nothing from ``faces/``), RGB,
``(x - mean) / std`` with mean = std = 127.5 unless one of the first 8 graph nodes is named
``Sub…``/``_minus…`` and one ``Mul…``/``_mul…`` (an MXNet export with the normalisation inside:
mean 0, std 1). The output is the raw embedding (not L2-normalised).

Batch-first: the batch axis of w600k_r50 is dynamic, so all crops of all images go through one
``run`` call (split only above ``max_batch``); an export with a fixed batch axis is run in chunks of
its size (``frameswap.models.chunking``).
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


def scan_normalisation(node_names: Sequence[str]) -> tuple[float, float]:
    """insightface's (mean, std) guess from the first 8 node names."""
    first = list(node_names)[:8]
    has_sub = any(n.startswith(("Sub", "_minus")) for n in first)
    has_mul = any(n.startswith(("Mul", "_mul")) for n in first)
    return (0.0, 1.0) if has_sub and has_mul else (127.5, 127.5)


class ArcFace:
    """An ArcFace ONNX model around an injected session (no I/O here)."""

    def __init__(
        self,
        session: Any,
        input_mean: float = 127.5,
        input_std: float = 127.5,
        max_batch: int = 256,
    ) -> None:
        inputs, outputs = session.get_inputs(), session.get_outputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if len(inputs) != 1 or len(shape) != 4 or len(outputs) != 1:
            raise ModelContractError(
                f"not an ArcFace model: expected 1 NCHW input and 1 output, got {len(inputs)} input(s) "
                f"and {len(outputs)} output(s)"
            )
        size = shape[2]
        if not isinstance(size, int) or size != shape[3] or size % 112:
            raise ModelContractError(f"ArcFace input must be square with a side multiple of 112, got {shape}")
        self.session = session
        self.input_name = inputs[0].name
        self.output_name = outputs[0].name
        self.input_size = size
        self.input_mean = float(input_mean)
        self.input_std = float(input_std)
        # None: a symbolic batch axis (w600k_r50), run in chunks of max_batch; k: chunks of k
        self.batch_capacity = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
        self.max_batch = max(1, int(max_batch))

    @classmethod
    def from_path(
        cls, path: str | Path, session_options: SessionOptions = SessionOptions(), max_batch: int = 256
    ) -> ArcFace:
        """Load the file; reads the graph's node names to pick the normalisation as insightface."""
        import onnx

        session = create_session(path, session_options)  # also checks the file exists and loads
        graph = onnx.load(str(path), load_external_data=False).graph
        mean, std = scan_normalisation([node.name for node in graph.node[:8]])
        return cls(session, mean, std, max_batch)

    def embed_crops(self, crops: np.ndarray) -> np.ndarray:
        """Raw embeddings (N, D) of aligned RGB crops (N, S, S, 3)."""
        if len(crops) == 0:
            dim = self.session.get_outputs()[0].shape[-1]
            return np.zeros((0, dim if isinstance(dim, int) else 512), np.float32)
        return run_in_chunks(self._embed_chunk, [crops], capacity=self.batch_capacity,
                             max_batch=self.max_batch)

    def _embed_chunk(self, crops: np.ndarray) -> np.ndarray:
        """One session call on a chunk of crops the batch axis takes."""
        blob = cv2.dnn.blobFromImages(list(crops), 1.0 / self.input_std, (self.input_size, self.input_size),
                                      (self.input_mean,) * 3, swapRB=False)
        out = self.session.run([self.output_name], {self.input_name: np.ascontiguousarray(blob, np.float32)})
        return np.asarray(out[0], dtype=np.float32).reshape(len(crops), -1)

