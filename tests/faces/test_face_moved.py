"""``Face.moved``: a face carried between a frame and a crop of it points at the same pixels."""

from __future__ import annotations

import numpy as np

from frameswap.faces.types import Face


def _face(rng: np.random.Generator) -> Face:
    pts = rng.uniform(20, 60, size=(68, 2)).astype(np.float32)
    box = np.array([*pts.min(axis=0), *pts.max(axis=0)], np.float32)
    return Face(box=box, score=0.9, kps=pts[[36, 45, 30, 48, 54]].copy(), landmarks=pts,
                embedding=rng.normal(size=128).astype(np.float32), track_id=3)


def test_points_in_a_crop_land_on_the_same_pixels() -> None:
    rng = np.random.default_rng(7)
    frame = rng.integers(0, 256, size=(90, 120, 3), dtype=np.uint8)
    face = _face(rng)
    x0, y0 = 11, 5
    crop = frame[y0:, x0:]
    local = face.moved(-x0, -y0)
    for before, after in ((face.landmarks, local.landmarks), (face.kps, local.kps),
                          (face.box.reshape(2, 2), local.box.reshape(2, 2))):
        assert after is not None and before is not None
        ib, ia = np.floor(before).astype(int), np.floor(after).astype(int)
        np.testing.assert_array_equal(frame[ib[:, 1], ib[:, 0]], crop[ia[:, 1], ia[:, 0]])
    assert local.track_id == 3 and local.embedding is face.embedding  # where it is is all that changes
    back = local.moved(x0, y0)
    np.testing.assert_allclose(back.landmarks, face.landmarks, atol=1e-4)
    assert back.box.dtype == np.float32 and back.kps.dtype == np.float32


def test_a_face_without_landmarks_stays_without() -> None:
    face = Face(box=np.array([0, 0, 4, 4], np.float32), score=1.0, kps=np.zeros((5, 2), np.float32))
    moved = face.moved(2.5, -1.0)
    assert moved.landmarks is None
    np.testing.assert_allclose(moved.box, [2.5, -1.0, 6.5, 3.0])
