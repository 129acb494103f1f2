"""``inswapper_128.onnx``: the session, its ``emap`` matrix, and batched runs where the graph allows.

The contract (docs/models.md §1): input 0 is the aligned face, RGB in [0, 1], NCHW 128x128;
input 1 is the source latent (1, 512); one output, RGB, about [0, 1]. ``emap`` is side data kept
as the LAST initializer: the source projection happens in numpy, before the call.

The real file fixes its batch axis at 1. :func:`prepare_batch_dynamic` writes a copy with a
symbolic batch axis when (and only when) a batch really gives the same per-item results.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from frameswap.atomic import temp_beside
from frameswap.errors import ModelContractError, ProviderError
from frameswap.models.chunking import run_in_chunks
from frameswap.models.session import SessionOptions, create_session

LATENT_DIM = 512
BATCH_SYMBOL = "batch"
_NUMPY_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def read_emap(path: str | Path) -> np.ndarray:
    """The (512, 512) float32 ``emap``: the initializer named ``emap``, else the last one.

    Every consumer (insightface, facefusion, ReActor) reads ``graph.initializer[-1]``; forks that
    reorder initializers keep the name, so the name wins when present. fp16 copies may store it
    as float16: it is cast to float32.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path), load_external_data=False)
    inits = model.graph.initializer
    if not inits:
        raise ModelContractError(f"{path}: no initializers, so no 'emap' (is this inswapper_128.onnx?)")
    named = [t for t in inits if t.name == "emap"]
    emap = numpy_helper.to_array(named[-1] if named else inits[-1]).astype(np.float32)
    if emap.shape != (LATENT_DIM, LATENT_DIM):
        raise ModelContractError(
            f"{path}: the last initializer has shape {emap.shape}, expected emap (512, 512)"
        )
    return emap


def _batch_capacity(dim0: object) -> int | None:
    """None for a symbolic batch axis (any size), else the fixed size."""
    return dim0 if isinstance(dim0, int) and dim0 > 0 else None


class InswapperModel:
    """One inswapper session. ``run`` takes any number of faces and calls the session as few
    times as the batch axis allows (one call when it is symbolic, else one per face)."""

    def __init__(
        self,
        session: Any,  # an onnxruntime.InferenceSession, or a test double
        emap: np.ndarray,
        *,
        image_input: str,
        latent_input: str,
        output: str,
        batch_capacity: int | None,
        input_size: int = 128,
        input_dtype: type = np.float32,
        latent_dtype: type = np.float32,
        max_batch: int = 64,
    ) -> None:
        self.session = session
        self.emap = emap
        self.image_input = image_input
        self.latent_input = latent_input
        self.output = output
        self.batch_capacity = batch_capacity  # None: symbolic; 1: loop; k: chunks of k (padded)
        self.input_size = input_size
        self.input_dtype = input_dtype  # float16 for fp16 exports that declare half inputs
        self.latent_dtype = latent_dtype
        self.max_batch = max_batch  # bounds memory when the axis is symbolic

    @property
    def batched(self) -> bool:
        """True when one session call can take several faces."""
        return self.batch_capacity is None or self.batch_capacity > 1

    @classmethod
    def from_path(
        cls, path: str | Path, session_options: SessionOptions = SessionOptions()
    ) -> InswapperModel:
        """Load the session and ``emap``; check the I/O contract."""
        session = create_session(path, session_options)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 2 or len(outputs) != 1:
            raise ModelContractError(
                f"{path}: inswapper needs 2 inputs and 1 output, found {len(inputs)} and {len(outputs)}"
            )
        image, latent = inputs
        shape = list(image.shape)
        if len(shape) != 4 or not isinstance(shape[2], int) or shape[2] != shape[3]:
            raise ModelContractError(f"{path}: input {image.name!r} is {shape}, expected [N,3,S,S]")
        if len(latent.shape) != 2 or latent.shape[1] != LATENT_DIM:
            raise ModelContractError(f"{path}: input {latent.name!r} is {latent.shape}, expected [N,512]")
        for inp in inputs:
            if inp.type not in _NUMPY_DTYPES:
                raise ModelContractError(f"{path}: input {inp.name!r} is {inp.type}, expected float")
        return cls(
            session,
            read_emap(path),
            image_input=image.name,
            latent_input=latent.name,
            output=outputs[0].name,
            batch_capacity=_batch_capacity(shape[0]),
            input_size=int(shape[2]),
            input_dtype=_NUMPY_DTYPES[image.type],
            latent_dtype=_NUMPY_DTYPES[latent.type],
        )

    def project(self, normed_embedding: np.ndarray) -> np.ndarray:
        """insightface's source latent: ``l2norm(normed_embedding @ emap)``, float32 (512,)."""
        latent = np.asarray(normed_embedding, dtype=np.float32).reshape(1, -1)
        if latent.shape[1] != LATENT_DIM:
            raise ModelContractError(
                f"inswapper needs a 512-D ArcFace embedding, got {latent.shape[1]}-D "
                "(use the insightface analyzer for the inswapper engine)"
            )
        latent = np.dot(latent, self.emap)
        latent /= np.linalg.norm(latent)
        return latent[0]

    def _call(self, blobs: np.ndarray, latents: np.ndarray) -> np.ndarray:
        feeds: dict[str, np.ndarray] = {
            self.image_input: np.ascontiguousarray(blobs, dtype=self.input_dtype),
            self.latent_input: np.ascontiguousarray(latents, dtype=self.latent_dtype),
        }
        return np.asarray(self.session.run([self.output], feeds)[0], dtype=np.float32)

    def run(self, blobs: np.ndarray, latents: np.ndarray) -> np.ndarray:
        """(N,3,S,S) RGB [0,1] crops + (N,512) latents → (N,3,S,S) float32 (not clipped)."""
        n = len(blobs)
        if n != len(latents):
            raise ModelContractError(f"{n} crops but {len(latents)} latents")
        if n == 0:
            return np.zeros((0, 3, self.input_size, self.input_size), np.float32)
        return run_in_chunks(self._call, [blobs, latents], capacity=self.batch_capacity,
                             max_batch=self.max_batch)


