"""Tiny ONNX stand-ins for SCRFD ``det_10g`` and ArcFace ``w600k_r50`` with the exact real contracts.

Names, ranks, declared shapes and the normalisation trap are those of docs/models.md §0/§8, so the
real pre/post-processing (ours and insightface's) cannot tell them from the real files.

The detector answers to image content so a test can put "faces" where it wants: a square blob
of a pure primary colour on a grey background, two strides wide in the detector's input, fires
the anchors of one stride: red → stride 8 (smallest box), green → 16, blue → 32 (largest box).
Use :func:`paint_face`. Each stride's branch is ``AveragePool(2s, stride s)`` centred on the
anchor → 1×1 Conv → (Sigmoid for scores) → Transpose → Reshape, so scores peak at the anchor
nearest the blob centre and NMS leaves one detection per blob. Boxes are 5s × 6s around the
anchor; keypoints are a plausible upright five-point layout inside the box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STRIDES = (8, 16, 32)
FACE_COLOURS: dict[int, tuple[int, int, int]] = {8: (255, 0, 0), 16: (0, 255, 0), 32: (0, 0, 255)}
# Zero-sum weights: any grey background scores 0 whatever its level; the own colour scores 4.
_SCORE_SIGNS = {8: (2.0, -1.0, -1.0), 16: (-1.0, 2.0, -1.0), 32: (-1.0, -1.0, 2.0)}
_SCORE_GAIN = 3.0
_SCORE_MARGIN = 1.6
# Distances in stride units: left, top, right, bottom; then five (dx, dy) keypoints.
_BOX_DIST = (2.5, 3.0, 2.5, 3.0)
_KPS_DIST = ((-1.0, -0.9), (1.0, -0.9), (0.0, 0.3), (-0.8, 1.4), (0.8, 1.4))
DET_OUTPUT_NAMES = {  # per stride: scores, bbox, kps (the real det_10g names)
    8: ("448", "451", "454"),
    16: ("471", "474", "477"),
    32: ("494", "497", "500"),
}
_OPSET = 13
_IR_VERSION = 8


def _save(graph, path: str | Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = _IR_VERSION
    onnx.checker.check_model(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def build_det_10g(path: str | Path) -> Path:
    """Write a synthetic SCRFD det_10g: ``input.1`` [1,3,'?','?'] → 9 rank-2 outputs."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits, outputs = [], [], {}
    for s in STRIDES:
        pooled = f"pool{s}"
        nodes.append(helper.make_node(
            "AveragePool", ["input.1"], [pooled], name=f"pool_s{s}",
            kernel_shape=[2 * s, 2 * s], strides=[s, s], pads=[s, s, 0, 0], count_include_pad=1,
        ))
        signs = np.array(_SCORE_SIGNS[s], dtype=np.float32)
        score_w = np.stack([signs * _SCORE_GAIN] * 2).reshape(2, 3, 1, 1).astype(np.float32)
        score_b = np.array([-_SCORE_GAIN * _SCORE_MARGIN, -_SCORE_GAIN * _SCORE_MARGIN - 0.5], np.float32)
        box_b = np.array(_BOX_DIST * 2, dtype=np.float32)
        kps_b = np.array([v for pt in _KPS_DIST for v in pt] * 2, dtype=np.float32)
        heads = (
            ("score", 1, score_w, score_b, True),
            ("bbox", 4, np.zeros((8, 3, 1, 1), np.float32), box_b, False),
            ("kps", 10, np.zeros((20, 3, 1, 1), np.float32), kps_b, False),
        )
        for (head, channels, w, b, sigmoid), out_name in zip(heads, DET_OUTPUT_NAMES[s], strict=True):
            prefix = f"{head}{s}"
            inits += [numpy_helper.from_array(w, f"{prefix}_w"), numpy_helper.from_array(b, f"{prefix}_b")]
            conv_out = f"{prefix}_conv"
            nodes.append(helper.make_node("Conv", [pooled, f"{prefix}_w", f"{prefix}_b"], [conv_out],
                                          name=f"conv_{prefix}"))
            if sigmoid:
                nodes.append(helper.make_node("Sigmoid", [conv_out], [f"{prefix}_sig"], name=f"sig_{prefix}"))
                conv_out = f"{prefix}_sig"
            nodes.append(helper.make_node("Transpose", [conv_out], [f"{prefix}_t"], perm=[0, 2, 3, 1],
                                          name=f"tr_{prefix}"))
            shape_name = f"{prefix}_shape"
            inits.append(numpy_helper.from_array(np.array([-1, channels], np.int64), shape_name))
            nodes.append(helper.make_node("Reshape", [f"{prefix}_t", shape_name], [out_name],
                                          name=f"rs_{prefix}"))
            declared = [f"n{s}", channels]  # IF 2.1 rewrites these dims for its static sessions
            outputs[out_name] = helper.make_tensor_value_info(out_name, TensorProto.FLOAT, declared)
    order = [DET_OUTPUT_NAMES[s][k] for k in range(3) for s in STRIDES]  # scores, then bbox, then kps
    graph = helper.make_graph(
        nodes, "det_10g_synthetic",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, "?", "?"])],
        [outputs[name] for name in order], initializer=inits,
    )
    return _save(graph, path)


