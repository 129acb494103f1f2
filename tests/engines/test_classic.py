"""The embedded classic engine on real faces: identity moves to the source, the rest stays exact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from frameswap.engines.base import SwapEngine, SwapJob
from frameswap.engines.classic import ClassicEngine, ClassicOptions
from frameswap.errors import NoFaceError, OptionsError
from frameswap.faces.dlib_backend import DlibAnalyzer, box_iou
from frameswap.faces.smooth import LandmarkSmoother


@pytest.fixture(scope="session")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer.from_packages()


@pytest.fixture(scope="session")
def scene(analyzer):
    """t1 (RGB) with its 6 faces, and the astronaut with her face: analysed once."""
    insightface_data = pytest.importorskip("insightface.data")
    from skimage import data

    t1 = np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])  # BGR -> RGB
    astronaut = data.astronaut()
    t1_faces, astro_faces = analyzer.analyze([t1, astronaut])
    assert len(t1_faces) == 6 and len(astro_faces) == 1
    return t1, t1_faces, astronaut, astro_faces[0]


@pytest.fixture(scope="session")
def swapped(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    (out,) = engine.swap([t1], [[SwapJob(f, source) for f in t1_faces]])
    return out


def test_is_a_swap_engine():
    assert isinstance(ClassicEngine(), SwapEngine)
    assert ClassicEngine().name == "classic"


def test_swapped_faces_are_closer_to_the_source_than_to_the_originals(analyzer, scene, swapped):
    _, t1_faces, _, source_face = scene
    (after,) = analyzer.analyze([swapped])
    passed, report = 0, []
    for original in t1_faces:
        match = max(after, key=lambda f: box_iou(f.box, original.box), default=None)
        if match is None or box_iou(match.box, original.box) < 0.3:
            report.append("lost")
            continue
        to_source = float(np.linalg.norm(match.embedding - source_face.embedding))
        to_original = float(np.linalg.norm(match.embedding - original.embedding))
        report.append(f"{to_source:.3f}/{to_original:.3f}")
        passed += to_source < to_original
    print("identity distances (to source / to original):", report)
    assert passed >= 5, report


def test_pixels_outside_the_face_masks_stay_exactly_unchanged(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    frame, union = t1, np.zeros(t1.shape[:2], bool)
    for face in t1_faces:
        frame, mask = engine.swap_face(frame, face, source)
        # the mask is the face's neighbourhood, not the frame
        _, xs = np.nonzero(mask)
        w = face.box[2] - face.box[0]
        assert xs.min() > face.box[0] - w and xs.max() < face.box[2] + w
        union |= mask
    assert np.array_equal(frame[~union], t1[~union])
    assert (frame[union] != t1[union]).any(axis=-1).mean() > 0.5  # and inside, the face changed
    assert union.mean() < 0.15


@pytest.mark.parametrize("blend", ["seamless", "multiband"])
def test_each_blend_mode_keeps_outside_pixels(scene, blend):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine(ClassicOptions(blend=blend))
    source = engine.prepare_source(astronaut, source_face)
    out, mask = engine.swap_face(t1, t1_faces[2], source)
    assert mask.any()
    assert np.array_equal(out[~mask], t1[~mask])


def test_frames_without_jobs_and_inputs_are_untouched(scene):
    t1, t1_faces, astronaut, source_face = scene
    before = t1.copy()
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    out = engine.swap([t1, t1], [[], [SwapJob(t1_faces[0], source)]])
    assert np.array_equal(out[0], t1) and out[0] is not t1
    assert not np.array_equal(out[1], t1)
    assert np.array_equal(t1, before)  # never modifies its inputs


def test_faces_without_landmarks_are_a_clear_error(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    with pytest.raises(NoFaceError):
        engine.prepare_source(astronaut, replace(source_face, landmarks=None))
    source = engine.prepare_source(astronaut, source_face)
    with pytest.raises(NoFaceError):
        engine.swap([t1], [[SwapJob(replace(t1_faces[0], landmarks=None), source)]])
    with pytest.raises(OptionsError):
        ClassicOptions(shape_weight=2.0)


def test_degenerate_target_is_skipped_with_a_warning_not_a_crash(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    flat = replace(t1_faces[0], landmarks=np.full((68, 2), 300.0, np.float32))
    with pytest.warns(UserWarning, match="skipped"):
        (out,) = engine.swap([t1], [[SwapJob(flat, source)]])
    assert np.array_equal(out, t1)


def test_smoothing_reduces_landmark_jitter_on_a_noisy_sequence():
    rng = np.random.default_rng(0)
    base = np.array([[x, y] for x in np.linspace(100, 200, 17) for y in (150.0, 200.0, 250.0, 300.0)])[:68]
    base[36:42] = (120.0, 180.0)
    base[42:48] = (180.0, 180.0)  # eye distance 60 px
    frames = 60
    drift = np.linspace(0, 30, frames)[:, None, None] * np.array([1.0, 0.0])  # slow pan, 0.5 px/frame
    truth = base[None] + drift
    noisy = truth + rng.normal(0, 1.5, truth.shape)
    smoother = LandmarkSmoother()
    smoothed = np.stack([smoother.smooth(7, noisy[t], t) for t in range(frames)])
    jitter = lambda seq: np.abs(np.diff(seq - truth, axis=0)).mean()  # noqa: E731
    error = lambda seq: np.abs(seq - truth)[10:].mean()  # noqa: E731
    assert jitter(smoothed) < 0.4 * jitter(noisy)  # measured 0.29
    assert error(smoothed) < error(noisy)  # smoother AND closer to the truth (little lag)
    assert np.array_equal(smoother.smooth(None, noisy[0], 0), noisy[0])  # stills: untouched
