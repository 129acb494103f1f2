"""The identity figures' bookkeeping on frames whose answer is known by construction.

A stub analyzer stands in for dlib: each frame's face has a chosen yaw and descriptor, so which
faces count as turned, as on a blurred frame or as the rest, and which lie closer to the source,
is written down here by hand.
"""

from __future__ import annotations

import numpy as np

from frameswap.faces.types import Face
from fsbench.quality import identity_and_jitter

BOX = (10.0, 10.0, 40.0, 40.0)
SOURCE, ORIGINAL = np.zeros(128), np.full(128, 0.1)
NEAR_SOURCE, NEAR_ORIGINAL = np.full(128, 0.02), np.full(128, 0.08)


def _landmarks(nose_x: float) -> np.ndarray:
    """68 points whose only parts the yaw reading uses: jaw ends at x 0 and 100, eyes at 30 and
    70 on one line, the nose tip at ``nose_x`` (50: frontal; 5: turned far past 30 degrees)."""
    pts = np.zeros((68, 2), np.float32)
    pts[0], pts[16], pts[30] = (0, 50), (100, 50), (nose_x, 60)
    pts[36:42], pts[42:48] = (30, 40), (70, 40)
    return pts


class _Stub:
    """Answers by the frame's marker pixel: source photo, original frame t, swapped frame t."""

    def __init__(self, yaws: list[float], after: list[np.ndarray]) -> None:
        self.yaws, self.after = yaws, after

    def analyze(self, images: list[np.ndarray]) -> list[list[Face]]:
        out = []
        for image in images:
            kind, t = int(image[0, 0, 0]), int(image[0, 0, 1])
            if kind == 1:
                embedding, points = SOURCE, _landmarks(50)
            else:
                embedding = ORIGINAL if kind == 2 else self.after[t]
                points = _landmarks(self.yaws[t])
            box, kps = np.array(BOX, np.float32), np.zeros((5, 2), np.float32)
            out.append([Face(box, 0.9, kps, points, embedding)])
        return out


def _frames(kind: int, value: int, n: int) -> list[np.ndarray]:
    frames = []
    for t in range(n):
        rgb = np.full((50, 50, 3), value, np.uint8)
        rgb[0, 0, :2] = (kind, t)
        frames.append(rgb)
    return frames


def test_faces_are_split_into_turned_blurred_and_the_rest() -> None:
    # frame 0 frontal and swapped well; 1 frontal on a blurred frame, read as the original;
    # 2 turned, read as the original; 3 frontal, read as the source
    noses = [50.0, 50.0, 5.0, 48.0]
    after = [NEAR_SOURCE, NEAR_ORIGINAL, NEAR_ORIGINAL, NEAR_SOURCE]
    stub = _Stub(noses, after)
    source = _frames(1, 0, 1)[0]
    figures = identity_and_jitter(stub, source, _frames(2, 0, 4), _frames(3, 100, 4),
                                  blurred=(False, True, False))
    assert figures["identity_faces"] == 4
    assert figures["identity_turned_faces"] == 1 and figures["identity_blurred_faces"] == 1
    assert figures["identity_closer_to_source"] == 0.5
    assert figures["identity_closer_to_source_rest"] == 1.0
    # every face off the blurred frame, the turned one too: frames 0, 2 and 3, two of them closer
    assert figures["identity_closer_to_source_unblurred"] == round(2 / 3, 3)
    assert figures["identity_on_blurred_frames"] == [0, 1]


def test_a_turned_face_on_a_blurred_frame_counts_as_on_a_blurred_frame() -> None:
    # the kinds put "turned" first; the blurred-frame split must not lose it
    stub = _Stub([5.0, 50.0], [NEAR_SOURCE, NEAR_SOURCE])
    figures = identity_and_jitter(stub, _frames(1, 0, 1)[0], _frames(2, 0, 2), _frames(3, 100, 2),
                                  blurred=(True, False))
    assert figures["identity_turned_faces"] == 1 and figures["identity_blurred_faces"] == 0
    assert figures["identity_on_blurred_frames"] == [1, 1]
    assert figures["identity_closer_to_source_unblurred"] == 1.0


def test_without_blur_marks_a_blurred_miss_counts_in_the_rest() -> None:
    stub = _Stub([50.0, 50.0], [NEAR_SOURCE, NEAR_ORIGINAL])
    figures = identity_and_jitter(stub, _frames(1, 0, 1)[0], _frames(2, 0, 2), _frames(3, 100, 2))
    assert figures["identity_turned_faces"] == 0 and figures["identity_blurred_faces"] == 0
    assert figures["identity_closer_to_source_rest"] == 0.5


def test_an_unchanged_face_is_not_judged() -> None:
    # the swapped frame equals the original: no face was swapped, so none is judged
    stub = _Stub([50.0], [NEAR_SOURCE])
    original = _frames(2, 0, 1)
    unchanged = [f.copy() for f in original]
    unchanged[0][0, 0, 0] = 3  # the marker only: the face's pixels are the original's
    figures = identity_and_jitter(stub, _frames(1, 0, 1)[0], original, unchanged)
    assert figures["identity_faces"] == 0 and figures["identity_closer_to_source_rest"] is None