def build_w600k_r50(path: str | Path, seed: int = 600) -> Path:
    """Write a synthetic ArcFace w600k_r50: ``input.1`` ['None',3,112,112] → ``683`` ['None',512].

    AveragePool(4) → Flatten → MatMul with a fixed random matrix: the embedding depends on every
    region and channel of the aligned crop, so a wrong crop, colour order or normalisation shows.
    No node name starts with Sub/Mul (insightface would then switch to raw 0-255 input).
    """
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    features = 3 * 28 * 28
    weight = (rng.standard_normal((features, 512)) / np.sqrt(features)).astype(np.float32)
    nodes = [
        helper.make_node("AveragePool", ["input.1"], ["pooled"], name="AveragePool_0",
                         kernel_shape=[4, 4], strides=[4, 4]),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="Flatten_1", axis=1),
        helper.make_node("MatMul", ["flat", "fc_w"], ["683"], name="Gemm_2"),
    ]
    graph = helper.make_graph(
        nodes, "w600k_r50_synthetic",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", 512])],
        initializer=[numpy_helper.from_array(weight, "fc_w")],
    )
    return _save(graph, path)


def det_scale_for(image_shape: tuple[int, ...], det_size: tuple[int, int] = (640, 640)) -> float:
    """The letterbox scale insightface/SCRFD applies to an image of this shape."""
    img_h, img_w = image_shape[:2]
    det_w, det_h = det_size
    new_h = det_h if img_h / img_w > det_h / det_w else int(det_w * (img_h / img_w))
    return new_h / img_h


def paint_face(
    image: np.ndarray, center: tuple[float, float], stride: int, det_size: tuple[int, int] = (640, 640)
) -> np.ndarray:
    """Paint (in place) a blob the synthetic detector reports as one face of the given stride.

    The blob is two strides wide in the detector's input; the reported box is about 5 × 6
    strides there, i.e. ``5 * stride / det_scale`` pixels wide in the image.
    """
    half = stride / det_scale_for(image.shape, det_size)
    cx, cy = center
    x1, y1 = max(0, round(cx - half)), max(0, round(cy - half))
    x2, y2 = min(image.shape[1], round(cx + half)), min(image.shape[0], round(cy + half))
    image[y1:y2, x1:x2] = FACE_COLOURS[stride]
    return image


def build_genderage(path: str | Path) -> Path:
    """Write a synthetic buffalo_l genderage: ``data`` ['None',3,96,96] → ``fc1`` ['None',3].

    The real file's contract (docs/models.md §0): raw 0-255 RGB in, the normalisation inside the graph,
    which insightface detects by a first node named ``bn_data`` (so mean 0, std 1). Here the crop
    is averaged per channel and mixed: female score = mean red - mean blue, male score = mean blue
    - mean red, age / 100 = 0.2 + mean green / 1000. A red :func:`paint_face` face is female, a
    blue one male; a green one ties, which insightface's argmax reads as female.
    """
    from onnx import TensorProto, helper, numpy_helper

    # rows: the input channels R, G, B; columns: female, male, age/100
    weight = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 1e-3], [-1.0, 1.0, 0.0]], np.float32)
    bias = np.array([0.0, 0.0, 0.2], np.float32)
    nodes = [
        helper.make_node("Identity", ["data"], ["normalised"], name="bn_data"),
        helper.make_node("GlobalAveragePool", ["normalised"], ["pooled"], name="pool0"),
        helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten0", axis=1),
        helper.make_node("MatMul", ["flat", "fc_w"], ["mixed"], name="fc0"),
        helper.make_node("Add", ["mixed", "fc_b"], ["fc1"], name="fc1_add"),
    ]
    graph = helper.make_graph(
        nodes, "genderage_synthetic",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["None", 3, 96, 96])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["None", 3])],
        initializer=[numpy_helper.from_array(weight, "fc_w"), numpy_helper.from_array(bias, "fc_b")],
    )
    return _save(graph, path)
