"""Face index rules: parsing, pairing, indexing people of an animation, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameswap.errors import FaceIndexError, NoFaceError
from frameswap.faces.select import IdentityIndex, StreamingIndex, pair_indexes, parse_indexes
from frameswap.faces.track import FaceTracker
from frameswap.faces.types import Face, sort_large_to_small


def face(cx: float, cy: float, size: float, track_id: int | None = None) -> Face:
    h = size / 2
    box = np.array([cx - h, cy - h, cx + h, cy + h], dtype=np.float32)
    return Face(box=box, score=0.9, kps=np.zeros((5, 2), np.float32), track_id=track_id)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", [0]),
        ("0,1", [0, 1]),
        ("0, 2", [0, 2]),
        (" 3 ,1 ", [3, 1]),
        ("10", [10]),
        (2, [2]),
        ([1, 0], [1, 0]),
    ],
)
def test_parse_indexes_accepts_lists_with_spaces(text, expected):
    assert parse_indexes(text, "input_faces_index") == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a", "'a' is not a non-negative integer"),
        ("0;1", "'0;1'"),
        ("-1", "-1 is negative"),
        ("0,,1", "empty item"),
        ("0,", "empty item"),
        ("1.5", "'1.5'"),
        ("+1", "'+1'"),
        ("٣", "not a non-negative integer"),
    ],
)
def test_parse_indexes_rejects_bad_text_naming_the_field(text, needle):
    with pytest.raises(FaceIndexError) as info:
        parse_indexes(text, "source_faces_index")
    assert "source_faces_index" in str(info.value)
    assert needle in str(info.value)


def test_pairing_by_position_and_one_source_onto_every_target():
    assert pair_indexes([0, 1], [1, 0]) == [(0, 1), (1, 0)]
    assert pair_indexes([0, 2, 3], [1]) == [(0, 1), (2, 1), (3, 1)]
    assert pair_indexes([2], [0]) == [(2, 0)]


def test_pairing_mismatch_is_an_error_not_a_silent_no_op():
    with pytest.raises(FaceIndexError, match="lists 3 faces but source_faces_index lists 2"):
        pair_indexes([0, 1, 2], [0, 1])
    with pytest.raises(FaceIndexError, match="lists 1 face but source_faces_index lists 2"):
        pair_indexes([0], [0, 1])
    with pytest.raises(FaceIndexError, match="more than once"):
        pair_indexes([0, 0], [0, 1])


def streamed(frames: list[list[Face]]) -> StreamingIndex:
    """The index the streaming pipeline builds: every frame's tracked faces, in clip order."""
    index = StreamingIndex()
    for i, faces in enumerate(frames):
        index.observe(i, faces)
    return index


def chosen(faces: list[Face], index: StreamingIndex, targets: list[int]) -> list[Face]:
    """The faces the pipeline swaps for these target indexes, in index order."""
    by_index = {index.index_of[f.track_id]: f for f in faces if f.track_id in index.index_of}
    return [by_index[t] for t in targets if t in by_index]


def still(faces: list[Face]) -> list[Face]:
    """A still image's faces as the pipeline's analysis hands them over: tracked, large first."""
    return FaceTracker().update(sort_large_to_small(faces), 0)


def test_still_image_indexes_are_size_ranks():
    faces = still([face(100, 100, 40), face(300, 100, 90), face(500, 100, 60)])
    index = streamed([faces])
    targets = [t for t, _ in pair_indexes(parse_indexes("0, 2", "input_faces_index"), [0])]
    assert [float(f.box[2] - f.box[0]) for f in chosen(faces, index, targets)] == [90, 40]
    index.check(targets)
    assert IdentityIndex.from_image(faces)[0].faces[2].track_id == chosen(faces, index, [2])[0].track_id


def test_out_of_range_message_says_how_many_faces_were_found():
    index = streamed([still([face(100, 100, 40), face(300, 100, 90)])])
    with pytest.raises(
        FaceIndexError, match="input_faces_index 3 is out of range: 2 faces found in the target"
    ):
        index.check([0, 3])
    with pytest.raises(FaceIndexError, match="input_faces_index 2 is out of range: 2 faces found"):
        IdentityIndex.from_tracks([still([face(100, 100, 40), face(300, 100, 90)])]).track_of(2)
    # the source side ("... 1 face found in the source") goes through the whole pipeline in
    # tests/pipeline/test_run.py::test_index_errors_are_clear_and_write_nothing


