"""Tiny ONNX stand-ins for ``inswapper_128.onnx``, GFPGAN and CodeFormer, with the real contracts.

The real files cannot be downloaded in CI, so tests run our pre/post-processing on these doubles:
same input/output names, dtypes, shapes and ``emap`` position (MODELS.md sections 0 and 8).
Each output depends on every input (the latent, the CodeFormer weight) so a test can tell when
an input was dropped or mis-bound. Everything is deterministic (seeded).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Literal

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from frameswap.atomic import atomic_output
from frameswap.faces.geometry import arcface_template
from frameswap.faces.types import Face

OPSET = 13
INSWAPPER_SIZE = 128
LATENT_DIM = 512
RESTORER_SIZE = 512
GFPGAN_OFFSETS = (0.2, -0.1, 0.05)  # per RGB channel, see build_gfpgan


def save_model(model: onnx.ModelProto, path: str | Path) -> Path:
    """Check ``model`` and write it atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.checker.check_model(model)
    with atomic_output(path) as tmp:  # an interrupted build never leaves a truncated model
        onnx.save(model, str(tmp))
    return path


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.15
    return model


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def _pattern(size: int) -> np.ndarray:
    """A fixed smooth (1, 3, size, size) pattern in [0, 1]: makes the latent's effect spatial."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    chans = [0.5 + 0.5 * np.sin(6.0 * xx + c) * np.cos(4.0 * yy - c) for c in range(3)]
    return np.stack(chans)[None].astype(np.float32)


def _emap(rng: np.random.Generator) -> onnx.TensorProto:
    return numpy_helper.from_array(_orthogonal(rng, LATENT_DIM), name="emap")


def inswapper_model(
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    name: str,
    rng: np.random.Generator,
    batch: int | str = 1,
) -> onnx.ModelProto:
    """Wrap a graph body in ``inswapper_128.onnx``'s exact contract: inputs ``target``
    [batch,3,128,128] and ``source`` [batch,512], output ``output`` [batch,3,128,128], and a random
    orthogonal ``emap`` appended as the LAST initializer (where every consumer reads it)."""
    s = INSWAPPER_SIZE
    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info("target", TensorProto.FLOAT, [batch, 3, s, s]),
            helper.make_tensor_value_info("source", TensorProto.FLOAT, [batch, LATENT_DIM]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 3, s, s])],
        initializer=[*inits, _emap(rng)],
    )
    return _model(graph)


def build_inswapper(
    path: str | Path, batch: Literal["static", "dynamic"] = "static", seed: int = 0
) -> Path:
    """An ``inswapper_128.onnx`` double: ``target`` [1|batch,3,128,128] + ``source`` [1|batch,512].

    ``output = 0.6*target + pattern * (source @ W)`` per channel, plus 0.2: it depends on the
    latent and can leave [0, 1], so callers' clipping is exercised. ``emap`` is the LAST
    initializer, a random orthogonal float32 (512, 512) matrix, unused by the graph (as far as
    anyone knows, like the real file).
    """
    rng = np.random.default_rng(seed)
    dim0: int | str = 1 if batch == "static" else "batch"
    s = INSWAPPER_SIZE
    inits = [
        numpy_helper.from_array((rng.standard_normal((LATENT_DIM, 3)) * 0.6).astype(np.float32), "W"),
        numpy_helper.from_array(_pattern(s), "pattern"),
        numpy_helper.from_array(np.array([-1, 3, 1, 1], dtype=np.int64), "shape4"),
        numpy_helper.from_array(np.array(0.6, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(0.2, dtype=np.float32), "offset"),
    ]
    nodes = [
        helper.make_node("MatMul", ["source", "W"], ["strength"], name="MatMul_0"),
        helper.make_node("Reshape", ["strength", "shape4"], ["strength4"], name="Reshape_1"),
        helper.make_node("Mul", ["strength4", "pattern"], ["identity"], name="Mul_2"),
        helper.make_node("Mul", ["target", "gain"], ["kept"], name="Mul_3"),
        helper.make_node("Add", ["kept", "identity"], ["mixed"], name="Add_4"),
        helper.make_node("Add", ["mixed", "offset"], ["output"], name="Add_5"),
    ]
    return save_model(inswapper_model(nodes, inits, "inswapper_128_synthetic", rng, dim0), path)


def build_inswapper_realistic(
    path: str | Path,
    reshape: Literal["hardcoded", "friendly", "silent"] = "hardcoded",
    seed: int = 0,
) -> Path:
    """A static-batch inswapper double whose graph has Reshape/Gemm nodes, as exporters write them.

    - ``hardcoded``: Reshape shape constants say ``[1, 49152]`` / ``[1, 3, 1, 1]``: a batch of 2
      fails at run time, so a batch-dynamic rewrite must be refused.
    - ``friendly``: the same graph with ``0`` / ``-1`` in the shapes: rewriting the batch axis works.
    - ``silent``: flattens to ``[1, -1]`` and normalises over that axis, so a batch of 2 *runs*
      but mixes the items; only a per-item comparison catches it.
    """
    rng = np.random.default_rng(seed)
    s = INSWAPPER_SIZE
    flat = 3 * s * s
    shapes = {
        "hardcoded": ([1, flat], [1, 3, 1, 1], [1, 3, s, s]),
        "friendly": ([0, -1], [-1, 3, 1, 1], [-1, 3, s, s]),
        "silent": ([1, -1], [-1, 3, 1, 1], [-1, 3, s, s]),
    }[reshape]
    inits = [
        numpy_helper.from_array((rng.standard_normal((LATENT_DIM, 3)) * 0.6).astype(np.float32), "gemm_w"),
        numpy_helper.from_array(np.full((3,), 0.2, dtype=np.float32), "gemm_b"),
        numpy_helper.from_array(np.array(shapes[0], dtype=np.int64), "flat_shape"),
        numpy_helper.from_array(np.array(shapes[1], dtype=np.int64), "bias_shape"),
        numpy_helper.from_array(np.array(shapes[2], dtype=np.int64), "image_shape"),
        numpy_helper.from_array(np.array(0.6, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "centre_gain"),
    ]
    nodes = [
        helper.make_node("Reshape", ["target", "flat_shape"], ["flat"], name="Reshape_0"),
        helper.make_node("Mul", ["flat", "gain"], ["flat_scaled"], name="Mul_1"),
    ]
    if reshape == "silent":  # a per-row statistic over the flattened axis: mixes items of a batch
        nodes += [
            helper.make_node("ReduceMean", ["flat"], ["row_mean"], axes=[1], keepdims=1, name="Mean_2"),
            helper.make_node("Mul", ["row_mean", "centre_gain"], ["row_shift"], name="Mul_3"),
            helper.make_node("Sub", ["flat_scaled", "row_shift"], ["flat_out"], name="Sub_4"),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["flat_scaled"], ["flat_out"], name="Identity_2"))
    nodes += [
        helper.make_node("Reshape", ["flat_out", "image_shape"], ["image"], name="Reshape_5"),
        helper.make_node("Gemm", ["source", "gemm_w", "gemm_b"], ["bias"], name="Gemm_6"),
        helper.make_node("Reshape", ["bias", "bias_shape"], ["bias4"], name="Reshape_7"),
        helper.make_node("Add", ["image", "bias4"], ["output"], name="Add_8"),
    ]
    model = inswapper_model(nodes, inits, f"inswapper_128_realistic_{reshape}", rng)
    model = onnx.shape_inference.infer_shapes(model)  # value_info with batch 1, like real exports
    return save_model(model, path)


def build_gfpgan(
    path: str | Path, batch: Literal["static", "dynamic"] = "static", size: int = RESTORER_SIZE
) -> Path:
    """A GFPGAN v1.x double: ``input`` [1,3,512,512] RGB [-1,1] → ``output``, same layout.

    ``output = c - 0.9*input`` with ``c = (0.2, -0.1, 0.05)`` per RGB channel: every pixel
    changes, differently per channel (so a BGR/RGB mix-up shows), and some values leave [-1, 1],
    so callers' clipping runs.
    """
    dim0: int | str = 1 if batch == "static" else "batch"
    inits = [
        numpy_helper.from_array(np.array(0.9, dtype=np.float32), "k"),
        numpy_helper.from_array(np.array(GFPGAN_OFFSETS, dtype=np.float32).reshape(1, 3, 1, 1), "c"),
    ]
    nodes = [
        helper.make_node("Mul", ["input", "k"], ["scaled"], name="Mul_0"),
        helper.make_node("Sub", ["c", "scaled"], ["output"], name="Sub_1"),
    ]
    graph = helper.make_graph(
        nodes,
        "gfpgan_synthetic",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [dim0, 3, size, size])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [dim0, 3, size, size])],
        initializer=inits,
    )
    return save_model(_model(graph), path)


def build_codeformer(
    path: str | Path,
    naming: Literal["facefusion", "hs", "scalar"] = "facefusion",
    size: int = RESTORER_SIZE,
) -> Path:
    """A CodeFormer double whose output really uses the float64 fidelity weight ``w``.

    ``output = x + w * (0.3 - 2x)``: w = 0 returns the input, w = 1 returns ``0.3 - x``.

    - ``facefusion``: ``input`` + ``weight`` (double [1]) → ``output``.
    - ``hs`` (harisreedhar / Rope / VisoMaster): ``x`` + ``w`` (double [1]) → ``y``.
    - ``scalar``: a 0-d double ``onnx::Cast_1`` declared FIRST, then ``input``; two outputs
      (callers take the first), like the odd export noted in MODELS.md section 4.1.
    """
    image, weight, out = {"facefusion": ("input", "weight", "output"), "hs": ("x", "w", "y"),
                          "scalar": ("input", "onnx::Cast_1", "output")}[naming]
    weight_shape: list[int] = [] if naming == "scalar" else [1]
    inits = [
        numpy_helper.from_array(np.array(0.3, dtype=np.float32), "c"),
        numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two"),
    ]
    nodes = [
        helper.make_node("Cast", [weight], ["w32"], to=TensorProto.FLOAT, name="Cast_0"),
        helper.make_node("Mul", [image, "two"], ["x2"], name="Mul_1"),
        helper.make_node("Sub", ["c", "x2"], ["delta"], name="Sub_2"),
        helper.make_node("Mul", ["delta", "w32"], ["step"], name="Mul_3"),
        helper.make_node("Add", [image, "step"], [out], name="Add_4"),
    ]
    image_info = helper.make_tensor_value_info(image, TensorProto.FLOAT, [1, 3, size, size])
    weight_info = helper.make_tensor_value_info(weight, TensorProto.DOUBLE, weight_shape)
    inputs = [weight_info, image_info] if naming == "scalar" else [image_info, weight_info]
    outputs = [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, 3, size, size])]
    if naming == "scalar":
        nodes.append(helper.make_node("Identity", ["w32"], ["aux"], name="Identity_5"))
        outputs.append(helper.make_tensor_value_info("aux", TensorProto.FLOAT, weight_shape))
    graph = helper.make_graph(nodes, f"codeformer_synthetic_{naming}", inputs, outputs, initializer=inits)
    return save_model(_model(graph), path)


# --- drivers for tests and benchmarks of the swap engines --------------------------------------


def template_kps(cx: float, cy: float, scale: float = 1.0, angle: float = 0.0) -> np.ndarray:
    """Five plausible keypoints: the ArcFace template centred at (cx, cy), scaled and rotated."""
    t = arcface_template(112).astype(np.float64) - 56.0
    a = np.deg2rad(angle)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (t @ rot.T * scale + [cx, cy]).astype(np.float32)


def target_face(kps: np.ndarray) -> Face:
    """A target face record around five keypoints."""
    x0, y0 = kps.min(axis=0)
    x1, y1 = kps.max(axis=0)
    return Face(box=np.array([x0, y0, x1, y1], np.float32), score=0.9, kps=kps)


def source_face(seed: int) -> Face:
    """A source face carrying a random (un-normalised) 512-D ArcFace-like embedding."""
    emb = np.random.default_rng(seed).standard_normal(512).astype(np.float32) * 20
    return Face(box=np.zeros(4, np.float32), score=0.9, kps=template_kps(50, 50), embedding=emb)


def insightface_swapper(path: Path, session):
    """insightface's own INSwapper on the same file and session (it prints its input shape)."""
    from insightface.model_zoo.inswapper import INSwapper

    with contextlib.redirect_stdout(io.StringIO()):
        return INSwapper(model_file=str(path), session=session)


def insightface_reference(swapper, frame_rgb: np.ndarray, targets: list[np.ndarray], sources: list[Face]):
    """insightface's result, RGB: ``get(..., paste_back=True)`` once per face, in order, on BGR."""
    from insightface.app.common import Face as IFace

    img = np.ascontiguousarray(frame_rgb[..., ::-1])
    for kps, src in zip(targets, sources, strict=True):
        target = IFace(bbox=np.zeros(4, np.float32), kps=kps, det_score=0.9)
        source = IFace(bbox=np.zeros(4, np.float32), kps=src.kps, embedding=src.embedding)
        img = swapper.get(img, target, source, paste_back=True)
    return np.ascontiguousarray(img[..., ::-1])


class SessionSpy:
    """Wraps an onnxruntime session and records the feeds of every ``run`` call."""

    def __init__(self, session) -> None:
        self._session = session
        self.calls: list[dict[str, np.ndarray]] = []

    def run(self, output_names, feeds, *args, **kwargs):
        self.calls.append({k: np.array(v) for k, v in feeds.items()})
        return self._session.run(output_names, feeds, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._session, name)
