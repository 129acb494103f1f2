"""GFPGAN / CodeFormer ONNX sessions with inputs bound by role, not by name.

Exports disagree on names (docs/models.md §4.1): GFPGAN ``input``→``output``; CodeFormer
``input`` + ``weight`` (facefusion) or ``x`` + ``w`` → ``y`` (harisreedhar, Rope, VisoMaster), and
one export has a 0-d weight and several outputs. So: the image is the float input of rank 4, the
fidelity weight is the float64 input, shaped from its declared rank ([1] for the mainstream
exports, 0-d when declared scalar); the result is ``outputs[0]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from frameswap.errors import ModelContractError
from frameswap.models.chunking import run_in_chunks
from frameswap.models.session import SessionOptions, create_session

_FLOAT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class RestorerModel:
    """One restorer session: (N, 3, S, S) RGB in [-1, 1] → the same layout, via ``run``."""

    def __init__(
        self,
        session: Any,  # an onnxruntime.InferenceSession, or a test double
        *,
        image_input: str,
        weight_input: str | None,
        weight_shape: tuple[int, ...],
        output: str,
        size: int,
        batch_capacity: int | None,
        input_dtype: type = np.float32,
        max_batch: int = 16,
    ) -> None:
        self.session = session
        self.image_input = image_input
        self.weight_input = weight_input
        self.weight_shape = weight_shape
        self.output = output
        self.size = size
        self.batch_capacity = batch_capacity  # None: symbolic; 1: loop; k: chunks of k (padded)
        self.input_dtype = input_dtype
        self.max_batch = max_batch

    @classmethod
    def from_path(cls, path: str | Path, session_options: SessionOptions = SessionOptions()) -> RestorerModel:
        """Load a restorer and find its image and weight inputs by dtype and rank."""
        session = create_session(path, session_options)
        image = weight = None
        for inp in session.get_inputs():
            if inp.type in _FLOAT_TYPES and len(inp.shape) == 4 and image is None:
                image = inp
            elif inp.type == "tensor(double)" and weight is None:
                weight = inp
            else:
                raise ModelContractError(
                    f"{path}: unexpected input {inp.name!r} ({inp.type}, {inp.shape}); a restorer takes "
                    "one float image [N,3,S,S] and optionally one float64 weight"
                )
        if image is None:
            raise ModelContractError(f"{path}: no float input of rank 4 (the face image)")
        size = image.shape[2]
        if not isinstance(size, int) or image.shape[3] != size:
            raise ModelContractError(
                f"{path}: image input {image.name!r} must be square and static, got {image.shape}"
            )
        weight_shape: tuple[int, ...] = ()
        if weight is not None:
            weight_shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in weight.shape)
        dim0 = image.shape[0]
        return cls(
            session,
            image_input=image.name,
            weight_input=None if weight is None else weight.name,
            weight_shape=weight_shape,
            output=session.get_outputs()[0].name,
            size=size,
            batch_capacity=dim0 if isinstance(dim0, int) and dim0 > 0 else None,
            input_dtype=_FLOAT_TYPES[image.type],
        )

    def _call(self, images: np.ndarray, weight: float) -> np.ndarray:
        feeds: dict[str, np.ndarray] = {
            self.image_input: np.ascontiguousarray(images, dtype=self.input_dtype)
        }
        if self.weight_input is not None:
            feeds[self.weight_input] = np.full(self.weight_shape, weight, dtype=np.float64)
        out = np.asarray(self.session.run([self.output], feeds)[0], dtype=np.float32)
        return out if out.ndim == 4 else out[None]

    def run(self, images: np.ndarray, weight: float = 0.5) -> np.ndarray:
        """Restore (N, 3, S, S) faces in as few calls as the batch axis allows (one per face when
        it is fixed at 1, as in every known export; chunks of ``max_batch`` when symbolic)."""
        n = len(images)
        if n == 0:
            return np.zeros((0, 3, self.size, self.size), np.float32)
        return run_in_chunks(lambda part: self._call(part, weight), [images],
                             capacity=self.batch_capacity, max_batch=self.max_batch)
