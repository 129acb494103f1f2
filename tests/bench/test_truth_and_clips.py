"""The hand-annotated truth and the clips built from it: checked against pixels, not against our code.

Oracles: dlib's stock HOG detector (a library, not our pipeline) on the photo; the photo's own
pixels at each annotated face, which must reappear where the truth says in every built frame; the
bundled sample GIF as written by its builder; and the files as decoded by PyAV/Pillow.
"""

from __future__ import annotations

import numpy as np
import pytest

from fsbench.cases import long_gif_truth, ping_pong_order
from fsbench.clips import (
    BLUR_EVERY,
    DARK_EVERY,
    DARK_GAIN,
    build_clip,
    clip_spec,
    defocus,
    render_frames,
    t1_rgb,
    without_blur,
)
from fsbench.rawmedia import iter_rgb
from fsbench.truth import T1_FACES, FrameTruth, View, faces_seen, frame_truth, sample_gif_truth


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _face_match(frame: np.ndarray, box, photo: np.ndarray, face) -> float:
    """Correlation between the photo's face pixels, resized to ``box``, and the frame's pixels there."""
    import cv2

    x0, y0, x1, y1 = (round(v) for v in box)
    fx0, fy0, fx1, fy1 = (round(v) for v in face)
    if x0 < 0 or y0 < 0 or x1 > frame.shape[1] or y1 > frame.shape[0] or x1 - x0 < 8 or y1 - y0 < 8:
        return float("nan")
    ref = cv2.resize(photo[fy0:fy1, fx0:fx1], (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    a = ref.astype(np.float64).ravel() - ref.mean()
    b = frame[y0:y1, x0:x1].astype(np.float64).ravel() - frame[y0:y1, x0:x1].mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))


def _shift(box, dx: float):
    return (box[0] + dx, box[1], box[2] + dx, box[3])


def test_annotated_faces_agree_one_to_one_with_dlibs_stock_hog_detector():
    import dlib

    detections = dlib.get_frontal_face_detector()(t1_rgb(), 0)
    found = [(d.left(), d.top(), d.right(), d.bottom()) for d in detections]
    assert len(found) == len(T1_FACES) == 6
    matches = [max(range(len(found)), key=lambda j, face=face: _iou(face, found[j])) for face in T1_FACES]
    assert sorted(matches) == list(range(6))  # one detection per annotated face
    assert all(_iou(face, found[j]) >= 0.4 for face, j in zip(T1_FACES, matches, strict=True))


def test_a_view_maps_box_edges_and_visibility_follows_the_frame_edges():
    view = View.from_window(100.0, 50.0, 200.0, (100, 50))  # shows x 0..200, y 0..100 at zoom 0.5
    assert view.zoom == 0.5 and (view.left, view.top) == (0.0, 0.0)
    faces = [(20.0, 20.0, 60.0, 60.0), (180.0, 0.0, 220.0, 40.0), (300.0, 0.0, 320.0, 9.0)]
    truth = frame_truth(view, (100, 50), faces)
    assert truth.boxes[0] == (10.0, 10.0, 30.0, 30.0)
    assert truth.visible() == (0,) and truth.present() == (0, 1)
    assert faces_seen([truth, FrameTruth((100, 50), ((0.0, 0.0, 5.0, 5.0),))]) == [0]


@pytest.fixture(scope="module")
def sample_gif(tmp_path_factory):
    from sample_recipe import build_samples

    return build_samples(tmp_path_factory.mktemp("samples")).gif


