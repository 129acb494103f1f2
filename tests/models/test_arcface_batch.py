"""ArcFace: one batched run equals single runs; insightface's normalisation scan."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from frameswap.faces.insightface_backend import embed_faces
from frameswap.models.arcface import ArcFace, scan_normalisation
from frameswap.models.session import SessionOptions
from kit.synthetic_detection import build_w600k_r50

CPU = SessionOptions(providers=("cpu",), intra_op_threads=1)


class CountingSession:
    """Wraps a session and counts run calls, to prove the batch goes through in one call."""

    def __init__(self, session):
        self._session = session
        self.calls = 0
        self.batch_sizes: list[int] = []

    def __getattr__(self, name):
        return getattr(self._session, name)

    def run(self, names, feeds):
        self.calls += 1
        self.batch_sizes.append(next(iter(feeds.values())).shape[0])
        return self._session.run(names, feeds)


def test_embeddings_of_many_faces_in_one_call_equal_single_calls(synthetic_models_dir):
    rec = ArcFace.from_path(synthetic_models_dir / "w600k_r50.onnx", CPU)
    rng = np.random.default_rng(7)
    images = [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(3)]
    base = np.array([[30, 40], [60, 40], [45, 58], [33, 75], [58, 75]], np.float32)
    kps = [
        np.stack([base * rng.uniform(0.8, 1.6) + rng.uniform(0, 150, 2) for _ in range(n)]).astype(np.float32)
        for n in (2, 3, 1)
    ]
    counting = CountingSession(rec.session)
    rec.session = counting
    batched = embed_faces(rec, images, kps)
    assert counting.calls == 1 and counting.batch_sizes == [6]
    assert [b.shape for b in batched] == [(2, 512), (3, 512), (1, 512)]
    for image, per_image, embs in zip(images, kps, batched, strict=True):
        for points, emb in zip(per_image, embs, strict=True):
            single = embed_faces(rec, [image], [points[None]])[0][0]
            np.testing.assert_allclose(emb, single, atol=1e-5)
    # Different faces give different embeddings (the model is not constant).
    assert np.abs(batched[0][0] - batched[0][1]).max() > 1e-2


def test_normalisation_scan_matches_insightface():
    assert scan_normalisation(["Flatten_0", "Gemm_1"]) == (127.5, 127.5)
    assert scan_normalisation(["Sub_0", "Mul_1", "Conv_2"]) == (0.0, 1.0)
    assert scan_normalisation(["_minus0", "_mul1"]) == (0.0, 1.0)
    assert scan_normalisation(["Sub_0", "Conv_1"]) == (127.5, 127.5)  # both are needed
    late = ["Conv"] * 8 + ["Sub_8", "Mul_9"]
    assert scan_normalisation(late) == (127.5, 127.5)  # only the first 8 nodes count


def test_from_path_reads_mxnet_style_normalisation(tmp_path):
    x = helper.make_tensor_value_info("data", TensorProto.FLOAT, ["None", 3, 112, 112])
    y = helper.make_tensor_value_info("fc1", TensorProto.FLOAT, ["None", 37632])
    nodes = [
        helper.make_node("Sub", ["data", "c"], ["a"], name="Sub_0"),
        helper.make_node("Mul", ["a", "c"], ["b"], name="Mul_1"),
        helper.make_node("Flatten", ["b"], ["fc1"], name="Flatten_2"),
    ]
    init = [helper.make_tensor("c", TensorProto.FLOAT, [1], [1.0])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], init),
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "mx.onnx"
    path.write_bytes(model.SerializeToString())
    rec = ArcFace.from_path(path, CPU)
    assert (rec.input_mean, rec.input_std) == (0.0, 1.0)
    synthetic = ArcFace.from_path(build_w600k_r50(tmp_path / "w.onnx"), CPU)
    assert (synthetic.input_mean, synthetic.input_std) == (127.5, 127.5)
