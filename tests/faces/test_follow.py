"""Detect-some-frames-follow-the-rest, against a scripted fake analyzer."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from frameswap.errors import OptionsError
from frameswap.faces.follow import FaceFollower
from frameswap.faces.geometry import iou_matrix
from frameswap.faces.track import FaceTracker
from frameswap.faces.types import Face
from frameswap.media.types import Frame, FrameTiming
from frameswap.options import TrackerOptions
from frameswap.pipeline.analysis import analyze_target


def face(cx: float, cy: float, size: float, emb: np.ndarray | None = None) -> Face:
    h = size / 2
    box = np.array([cx - h, cy - h, cx + h, cy + h], dtype=np.float32)
    kps = np.array(
        [[cx - h / 2, cy], [cx + h / 2, cy], [cx, cy], [cx - h / 3, cy + h / 2], [cx + h / 3, cy + h / 2]]
    )
    return Face(box=box, score=0.9, kps=kps.astype(np.float32), embedding=emb)


class FakeAnalyzer:
    """Knows the true faces of every frame; an image's pixel (0, 0, 0) holds its frame number.

    ``describe`` plays a landmark refresher: given a box, it snaps to the true face it overlaps
    (with that face's embedding), or returns a collapsed box when no face is there any more.
    """

    name = "fake"

    def __init__(self, truth: list[list[Face]]):
        self.truth = truth
        self.analyzed: list[int] = []
        self.described: list[int] = []

    @staticmethod
    def frame(i: int) -> np.ndarray:
        img = np.zeros((2, 2, 3), np.uint8)
        img[0, 0, 0] = i
        return img

    def analyze(self, images, *, embed=True):
        self.analyzed += [int(im[0, 0, 0]) for im in images]
        return [list(self.truth[int(im[0, 0, 0])]) for im in images]

    def embed(self, images, faces):  # the scripted faces carry their embeddings already
        return [list(f) for f in faces]

    def describe(self, images, faces, *, embed=True):
        out = []
        for im, given in zip(images, faces, strict=True):
            i = int(im[0, 0, 0])
            self.described.append(i)
            truth = self.truth[i]
            refreshed = []
            for f in given:
                ious = iou_matrix(f.box[None], np.array([t.box for t in truth]))[0] if truth else []
                if len(ious) and ious.max() > 0.1:
                    t = truth[int(np.argmax(ious))]
                    refreshed.append(replace(f, box=t.box, kps=t.kps, embedding=t.embedding))
                else:
                    cx, cy = float(f.box[0] + f.box[2]) / 2, float(f.box[1] + f.box[3]) / 2
                    refreshed.append(replace(f, box=np.array([cx, cy, cx + 1, cy + 1], np.float32)))
            out.append(refreshed)
        return out


def run(truth, detect_every):
    analyzer = FakeAnalyzer(truth)
    follower = FaceFollower(analyzer, FaceTracker(TrackerOptions(max_missed_frames=5)), detect_every)
    out = [follower.process(FakeAnalyzer.frame(i), i) for i in range(len(truth))]
    return analyzer, follower, out


def test_detects_on_schedule_and_follows_with_fresh_boxes_in_between():
    truth = [[face(100 + 6 * t, 100, 80), face(300, 200 - 4 * t, 60)] for t in range(10)]
    analyzer, follower, out = run(truth, detect_every=3)
    assert analyzer.analyzed == [0, 3, 6, 9]
    assert analyzer.described == [1, 2, 4, 5, 7, 8]
    assert follower.stats.detections_per_frame == pytest.approx(0.4)
    for t, faces in enumerate(out):
        assert [f.track_id for f in faces] == [0, 1]
        for got, want in zip(faces, truth[t], strict=True):
            np.testing.assert_array_equal(got.box, want.box)  # followed boxes are the refreshed ones


def test_a_lost_followed_face_forces_a_detection_on_that_frame():
    truth = [[face(100, 100, 80), face(300, 100, 80)] if t != 4 else [face(300, 100, 80)] for t in range(8)]
    analyzer, follower, out = run(truth, detect_every=4)
    assert analyzer.analyzed == [0, 4]  # frame 4 is also a scheduled one
    truth = [[face(100, 100, 80), face(300, 100, 80)] if t != 2 else [face(300, 100, 80)] for t in range(8)]
    analyzer, follower, out = run(truth, detect_every=4)
    assert analyzer.analyzed == [0, 2, 6]  # forced at 2, then the schedule restarts from there
    assert follower.stats.forced == 1
    assert [f.track_id for f in out[2]] == [1]
    assert [f.track_id for f in out[3]] == [1]  # only followed faces between detections...
    assert [f.track_id for f in out[6]] == [0, 1]  # ...A is found again, with its id, at the next one


def test_a_low_follow_score_forces_a_detection():
    truth = [[face(100, 100, 80)] for _ in range(6)]

    class Doubtful(FakeAnalyzer):
        def describe(self, images, faces, *, embed=True):
            out = super().describe(images, faces, embed=embed)
            return [
                [replace(f, score=0.3 if int(im[0, 0, 0]) == 3 else 0.9) for f in fs]
                for im, fs in zip(images, out, strict=True)
            ]

    analyzer = Doubtful(truth)
    follower = FaceFollower(analyzer, FaceTracker(), detect_every=10)
    ids = [follower.process(FakeAnalyzer.frame(i), i)[0].track_id for i in range(6)]
    assert analyzer.analyzed == [0, 3]
    assert ids == [0] * 6


def test_a_face_followed_onto_another_identity_forces_a_detection():
    rng = np.random.default_rng(0)
    ea, eb = rng.normal(size=512), rng.normal(size=512)
    # A is replaced in place by B at frame 2 (a cut): boxes agree, identity does not
    truth = [[face(100, 100, 80, ea if t < 2 else eb)] for t in range(4)]
    analyzer, _, out = run(truth, detect_every=10)
    assert analyzer.analyzed == [0, 2]
    assert [f[0].track_id for f in out] == [0, 0, 1, 1]


def test_new_faces_are_found_at_the_next_scheduled_detection():
    truth = [[face(100, 100, 80)] + ([face(400, 300, 90)] if t >= 4 else []) for t in range(9)]
    _, _, out = run(truth, detect_every=3)
    assert [len(f) for f in out] == [1, 1, 1, 1, 1, 1, 2, 2, 2]  # entered at 4, found at 6
    assert {f.track_id for f in out[8]} == {0, 1}


def _clip(n: int) -> list[Frame]:
    return [Frame(i, FakeAnalyzer.frame(i), FrameTiming(i, 1, Fraction(1, 25))) for i in range(n)]


def test_the_pipelines_analysis_batches_every_frame_detection_and_matches_the_follower():
    """``analyze_target`` (the pass ``swap`` and ``faces`` run): with detection on every frame it
    sends whole batches to the analyzer; following in between gives the same tracks and boxes."""
    truth = [[face(100 + 5 * t, 100, 80), face(300, 100, 70)] for t in range(7)]

    class Counting(FakeAnalyzer):
        def __init__(self, truth):
            super().__init__(truth)
            self.batches: list[int] = []

        def analyze(self, images, *, embed=True):
            self.batches.append(len(images))
            return super().analyze(images, embed=embed)

    analyzer = Counting(truth)
    every = analyze_target(_clip(7), analyzer, tracker_options=TrackerOptions(detect_every=1), batch_size=3)
    assert analyzer.analyzed == list(range(7)) and analyzer.described == []
    assert analyzer.batches == [3, 3, 1]
    followed = analyze_target(
        _clip(7), FakeAnalyzer(truth), tracker_options=TrackerOptions(detect_every=3), batch_size=3
    )
    for a, b in zip(every.faces, followed.faces, strict=True):
        assert [f.track_id for f in a] == [f.track_id for f in b]
        for fa, fb in zip(a, b, strict=True):
            np.testing.assert_array_equal(fa.box, fb.box)


def test_detect_every_must_be_positive():
    with pytest.raises(OptionsError):
        FaceFollower(FakeAnalyzer([]), FaceTracker(), 0)


def test_only_faces_that_position_cannot_place_need_identity():
    from frameswap.faces.follow import IdentityPolicy, placement

    policy = IdentityPolicy()
    a, b = face(100, 100, 80).with_track(0), face(300, 100, 70).with_track(1)
    moved = [face(104, 100, 80), face(296, 102, 70)]
    assert placement(moved, [a, b], policy) == ([], {0, 1})
    assert placement(moved[:1], [a, b], policy) == ([], {0})  # someone left: the other is still placed
    # a newcomer: unplaced, while person 0 is placed (so the newcomer can only be person 1)
    assert placement([face(104, 100, 80), face(190, 300, 80)], [a, b], policy) == ([1], {0})
    close = [face(100, 100, 80).with_track(0), face(150, 100, 80).with_track(1)]
    assert placement(close, close, policy) == ([0, 1], set())  # overlapping people: identity for both
    assert placement(moved, [], policy) == ([0, 1], set())  # nothing predicted (after a cut)
    assert placement([], [a], policy) == ([], set())
