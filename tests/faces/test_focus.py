"""Focus: only the people a swap replaces get landmarks and are followed; everyone is still
numbered as before. Oracles: the unfocused analysis of the same frames, and dlib's own
``analyze``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from frameswap.faces.analyzer import Landmarker
from frameswap.faces.dlib_backend import DlibAnalyzer
from frameswap.faces.follow import SequenceTracker
from frameswap.faces.geometry import box_iou
from frameswap.faces.select import StreamingIndex
from frameswap.faces.types import Face
from frameswap.options import TrackerOptions

PAN = 4  # pixels the window moves right per frame


@pytest.fixture(scope="module")
def frames(t1) -> list[np.ndarray]:
    return [np.ascontiguousarray(t1[150:500, 200 + PAN * i : 860 + PAN * i]) for i in range(10)]  # 3 people


class CountingFits:
    """The real analyzer, counting the faces whose landmarks it fits (the cost focus saves)."""

    def __init__(self, inner: DlibAnalyzer) -> None:
        self.inner, self.name = inner, inner.name
        self.fitted = 0

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        found = self.inner.analyze(images, embed=embed)
        self.fitted += sum(len(f) for f in found)
        return found

    def locate(self, images):
        return self.inner.locate(images)

    def add_landmarks(self, images, faces):
        self.fitted += sum(1 for fs in faces for f in fs if f.landmarks is None)
        return self.inner.add_landmarks(images, faces)

    def describe(self, images, faces, *, embed=True):
        self.fitted += sum(len(f) for f in faces)
        return self.inner.describe(images, faces, embed=embed)

    def embed(self, images, faces):
        return self.inner.embed(images, faces)


def _analysed(analyzer, frames, wanted):
    index = StreamingIndex(wanted=wanted)
    sequence = SequenceTracker(analyzer, TrackerOptions(), focus=None if wanted is None else index)
    out = []
    for i, rgb in enumerate(frames):
        faces = sequence.process([(i, rgb)])[0]
        index.observe(i, faces)
        out.append(faces)
    return index, out, sequence


def test_locate_then_add_landmarks_is_analyze(analyzer, frames):
    assert isinstance(analyzer, Landmarker)
    reference = analyzer.analyze(frames[:2], embed=False)
    located = analyzer.locate(frames[:2])
    assert all(f.landmarks is None for faces in located for f in faces)
    fitted = analyzer.add_landmarks(frames[:2], located)
    assert [len(f) for f in fitted] == [len(f) for f in reference] and len(reference[0]) >= 3
    for got, want in zip(fitted, reference, strict=True):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.box, b.box)
            np.testing.assert_array_equal(a.landmarks, b.landmarks)
            np.testing.assert_array_equal(a.kps, b.kps)
            assert a.score == b.score


def test_focus_fits_only_the_wanted_person_and_numbers_everyone_the_same(analyzer, frames):
    everyone = CountingFits(analyzer)
    index_all, all_faces, all_seq = _analysed(everyone, frames, None)
    focused = CountingFits(analyzer)
    index_one, one_faces, one_seq = _analysed(focused, frames, {1})
    people = index_all.count
    assert people >= 3
    assert index_one.index_of == index_all.index_of  # the same people under the same numbers
    wanted_track = next(t for t, i in index_all.index_of.items() if i == 1)
    for i, (a, b) in enumerate(zip(all_faces, one_faces, strict=True)):
        want = [f for f in a if f.track_id == wanted_track]
        got = [f for f in b if f.track_id == wanted_track]
        assert len(want) == len(got) == 1, i
        assert got[0].landmarks is not None
        if i == 0:  # found by the same full detection: analysed exactly as without focus
            np.testing.assert_array_equal(got[0].box, want[0].box)
            np.testing.assert_array_equal(got[0].landmarks, want[0].landmarks)
        else:  # later detected near its track (a crop), or followed: the same face
            assert box_iou(got[0].box, want[0].box) > 0.85, i
            assert np.abs(got[0].landmarks - want[0].landmarks).mean() < 3.0, i
    assert everyone.fitted >= people * len(frames) - 2
    assert focused.fitted <= len(frames) + 2  # the one wanted face a frame (and no more than a retry)
    # after frame 0 every scheduled detection only looked near the wanted face
    assert all_seq.detections == len(frames) // 2
    assert one_seq.detections == 1 and one_seq.follower.stats.anchored == len(frames) // 2 - 1


def test_a_wanted_face_that_left_leaves_no_ghost(analyzer, frames, t1):
    empty = np.ascontiguousarray(t1[600:950, 420:1080])  # the table: nobody
    assert not analyzer.analyze([empty], embed=False)[0]
    clip = frames[:5] + [np.ascontiguousarray(np.roll(empty, 3 * i, axis=1)) for i in range(6)]
    index, faces, sequence = _analysed(analyzer, clip, {1})
    assert all(any(index.index_of.get(f.track_id) == 1 for f in fs) for fs in faces[:5])
    assert faces[5:] == [[]] * 6  # no face is followed or anchored onto the table
    assert sequence.detections >= 6  # nothing wanted in sight: full detections again, every frame


def _scripted(size: float, cx: float, emb: float) -> Face:
    h = size / 2
    kps = np.array([[cx - h / 2, 100], [cx + h / 2, 100], [cx, 110], [cx - h / 3, 120], [cx + h / 3, 120]])
    return Face(np.array([cx - h, 100 - h, cx + h, 100 + h], np.float32), 0.9, kps.astype(np.float32),
                embedding=np.full(128, emb, np.float32))


class Scripted:
    """Two people on frames 0-3; on frame 4 the second leaves and a third comes in far from both
    (its embedding tells it is someone new). Counts the faces it computes embeddings for."""

    name = "scripted"

    def __init__(self) -> None:
        self.embedded = 0

    def analyze(self, images, *, embed=True):
        out = []
        for im in images:
            i = int(im[0, 0, 0])
            faces = [_scripted(80, 100 + i, 0.0)]
            faces.append(_scripted(60, 300 + i, 0.2) if i < 4 else _scripted(40, 500, 0.4))
            out.append([Face(f.box, f.score, f.kps) for f in faces])  # embeddings only on request
        return out

    def embed(self, images, faces):
        self.embedded += sum(len(f) for f in faces)
        value = {80: 0.0, 60: 0.2, 40: 0.4}  # face size -> who (the embedding value)
        return [[Face(f.box, f.score, f.kps, embedding=np.full(128, value[round(float(f.box[2] - f.box[0]))],
                                                               np.float32)) for f in fs] for fs in faces]

    def describe(self, images, faces, *, embed=True):
        """Gap filling looks for a person who left: nobody there (follow quality 0)."""
        from dataclasses import replace

        return [[replace(f, score=0.0) for f in fs] for fs in faces]


def _frame(i: int) -> np.ndarray:
    img = np.zeros((2, 2, 3), np.uint8)
    img[0, 0, 0] = i
    return img


@pytest.mark.parametrize("wanted, embeds", [({0}, False), ({0, 2}, True), (None, True)])
def test_a_newcomer_is_told_apart_only_while_it_could_be_a_wanted_person(wanted, embeds):
    analyzer = Scripted()
    index = StreamingIndex(wanted=wanted)
    sequence = SequenceTracker(analyzer, TrackerOptions(detect_every=1),
                               focus=None if wanted is None else index)
    for i in range(6):
        index.observe(i, sequence.process([(i, _frame(i))])[0])
    assert index.count == 3  # the newcomer is a new person either way
    # on frame 4 person 0 is placed by position and person 1 is gone: the newcomer could be person
    # 1 back. Once index 0 is all that is wanted that changes nothing swapped, so no descriptor;
    # while index 2 is wanted and unnumbered, who the newcomer is decides what is swapped.
    assert (analyzer.embedded > 0) == embeds