def _rewrite_batch_axis(model: Any, symbol: str) -> None:  # an onnx.ModelProto
    """Make dim 0 of every graph input and output symbolic; drop stale intermediate shapes."""
    graph = model.graph
    init_names = {t.name for t in graph.initializer}
    for info in [*graph.input, *graph.output]:
        if info.name in init_names:
            continue
        dims = info.type.tensor_type.shape.dim
        if len(dims):
            dims[0].Clear()
            dims[0].dim_param = symbol
    del graph.value_info[:]


def _batch_agrees(path: Path, session_options: SessionOptions, sizes: tuple[int, ...], seed: int) -> bool:
    """Run batches of ``sizes`` and the same items one by one; True when every item matches."""
    session = create_session(path, session_options)
    inputs = session.get_inputs()
    out = session.get_outputs()[0].name
    rng = np.random.default_rng(seed)
    size = inputs[0].shape[2]
    dtype = _NUMPY_DTYPES.get(inputs[0].type, np.float32)
    for n in sizes:
        # items of clearly different brightness, so a graph that mixes items cannot pass
        levels = np.linspace(1.0, 0.2, n, dtype=np.float32).reshape(n, 1, 1, 1)
        blobs = (rng.random((n, 3, size, size), dtype=np.float32) * levels).astype(dtype)
        latents = rng.standard_normal((n, LATENT_DIM)).astype(np.float32)
        latents /= np.linalg.norm(latents, axis=1, keepdims=True)
        latents = latents.astype(_NUMPY_DTYPES.get(inputs[1].type, np.float32))
        batch = session.run([out], {inputs[0].name: blobs, inputs[1].name: latents})[0]
        if batch.shape[0] != n:
            return False
        for i in range(n):
            feeds = {inputs[0].name: blobs[i : i + 1], inputs[1].name: latents[i : i + 1]}
            single = session.run([out], feeds)[0].astype(np.float32)
            if not np.allclose(batch[i : i + 1].astype(np.float32), single, rtol=1e-3, atol=1e-3):
                return False
    return True


def prepare_batch_dynamic(
    src_path: str | Path,
    dst_path: str | Path,
    session_options: SessionOptions = SessionOptions(),
    *,
    check_sizes: tuple[int, ...] = (2, 3),
) -> bool:
    """Write a copy of an inswapper file whose batch axis is symbolic, if the graph allows it.

    Rewrites dim 0 of the graph's inputs and outputs, re-runs ONNX shape inference, then checks
    with onnxruntime that batches of ``check_sizes`` give the same per-item results as single
    runs. Reshape nodes with batch 1 baked into their shape constants either fail at run time or
    silently mix the items: both make this return False, leave nothing at ``dst_path``, and the
    caller loops over faces. ``emap`` stays the last initializer (initializers are untouched).
    The copy is written atomically.
    """
    import onnx

    src_path, dst_path = Path(src_path), Path(dst_path)
    model = onnx.load(str(src_path))
    _rewrite_batch_axis(model, BATCH_SYMBOL)
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:  # onnx raises InferenceError / ValidationError subclasses
        return False
    dst_path.parent.mkdir(parents=True, exist_ok=True)
    with temp_beside(dst_path, ".tmp") as tmp:
        onnx.save(model, str(tmp))
        try:
            ok = _batch_agrees(tmp, session_options, check_sizes, seed=0)
        except ProviderError:
            raise
        except Exception:  # onnxruntime's own types (a Reshape that cannot take the batch...)
            ok = False
        if ok:
            os.replace(tmp, dst_path)
        return ok
