"""The inswapper engine against insightface's own INSwapper, on synthetic contract models."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from frameswap.engines.base import FaceSkippedWarning, SwapEngine, SwapJob
from frameswap.engines.inswapper import InswapperEngine, InswapperSource
from frameswap.errors import FaceError, ModelContractError, ModelNotFoundError
from frameswap.models.inswapper import InswapperModel, prepare_batch_dynamic
from kit.synthetic_swap import (
    SessionSpy,
    insightface_reference,
    insightface_swapper,
    source_face,
    target_face,
)
from kit.synthetic_swap import template_kps as kps_at

# Per frame: the faces (kps), applied in this order. Frame 1 has two overlapping faces (the
# second must be cropped from the frame the first was pasted into) and one partly off the frame.
LAYOUT = [
    [kps_at(80, 120, 0.6, 10), kps_at(235, 110, 0.7, -15)],
    [kps_at(120, 120, 0.8, 0), kps_at(165, 135, 0.6, 20), kps_at(300, 30, 0.7, 30)],
    [kps_at(160, 120, 1.2, -5)],
]
# Faces far enough apart that all of them can go through one model call.
SEPARATE = [
    [kps_at(70, 120, 0.6, 5), kps_at(245, 120, 0.6, -5)],
    [kps_at(80, 80, 0.5, 0), kps_at(240, 170, 0.55, 12)],
    [kps_at(160, 120, 0.7, -20)],
]


def _jobs(engine, layout, seed0=0):
    sources = [[source_face(seed0 + 10 * i + j) for j in range(len(faces))] for i, faces in enumerate(layout)]
    jobs = [
        [SwapJob(target_face(k), engine.prepare_source(None, s)) for k, s in zip(faces, srcs, strict=True)]
        for faces, srcs in zip(layout, sources, strict=True)
    ]
    return jobs, sources


def _reference(path, session, swap_frames, layout, sources):
    swapper = insightface_swapper(path, session)
    triples = zip(swap_frames, layout, sources, strict=True)
    return [insightface_reference(swapper, f, t, s) for f, t, s in triples]


def _max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> int:
    return max(int(np.abs(x.astype(int) - y.astype(int)).max()) for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("batch", ["static", "dynamic"])
def test_matches_insightface_for_several_faces_per_frame(swap_model_dir, swap_frames, batch):
    path = swap_model_dir / f"inswapper_{batch}.onnx"
    engine = InswapperEngine.from_path(path)
    assert isinstance(engine, SwapEngine)
    assert engine.model.batched == (batch == "dynamic")
    jobs, sources = _jobs(engine, LAYOUT)
    before = [f.copy() for f in swap_frames]
    ours = engine.swap(swap_frames, jobs)
    ref = _reference(path, engine.model.session, swap_frames, LAYOUT, sources)
    assert _max_diff(ours, ref) <= 1
    assert all(np.array_equal(a, b) for a, b in zip(swap_frames, before, strict=True)), "inputs modified"
    # the swap really changed every frame (the test would be empty otherwise)
    assert all(np.abs(o.astype(int) - f).mean() > 1.0 for o, f in zip(ours, swap_frames, strict=True))


def test_dynamic_model_swaps_all_faces_of_all_frames_in_one_call(swap_model_dir, swap_frames):
    path = swap_model_dir / "inswapper_dynamic.onnx"
    engine = InswapperEngine.from_path(path)
    spy = SessionSpy(engine.model.session)
    engine.model.session = spy
    jobs, sources = _jobs(engine, SEPARATE, seed0=100)
    ours = engine.swap(swap_frames, jobs)
    assert len(spy.calls) == 1
    assert next(iter(spy.calls[0].values())).shape[0] == 5  # all five faces in that call
    assert _max_diff(ours, _reference(path, spy._session, swap_frames, SEPARATE, sources)) <= 1


def test_static_model_loops_one_face_per_call(swap_model_dir, swap_frames):
    engine = InswapperEngine.from_path(swap_model_dir / "inswapper_static.onnx")
    spy = SessionSpy(engine.model.session)
    engine.model.session = spy
    jobs, _ = _jobs(engine, SEPARATE)
    engine.swap(swap_frames, jobs)
    assert len(spy.calls) == 5
    assert all(c["target"].shape == (1, 3, 128, 128) and c["source"].shape == (1, 512) for c in spy.calls)


def test_overlapping_faces_wait_for_the_face_before_them(swap_model_dir, swap_frames):
    """Two overlapping faces: the second is cropped after the first is pasted (a second call)."""
    path = swap_model_dir / "inswapper_dynamic.onnx"
    engine = InswapperEngine.from_path(path)
    spy = SessionSpy(engine.model.session)
    engine.model.session = spy
    layout = [LAYOUT[1][:2]]
    jobs, sources = _jobs(engine, layout, seed0=7)
    ours = engine.swap(swap_frames[:1], jobs)
    assert len(spy.calls) == 2
    assert _max_diff(ours, _reference(path, spy._session, swap_frames[:1], layout, sources)) <= 1


def test_source_latent_is_insightface_projection_through_last_initializer(swap_model_dir):
    path = swap_model_dir / "inswapper_static.onnx"
    engine = InswapperEngine.from_path(path)
    emap = numpy_helper.to_array(onnx.load(str(path)).graph.initializer[-1])
    face = source_face(3)
    expected = (face.embedding / np.linalg.norm(face.embedding)) @ emap
    expected /= np.linalg.norm(expected)
    latent = engine.prepare_source(None, face)
    assert isinstance(latent, InswapperSource)
    np.testing.assert_allclose(latent.latent, expected, rtol=1e-5, atol=1e-6)
    assert latent.latent.dtype == np.float32


def test_different_sources_give_different_faces(swap_model_dir, swap_frames):
    engine = InswapperEngine.from_path(swap_model_dir / "inswapper_static.onnx")
    k = kps_at(160, 120, 1.0)
    latents = [engine.prepare_source(None, source_face(s)) for s in (1, 2)]
    a, b = (engine.swap(swap_frames[:1], [[SwapJob(target_face(k), lat)]])[0] for lat in latents)
    assert np.abs(a.astype(int) - b).max() > 20


def test_batch_dynamic_copy_of_a_friendly_graph(swap_model_dir, swap_frames, tmp_path):
    src = swap_model_dir / "inswapper_friendly.onnx"
    dst = tmp_path / "friendly_dynamic.onnx"
    assert prepare_batch_dynamic(src, dst)
    proto = onnx.load(str(dst))
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.initializer[-1].name == "emap"
    np.testing.assert_array_equal(
        numpy_helper.to_array(proto.graph.initializer[-1]),
        numpy_helper.to_array(onnx.load(str(src)).graph.initializer[-1]),
    )
    made = tmp_path / "made_by_engine.onnx"
    engine = InswapperEngine.from_path(src, batch_dynamic_copy=made)  # makes the copy on first use
    assert engine.model.batched and made.is_file()
    spy = SessionSpy(engine.model.session)
    engine.model.session = spy
    jobs, sources = _jobs(engine, SEPARATE, seed0=30)
    ours = engine.swap(swap_frames, jobs)
    assert len(spy.calls) == 1
    original = InswapperModel.from_path(src)  # batch results equal the original file's, per face
    assert _max_diff(ours, _reference(src, original.session, swap_frames, SEPARATE, sources)) <= 1


@pytest.mark.parametrize("variant", ["hardcoded", "silent"])
def test_batch_dynamic_copy_refused_when_graph_bakes_batch_one(swap_model_dir, variant, tmp_path):
    dst = tmp_path / f"{variant}_dynamic.onnx"
    assert prepare_batch_dynamic(swap_model_dir / f"inswapper_{variant}.onnx", dst) is False
    assert not dst.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file left behind


def test_engine_falls_back_to_loop_when_copy_refused(swap_model_dir, swap_frames, tmp_path):
    src = swap_model_dir / "inswapper_hardcoded.onnx"
    engine = InswapperEngine.from_path(src, batch_dynamic_copy=tmp_path / "copy.onnx")
    assert not engine.model.batched
    spy = SessionSpy(engine.model.session)
    engine.model.session = spy
    jobs, sources = _jobs(engine, SEPARATE, seed0=50)
    ours = engine.swap(swap_frames, jobs)
    assert len(spy.calls) == 5
    assert _max_diff(ours, _reference(src, spy._session, swap_frames, SEPARATE, sources)) <= 1


@pytest.mark.parametrize(
    "kps",
    [
        np.full((5, 2), 100.0, np.float32),  # coincident points
        kps_at(100, 100) * np.array([1, np.nan], np.float32),  # NaN
        kps_at(-600, -400, 0.6),  # wholly off the frame
        kps_at(900, 120, 0.6),
    ],
    ids=["coincident", "nan", "off-top-left", "off-right"],
)
def test_unusable_face_is_skipped_with_warning(swap_model_dir, swap_frames, kps):
    engine = InswapperEngine.from_path(swap_model_dir / "inswapper_dynamic.onnx")
    src = engine.prepare_source(None, source_face(0))
    with pytest.warns(FaceSkippedWarning, match="face 0"):
        out = engine.swap(swap_frames[:1], [[SwapJob(target_face(kps), src)]])
    assert np.array_equal(out[0], swap_frames[0])


def test_insightface_itself_crashes_on_an_off_frame_face(swap_model_dir, swap_frames):
    """Why the guard exists: the reference raises on an empty mask."""
    path = swap_model_dir / "inswapper_static.onnx"
    swapper = insightface_swapper(path, InswapperModel.from_path(path).session)
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        insightface_reference(swapper, swap_frames[0], [kps_at(-600, -400, 0.6)], [source_face(0)])


def test_good_faces_still_swapped_next_to_a_skipped_one(swap_model_dir, swap_frames):
    path = swap_model_dir / "inswapper_static.onnx"
    engine = InswapperEngine.from_path(path)
    good = kps_at(160, 120, 0.8)
    bad = np.full((5, 2), 50.0, np.float32)
    src = source_face(4)
    latent = engine.prepare_source(None, src)
    with pytest.warns(FaceSkippedWarning, match="face 1"):
        jobs = [SwapJob(target_face(good), latent), SwapJob(target_face(bad), latent)]
        out = engine.swap(swap_frames[:1], [jobs])
    ref = _reference(path, engine.model.session, swap_frames[:1], [[good]], [[src]])
    assert _max_diff(out, ref) <= 1


def test_frames_without_jobs_pass_through(swap_model_dir, swap_frames):
    engine = InswapperEngine.from_path(swap_model_dir / "inswapper_dynamic.onnx")
    out = engine.swap(swap_frames, [[], [], []])
    assert all(np.array_equal(a, b) for a, b in zip(out, swap_frames, strict=True))


def test_missing_model_raises_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError):
        InswapperEngine.from_path(tmp_path / "inswapper_128.onnx")


def test_wrong_model_raises_contract_error(swap_model_dir):
    with pytest.raises(ModelContractError):
        InswapperEngine.from_path(swap_model_dir / "gfpgan.onnx")


def test_source_without_arcface_embedding_is_refused(swap_model_dir):
    engine = InswapperEngine.from_path(swap_model_dir / "inswapper_static.onnx")
    with pytest.raises(FaceError):
        engine.prepare_source(None, target_face(kps_at(50, 50)))
    dlib_like = replace(source_face(0), embedding=np.ones(128, np.float32))
    with pytest.raises(ModelContractError, match="512"):
        engine.prepare_source(None, dlib_like)