def test_sample_gif_truth_puts_each_face_where_the_built_gif_shows_it(sample_gif):
    truth = sample_gif_truth()
    frames = list(iter_rgb(sample_gif))
    assert len(frames) == len(truth)
    photo = t1_rgb()
    checked = 0
    for i in (0, 12, 30, len(frames) - 1):
        for face in truth[i].visible():
            box = truth[i].boxes[face]
            here = _face_match(frames[i], box, photo, T1_FACES[face])
            off = _face_match(frames[i], _shift(box, 0.25 * (box[2] - box[0])), photo, T1_FACES[face])
            assert here > 0.9 and here > off + 0.1, (i, face, here, off)
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("name", ["blurdark_gif", "hd_group", "closeup"])
def test_small_clip_matches_its_spec_and_truth(tmp_path, name):
    spec = clip_spec(name, frames=8, width=240)
    path = build_clip(spec, tmp_path / f"{name}{spec.suffix}")
    frames = list(iter_rgb(path))
    assert len(frames) == 8
    assert frames[0].shape == (spec.size[1], spec.size[0], 3)
    truth = spec.truth()
    assert faces_seen(truth), "every clip shows at least one whole face"
    photo = t1_rgb()
    for i, (frame, effect) in enumerate(zip(frames, spec.effects, strict=True)):
        if effect:
            continue
        for face in truth[i].visible():
            box = truth[i].boxes[face]
            here = _face_match(frame, box, photo, T1_FACES[face])
            assert here > 0.85, (i, face, here)


def test_blurdark_frames_are_blurred_and_dark_at_their_offsets(tmp_path):
    import cv2

    spec = clip_spec("blurdark_gif", frames=8)
    frames = list(iter_rgb(build_clip(spec, tmp_path / "bd.gif")))
    sharpness = [cv2.Laplacian(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for f in frames]
    brightness = [float(f.mean()) for f in frames]
    for i in range(8):
        if i % BLUR_EVERY[0] == BLUR_EVERY[1]:
            assert sharpness[i] < 0.2 * sharpness[i - 1], (i, sharpness)
        elif i % DARK_EVERY[0] == DARK_EVERY[1]:
            assert brightness[i] == pytest.approx(DARK_GAIN * brightness[i - 1], rel=0.15)
    assert {"blur", "dark", ""} == set(spec.effects)


def test_the_clip_left_sharp_differs_only_by_the_blur_the_ceiling_adds_back():
    # the blur ceiling's premise: the clip left sharp, defocused where the clip blurs, IS the clip
    spec = clip_spec("blurdark_gif", frames=8, width=160)
    sharp = without_blur(spec)
    assert "blur" not in sharp.effects and sharp.effects.count("dark") == spec.effects.count("dark")
    for effect, clip, left_sharp in zip(spec.effects, render_frames(spec), render_frames(sharp), strict=True):
        if effect == "blur":
            assert not np.array_equal(clip, left_sharp)
            assert np.array_equal(clip, defocus(left_sharp))
        else:
            assert np.array_equal(clip, left_sharp)


def test_blurred_frames_defeat_the_stock_hog_detector_but_sharp_ones_do_not(tmp_path):
    import dlib

    detector = dlib.get_frontal_face_detector()
    spec = clip_spec("blurdark_gif", frames=12)  # full size; frames 1, 5, 9 blurred
    frames = list(iter_rgb(build_clip(spec, tmp_path / "bd.gif")))
    found = {effect: [len(detector(f, 1)) for f, e in zip(frames, spec.effects, strict=True) if e == effect]
             for effect in ("", "blur")}
    assert min(found[""]) >= 1 and sum(found[""]) >= 2 * len(found[""])
    assert sum(found["blur"]) <= 1


def test_build_clip_reuses_a_fresh_file_and_rebuilds_a_changed_recipe(tmp_path):
    spec = clip_spec("closeup", frames=3, width=96)
    path = build_clip(spec, tmp_path / "c.mp4")
    first = path.stat().st_mtime_ns
    assert build_clip(spec, path).stat().st_mtime_ns == first
    build_clip(clip_spec("closeup", frames=4, width=96), path)
    assert len(list(iter_rgb(path))) == 4


def test_long_gif_truth_follows_the_ping_pong():
    truth = sample_gif_truth()
    long = long_gif_truth(truth, 120)
    assert [t for t in long] == [truth[i] for _, i in ping_pong_order(len(truth), 120)]
    assert long[len(truth)] == truth[len(truth) - 2]  # the turn
