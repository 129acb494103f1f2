"""Gap filling on real faces: a face the detector misses is followed, a face that left is not."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from frameswap.faces.dlib_backend import DlibAnalyzer
from frameswap.faces.follow import SequenceTracker
from frameswap.faces.gapfill import appearance, similarity
from frameswap.faces.geometry import box_iou
from frameswap.faces.types import Face
from frameswap.options import TrackerOptions

PAN = 4  # pixels the window moves right per frame


class MissingFrames:
    """The real analyzer, except that detection finds nothing on the chosen frames (by content),
    as HOG or CenterFace do on a blurred or dark frame; ``describe`` is the real one."""

    def __init__(self, inner: DlibAnalyzer, blind: Sequence[np.ndarray]) -> None:
        self.inner, self.name = inner, inner.name
        self.blind = [b.tobytes() for b in blind]

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        found = self.inner.analyze(images, embed=embed)
        return [[] if im.tobytes() in self.blind else faces for im, faces in zip(images, found, strict=True)]

    def describe(self, images, faces, *, embed=True):
        return self.inner.describe(images, faces, embed=embed)

    def embed(self, images, faces):
        return self.inner.embed(images, faces)


def _window(t1: np.ndarray, x: int) -> np.ndarray:
    return np.ascontiguousarray(t1[260:500, x : x + 460])


def _tracked(analyzer, frames: list[np.ndarray]) -> list[list[Face]]:
    sequence = SequenceTracker(analyzer, TrackerOptions())
    return sequence.process(list(enumerate(frames)))


def test_a_face_the_detector_misses_is_followed_in_place(analyzer, t1):
    frames = [_window(t1, 420 + PAN * i) for i in range(10)]
    truth = analyzer.analyze(frames, embed=False)
    people = len(truth[0])
    assert people >= 2 and all(len(f) == people for f in truth)
    blind = [3, 4, 7]
    result = _tracked(MissingFrames(analyzer, [frames[i] for i in blind]), frames)
    ids = {f.track_id for f in result[0]}
    for i in blind:
        assert {f.track_id for f in result[i]} == ids  # the same people, no new track
        for face in result[i]:
            # where the real detector puts that face on that frame
            best = max(box_iou(face.box, t.box) for t in truth[i])
            assert best > 0.6, (i, best)


def test_a_face_that_left_ends_its_track_without_a_ghost(analyzer, t1):
    # five frames on two faces, then the window jumps to the table, where nobody is
    frames = [_window(t1, 420 + PAN * i) for i in range(5)]
    empty = np.ascontiguousarray(t1[600:840, 420:880])
    frames += [np.ascontiguousarray(np.roll(empty, 3 * i, axis=1)) for i in range(5)]
    assert not any(analyzer.analyze(frames[5:], embed=False))  # the detector sees nobody there
    result = _tracked(analyzer, frames)
    assert all(result[i] for i in range(5))
    assert not any(result[i] for i in range(5, 10)), [len(r) for r in result]


def test_appearance_matches_the_same_face_in_the_dark_not_another_place(analyzer, t1):
    frame = _window(t1, 420)
    (faces,) = analyzer.analyze([frame], embed=False)
    face = faces[0]
    dark = (frame.astype(np.float32) * 0.35).astype(np.uint8)
    look = appearance(frame, face.kps)
    assert similarity(look, appearance(dark, face.kps)) > 0.9
    elsewhere = face.kps + np.array([0.0, 120.0], np.float32)  # the same shape on the shirt below
    assert similarity(look, appearance(frame, elsewhere)) < 0.5
