"""Face restorers (GFPGAN, CodeFormer in both input namings) on synthetic contract models."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.engines.base import FaceSkippedWarning
from frameswap.engines.restoration import FaceRestorer, plan_restore
from frameswap.errors import ModelContractError, ModelNotFoundError, OptionsError
from frameswap.faces.types import Face
from frameswap.testing.synthetic_swap import GFPGAN_OFFSETS, SessionSpy, target_face
from frameswap.testing.synthetic_swap import template_kps as kps_at

RESTORERS = {
    "gfpgan.onnx": "gfpgan-1.4",
    "codeformer_facefusion.onnx": "codeformer",
    "codeformer_hs.onnx": "codeformer",
    "codeformer_scalar.onnx": "codeformer",
}
FACE = target_face(kps_at(160, 120, 0.9, 8))


def paste_mask(restorer: FaceRestorer, frame_shape: tuple[int, ...], face: Face) -> np.ndarray:
    """The (H, W) soft mask through which ``restore`` pastes ``face`` (zeros where it is skipped),
    from the plan ``restore`` itself makes."""
    full = np.zeros(frame_shape[:2], np.float32)
    plan = plan_restore(frame_shape, face.kps, restorer.model.size)
    if not isinstance(plan, str):
        x0, y0, x1, y1 = plan.roi
        full[y0:y1, x0:x1] = plan.mask[:, :, 0]
    return full


def _restorer(swap_model_dir, name, **kwargs) -> FaceRestorer:
    return FaceRestorer.from_path(swap_model_dir / name, RESTORERS.get(name, "gfpgan-1.4"), **kwargs)


@pytest.mark.parametrize("name", sorted(RESTORERS))
def test_only_pixels_inside_the_face_mask_change(swap_model_dir, swap_frames, name):
    restorer = _restorer(swap_model_dir, name, weight=0.7)
    frame = swap_frames[0]
    out = restorer.restore([frame], [[FACE]])[0]
    mask = paste_mask(restorer, frame.shape, FACE)
    outside, inside = mask == 0, mask > 0.99
    assert outside.sum() > 0.3 * mask.size and inside.sum() > 5000
    assert np.array_equal(out[outside], frame[outside])
    changed = np.any(out != frame, axis=2)
    assert changed[inside].mean() > 0.9


def test_gfpgan_sees_rgb_in_minus_one_to_one(swap_model_dir, swap_frames):
    """The synthetic GFPGAN maps x to c - 0.9x with a different c per RGB channel: the restored
    face must show exactly that map, which fails for BGR input or a wrong normalisation."""
    restorer = _restorer(swap_model_dir, "gfpgan.onnx")
    frame = swap_frames[1]
    out = restorer.restore([frame], [[FACE]])[0].astype(np.float64)
    x = frame.astype(np.float64) / 127.5 - 1.0
    expected = (np.clip(np.array(GFPGAN_OFFSETS) - 0.9 * x, -1, 1) + 1) * 127.5
    inside = paste_mask(restorer, frame.shape, FACE) > 0.99
    err = np.abs(out - expected)[inside]
    assert np.median(err) <= 3.0


@pytest.mark.parametrize(
    ("name", "shape"),
    [("codeformer_facefusion.onnx", (1,)), ("codeformer_hs.onnx", (1,)), ("codeformer_scalar.onnx", ())],
)
def test_codeformer_weight_reaches_the_model_as_float64(swap_model_dir, swap_frames, name, shape):
    results = []
    for weight in (0.2, 0.9):
        restorer = _restorer(swap_model_dir, name, weight=weight)
        spy = SessionSpy(restorer.model.session)
        restorer.model.session = spy
        results.append(restorer.restore([swap_frames[0]], [[FACE]])[0])
        (feeds,) = spy.calls
        (w,) = [v for v in feeds.values() if v.dtype == np.float64]
        assert w.shape == shape and float(w.reshape(-1)[0]) == weight
    inside = paste_mask(restorer, swap_frames[0].shape, FACE) > 0.99
    assert np.abs(results[0].astype(int) - results[1])[inside].mean() > 10


def test_blend_zero_leaves_frame_unchanged_and_half_blend_is_between(swap_model_dir, swap_frames):
    frame = swap_frames[2]
    full = _restorer(swap_model_dir, "gfpgan.onnx", blend=1.0).restore([frame], [[FACE]])[0]
    half = _restorer(swap_model_dir, "gfpgan.onnx", blend=0.5).restore([frame], [[FACE]])[0]
    none = _restorer(swap_model_dir, "gfpgan.onnx", blend=0.0).restore([frame], [[FACE]])[0]
    assert np.array_equal(none, frame)
    inside = paste_mask(_restorer(swap_model_dir, "gfpgan.onnx"), frame.shape, FACE) > 0.99
    d_full = np.abs(full.astype(float) - frame)[inside].mean()
    d_half = np.abs(half.astype(float) - frame)[inside].mean()
    assert 0.4 < d_half / d_full < 0.6


def test_batched_restorer_runs_every_face_in_one_call(swap_model_dir, swap_frames):
    faces = [[FACE, target_face(kps_at(60, 60, 0.5))], [FACE], []]
    batched = _restorer(swap_model_dir, "gfpgan_dynamic.onnx")
    looped = _restorer(swap_model_dir, "gfpgan.onnx")
    spies = []
    for r in (batched, looped):
        spies.append(SessionSpy(r.model.session))
        r.model.session = spies[-1]
    a = batched.restore(swap_frames, faces)
    b = looped.restore(swap_frames, faces)
    assert [len(s.calls) for s in spies] == [1, 3]
    assert all(np.abs(x.astype(int) - y).max() <= 1 for x, y in zip(a, b, strict=True))
    assert np.array_equal(a[2], swap_frames[2])  # a frame without faces passes through


@pytest.mark.parametrize(
    "kps",
    [np.full((5, 2), 80.0, np.float32), kps_at(-900, -900, 0.8)],
    ids=["degenerate", "off-frame"],
)
def test_unusable_face_is_skipped_with_warning(swap_model_dir, swap_frames, kps):
    restorer = _restorer(swap_model_dir, "codeformer_hs.onnx")
    with pytest.warns(FaceSkippedWarning):
        out = restorer.restore([swap_frames[0]], [[target_face(kps)]])[0]
    assert np.array_equal(out, swap_frames[0])


def test_hosted_api_names_and_options(swap_model_dir, tmp_path):
    assert FaceRestorer.from_path(swap_model_dir / "gfpgan.onnx", "GFPGANv1.3.pth").kind == "gfpgan-1.3"
    cf = FaceRestorer.from_path(swap_model_dir / "codeformer_hs.onnx", "codeformer-v0.1.0.pth")
    assert cf.kind == "codeformer" and cf.model.weight_input is not None
    with pytest.raises(OptionsError):
        FaceRestorer.from_path(swap_model_dir / "gfpgan.onnx", "none")
    with pytest.raises(OptionsError):
        FaceRestorer.from_path(swap_model_dir / "codeformer_hs.onnx", "codeformer", weight=1.5)
    with pytest.raises(OptionsError):
        FaceRestorer.from_path(swap_model_dir / "gfpgan.onnx", "gfpgan-1.4", blend=-0.1)


def test_missing_restorer_raises_model_not_found(tmp_path):
    with pytest.raises(ModelNotFoundError):
        FaceRestorer.from_path(tmp_path / "codeformer.onnx", "codeformer")


def test_inswapper_file_is_not_a_restorer(swap_model_dir):
    with pytest.raises(ModelContractError):
        FaceRestorer.from_path(swap_model_dir / "inswapper_static.onnx", "gfpgan-1.4")
