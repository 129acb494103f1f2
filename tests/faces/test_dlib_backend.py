"""The embedded dlib analyzer on real photos: counts, order, keypoints, descriptors, describe()."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from frameswap.errors import OptionsError, SourceError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.dlib_backend import REDETECT_BELOW, DlibAnalyzer
from frameswap.faces.geometry import box_iou, keypoints_from_68


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return data.astronaut()


@pytest.fixture(scope="session")
def analysed(analyzer, t1, astronaut):
    return analyzer.analyze([t1, astronaut])


def test_is_a_face_analyzer(analyzer):
    assert isinstance(analyzer, FaceAnalyzer)
    assert analyzer.name == "dlib"


def test_finds_six_faces_on_t1_and_one_on_astronaut(analysed):
    t1_faces, astro_faces = analysed
    assert len(t1_faces) == 6
    assert len(astro_faces) == 1  # her mission patch (a HOG false positive at 0.12) is rejected


def test_faces_ordered_large_to_small_with_full_records(analysed):
    for faces in analysed:
        areas = [f.area for f in faces]
        assert areas == sorted(areas, reverse=True)
        for f in faces:
            assert f.box.shape == (4,) and f.kps.shape == (5, 2) and f.landmarks.shape == (68, 2)
            assert f.embedding.shape == (128,)
            x1, y1, x2, y2 = f.box
            # the 68 points lie on the face: their centre is inside the detector's box
            cx, cy = f.landmarks.mean(axis=0)
            assert x1 < cx < x2 and y1 < cy < y2


def test_keypoints_follow_insightface_order(analysed):
    for f in analysed[0] + analysed[1]:
        left_eye, right_eye, nose, mouth_left, mouth_right = f.kps
        assert left_eye[0] < right_eye[0]  # image-left eye first
        assert mouth_left[0] < mouth_right[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < max(mouth_left[1], mouth_right[1]) + 1
        np.testing.assert_allclose(f.kps, keypoints_from_68(f.landmarks))
        np.testing.assert_allclose(f.kps[0], f.landmarks[36:42].mean(axis=0), atol=1e-4)


def test_descriptors_tell_people_apart(analysed):
    t1_faces, astro_faces = analysed
    emb = np.stack([f.embedding for f in t1_faces])
    d = np.linalg.norm(emb[:, None] - emb[None], axis=-1)
    off_diagonal = d[~np.eye(len(emb), dtype=bool)]
    assert off_diagonal.min() > 0.6  # six different people
    assert np.linalg.norm(emb - astro_faces[0].embedding, axis=1).min() > 0.6


@pytest.mark.parametrize("shift", [-4.0, 2.0, 4.0])
def test_describe_refreshes_a_followed_face(analyzer, t1, analysed, shift):
    faces = analysed[0]
    moved = [replace(f, box=f.box + np.float32(shift), track_id=i) for i, f in enumerate(faces)]
    (refreshed,) = analyzer.describe([t1], [moved])
    assert [f.track_id for f in refreshed] == list(range(len(faces)))
    for old, new in zip(faces, refreshed, strict=True):
        drift = float(np.abs(new.landmarks - old.landmarks).mean())
        if new.score < REDETECT_BELOW:  # the quality flags a bad fit: a follower re-detects
            continue
        assert drift < 3.0
        assert np.linalg.norm(new.embedding - old.embedding) < 0.2
        assert box_iou(new.box, old.box) > 0.8  # the box keeps the detector's convention
    assert sum(f.score >= REDETECT_BELOW for f in refreshed) >= 5


def test_describe_flags_a_box_that_slid_off_the_face(analyzer, t1, analysed):
    face = analysed[0][0]
    lost = replace(face, box=np.array([600, 600, 700, 700], np.float32))  # table, no face
    (refreshed,) = analyzer.describe([t1], [[lost]])
    assert refreshed[0].score < REDETECT_BELOW


def test_bad_input_is_a_clear_error(analyzer):
    with pytest.raises(SourceError):
        analyzer.analyze([np.zeros((10, 10), np.uint8)])
    with pytest.raises(OptionsError):
        analyzer.describe([np.zeros((10, 10, 3), np.uint8)], [])
    with pytest.raises(OptionsError):
        DlibAnalyzer(None, None, None, detector_kind="nope")  # type: ignore[arg-type]


def test_blank_image_has_no_face(analyzer):
    assert analyzer.analyze([np.full((120, 160, 3), 128, np.uint8)]) == [[]]