def test_no_face_in_the_target_is_an_error():
    # (no face in the source: tests/pipeline/test_run.py::test_no_face_in_source_or_target)
    for frames in ([[]], [[], [], []]):
        with pytest.raises(NoFaceError, match="target"):
            streamed(frames).check([0])
        with pytest.raises(NoFaceError, match="target"):
            IdentityIndex.from_tracks(frames)


def tracked_clip() -> list[list[Face]]:
    """Frame 0 has no face; A (small) and B (large) from frame 1; C, the largest, enters at frame 5;
    A grows and passes B at frame 6."""
    tracker = FaceTracker()
    frames = []
    for t in range(10):
        faces = []
        if t >= 1:
            faces.append(face(100, 100, 40 + 10 * (t - 1)))  # A
            faces.append(face(300, 100, 80))  # B
        if t >= 5:
            faces.append(face(500, 300, 150))  # C
        frames.append(tracker.update(sorted(faces, key=lambda f: -f.area), t))
    return frames


def test_animation_indexes_name_people_from_the_reference_frame_then_newcomers():
    frames = tracked_clip()
    index = IdentityIndex.from_tracks(frames)
    assert index.reference_frame == 1  # the first frame with a face
    sizes = [float(f.box[2] - f.box[0]) for f in index.faces]
    assert sizes == [80, 40, 150]  # B, A at the reference frame, then C who entered later
    assert [(f.first_frame, f.frames_seen) for f in index.faces] == [(1, 9), (1, 9), (5, 5)]
    # index 1 is A in every frame, even after A became the largest face
    for picked in (
        [[f for f in faces if f.track_id == index.track_of(1)] for faces in frames],  # two-pass path
        [chosen(faces, streamed(frames), [1]) for faces in frames],  # streaming path
    ):
        assert [len(c) for c in picked] == [0] + [1] * 9
        assert all(c[0].track_id == index.faces[1].track_id for c in picked[1:])
        assert float(picked[9][0].box[2] - picked[9][0].box[0]) == 120


def test_a_named_reference_frame_reorders_by_its_sizes():
    frames = tracked_clip()
    index = IdentityIndex.from_tracks(frames, reference_frame=8)
    assert [float(f.box[2] - f.box[0]) for f in index.faces] == [150, 110, 80]  # C, A, B at frame 8
    with pytest.raises(NoFaceError, match="reference frame 0"):
        IdentityIndex.from_tracks(frames, reference_frame=0)
    with pytest.raises(FaceIndexError, match="10 frames"):
        IdentityIndex.from_tracks(frames, reference_frame=10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 7), st.integers(5, 60)), max_size=4), max_size=12))
def test_streaming_index_numbers_people_as_from_tracks(frames_spec):
    """Fed frame by frame, the streaming index gives every track the index from_tracks gives it."""
    frames = []
    for frame in frames_spec:
        seen: dict[int, int] = {}
        for track_id, size in frame:
            seen.setdefault(track_id, size)  # one face per person per frame
        frames.append([
            Face(box=np.array([10 * t, 0, 10 * t + s, s], np.float32), score=1.0,
                 kps=np.zeros((5, 2), np.float32), track_id=t)
            for t, s in seen.items()
        ])
    stream = StreamingIndex()
    for i, faces in enumerate(frames):
        stream.observe(i, faces)
    if not any(frames):
        with pytest.raises(NoFaceError):
            IdentityIndex.from_tracks(frames)
        with pytest.raises(NoFaceError):
            stream.check([0])
        return
    index = IdentityIndex.from_tracks(frames)
    assert {f.track_id: f.index for f in index.faces} == stream.index_of
    assert stream.reference_frame == index.reference_frame
    stream.check([len(index.faces) - 1])
    with pytest.raises(FaceIndexError, match=f"{len(index.faces)} face"):
        stream.check([len(index.faces)])
