"""Face index rules: parsing, pairing, indexing people of an animation, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frameswap.errors import FaceIndexError, NoFaceError
from frameswap.faces.select import IdentityIndex, StreamingIndex, pair_indexes, parse_indexes, select_targets
from frameswap.faces.track import FaceTracker
from frameswap.faces.types import Face


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


def test_still_image_indexes_are_size_ranks():
    faces = [face(100, 100, 40), face(300, 100, 90), face(500, 100, 60)]
    chosen = select_targets([faces], "0, 2", "0", source_face_count=1)[0]
    assert [float(t.face.box[2] - t.face.box[0]) for t in chosen] == [90, 40]
    assert [(t.target_index, t.source_index) for t in chosen] == [(0, 0), (2, 0)]


def test_out_of_range_message_says_how_many_faces_were_found():
    faces = [face(100, 100, 40), face(300, 100, 90)]
    with pytest.raises(
        FaceIndexError, match="input_faces_index 3 is out of range: 2 faces found in the target"
    ):
        select_targets([faces], "0,3", "0", source_face_count=1)
    with pytest.raises(
        FaceIndexError, match="source_faces_index 1 is out of range: 1 face found in the source"
    ):
        select_targets([faces], "0,1", "0,1", source_face_count=1)


def test_no_face_in_source_or_target_is_an_error():
    with pytest.raises(NoFaceError, match="source"):
        select_targets([[face(100, 100, 40)]], "0", "0", source_face_count=0)
    with pytest.raises(NoFaceError, match="target"):
        select_targets([[]], "0", "0", source_face_count=1)
    with pytest.raises(NoFaceError, match="target"):
        select_targets([[], [], []], "0", "0", source_face_count=1)


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
    chosen = select_targets(frames, "1", "0", source_face_count=1)
    assert [len(c) for c in chosen] == [0] + [1] * 9
    assert all(c[0].face.track_id == index.faces[1].track_id for c in chosen[1:])
    assert float(chosen[9][0].face.box[2] - chosen[9][0].face.box[0]) == 120


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
