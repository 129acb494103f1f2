"""The tracker on hand-built detection sequences: each test breaks if its property breaks."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.faces.geometry import iou_matrix
from frameswap.faces.track import AssociationTuning, FaceTracker, relative_embedding_distance
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.options import TrackerOptions


def face(cx: float, cy: float, size: float, emb: np.ndarray | None = None, score: float = 0.9) -> Face:
    h = size / 2
    box = np.array([cx - h, cy - h, cx + h, cy + h], dtype=np.float32)
    kps = np.array(
        [
            [cx - h / 2, cy - h / 3],
            [cx + h / 2, cy - h / 3],
            [cx, cy],
            [cx - h / 3, cy + h / 2],
            [cx + h / 3, cy + h / 2],
        ],
        dtype=np.float32,
    )
    return Face(box=box, score=score, kps=kps, embedding=emb)


def identities(rng: np.random.Generator, n: int, dim: int = 512) -> list[np.ndarray]:
    return [rng.normal(size=dim).astype(np.float32) for _ in range(n)]


def noisy(vec: np.ndarray, rng: np.random.Generator, amount: float = 0.15) -> np.ndarray:
    """The same person seen again: ArcFace-like jitter (cosine similarity stays well above 0.5)."""
    return (vec + amount * np.linalg.norm(vec) / np.sqrt(vec.size) * rng.normal(size=vec.size)).astype(
        np.float32
    )


def crossing_sequence(rng, with_embeddings: bool):
    """A walks right and grows, B walks left and shrinks: between frames 20 and 21 each
    moves onto the box the other just left, and they swap size order.

    Yields (faces in the detector's order, position of A in that list)."""
    ea, eb = identities(rng, 2)
    for t in range(41):
        a = face(36 + 8 * t, 200, 60 + t, noisy(ea, rng) if with_embeddings else None)
        b = face(364 - 8 * t, 200, 100 - t, noisy(eb, rng) if with_embeddings else None)
        faces = sort_large_to_small([a, b])  # the detector's order flips mid-clip
        yield faces, faces.index(a)


@pytest.mark.parametrize("with_embeddings", [True, False])
def test_two_faces_crossing_and_swapping_size_rank_keep_their_ids(with_embeddings):
    rng = np.random.default_rng(0)
    tracker = FaceTracker(TrackerOptions())
    ids_a: set[int] = set()
    ids_b: set[int] = set()
    a_positions = set()
    for t, (faces, pos_a) in enumerate(crossing_sequence(rng, with_embeddings)):
        tracked = tracker.update(faces, t)
        ids_a.add(tracked[pos_a].track_id)
        ids_b.add(tracked[1 - pos_a].track_id)
        a_positions.add(pos_a)
    assert a_positions == {0, 1}  # the largest face changed person: a per-frame size rank would swap
    assert ids_b == {0}  # B was the larger one in frame 0
    assert ids_a == {1}


def test_identities_decide_when_two_faces_trade_places_abruptly():
    """A cut where two people swap places: overlap and motion both point the wrong way."""
    rng = np.random.default_rng(4)
    ea, eb = identities(rng, 2)
    tracker = FaceTracker()
    for t in range(5):
        tracked = tracker.update([face(100, 100, 90, noisy(ea, rng)), face(300, 100, 80, noisy(eb, rng))], t)
        assert [f.track_id for f in tracked] == [0, 1]
    for t in range(5, 10):
        tracked = tracker.update([face(100, 100, 90, noisy(eb, rng)), face(300, 100, 80, noisy(ea, rng))], t)
        assert [f.track_id for f in tracked] == [1, 0]


def test_face_missing_for_three_frames_keeps_its_id():
    tracker = FaceTracker(TrackerOptions(max_missed_frames=5))
    seen: list[int] = []
    for t in range(20):
        moving = face(100 + 3 * t, 100, 80)  # no embedding: overlap and motion alone must carry it
        other = face(400, 300, 90)
        faces = [other] if 8 <= t <= 10 else [other, moving]
        tracked = tracker.update(faces, t)
        seen += [f.track_id for f in tracked if abs(float(f.box[1]) - 60) < 1e-3]
        assert [f.track_id for f in tracked if abs(float(f.box[1]) - 255) < 1e-3] == [0]
    assert set(seen) == {1}
    assert len(seen) == 17


def test_face_leaving_for_thirty_frames_comes_back_with_its_id():
    rng = np.random.default_rng(1)
    ea, eb = identities(rng, 2)
    tracker = FaceTracker(TrackerOptions(max_missed_frames=5))
    ids_a = []
    for t in range(60):
        faces = [face(450, 240, 120, noisy(eb, rng))]
        if t < 10:
            faces.append(face(100, 100, 90, noisy(ea, rng)))
        elif t >= 40:  # back, elsewhere in the frame: only the identity can tell it is A
            faces.append(face(600, 400, 70, noisy(ea, rng)))
        tracked = tracker.update(faces, t)
        ids_a += [f.track_id for f in tracked if f.area < 120 * 120 - 1]
    assert set(ids_a) == {1}  # B came first in frame 0's list, so A is 1
    assert len(ids_a) == 30


def test_a_different_person_in_the_same_place_gets_a_new_id():
    rng = np.random.default_rng(2)
    ea, ec = identities(rng, 2)
    tracker = FaceTracker(TrackerOptions(max_missed_frames=5))
    first = [tracker.update([face(100, 100, 90, noisy(ea, rng))], t)[0].track_id for t in range(5)]
    later = [tracker.update([face(100, 100, 90, noisy(ec, rng))], t)[0].track_id for t in range(5, 10)]
    assert set(first) == {0}
    assert set(later) == {1}


def dlib_like_people(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two dlib descriptors as real ones are: norm ~1.45, Euclidean 0.7 apart (different people by
    dlib's 0.6 rule) yet only ~0.12 apart in cosine distance."""
    base = rng.normal(size=128)
    base *= 1.45 / np.linalg.norm(base)
    step = rng.normal(size=128)
    step -= step.dot(base) / base.dot(base) * base
    step *= 0.7 / np.linalg.norm(step)
    return base.astype(np.float32), (base + step).astype(np.float32)


def test_dlib_descriptors_are_compared_by_their_own_rule():
    rng = np.random.default_rng(3)
    a, c = dlib_like_people(rng)
    opts, tuning = TrackerOptions(), AssociationTuning()
    cosine = 1 - a.dot(c) / (np.linalg.norm(a) * np.linalg.norm(c))
    assert cosine < opts.embedding_threshold  # a cosine rule would call them one person
    assert relative_embedding_distance(a, c, opts, tuning) > 1.0
    # A leaves, C appears where A was after the gap: C must not inherit A's id
    tracker = FaceTracker(TrackerOptions(max_missed_frames=2))
    assert tracker.update([face(100, 100, 90, a)], 0)[0].track_id == 0
    assert tracker.update([face(300, 300, 90, c)], 10)[0].track_id == 1
    jitter = a + rng.normal(scale=0.02, size=128).astype(np.float32)  # Euclidean ~0.23: same person
    assert tracker.update([face(500, 100, 90, jitter)], 40)[0].track_id == 0


def test_new_faces_get_new_ids_in_order_of_appearance_and_reset_restarts():
    tracker = FaceTracker()
    assert [f.track_id for f in tracker.update([face(100, 100, 90), face(300, 100, 50)], 0)] == [0, 1]
    tracked = tracker.update([face(100, 100, 90), face(500, 300, 120), face(300, 100, 50)], 1)
    assert [f.track_id for f in tracked] == [0, 2, 1]
    tracker.reset()
    assert tracker.update([face(300, 100, 50)], 0)[0].track_id == 0


def test_update_keeps_faces_and_order_and_handles_empty_frames():
    tracker = FaceTracker()
    assert tracker.update([], 0) == []
    faces = [face(100, 100, 90), face(300, 100, 50)]
    tracked = tracker.update(faces, 1)
    for before, after in zip(faces, tracked, strict=True):
        assert np.array_equal(before.box, after.box) and before.score == after.score


def test_iou_matrix_values():
    a = np.array([[0, 0, 10, 10]], dtype=np.float32)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 0, 0]], dtype=np.float32)
    np.testing.assert_allclose(iou_matrix(a, b)[0], [1.0, 50 / 150, 0.0, 0.0])


def test_predict_moves_the_box_by_the_velocity():
    tracker = FaceTracker()
    for t in range(3):
        tracker.update([face(100 + 10 * t, 100, 80)], t)
    (guess,) = tracker.predict(3)
    assert guess.track_id == 0
    assert float(guess.box[0] + guess.box[2]) / 2 == pytest.approx(130, abs=2.0)
    assert float(guess.kps[2, 0]) == pytest.approx(130, abs=2.0)
