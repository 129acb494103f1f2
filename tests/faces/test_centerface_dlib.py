"""The dlib analyzer with its default CenterFace detector: 68 points on the face, dlib's box convention."""

from __future__ import annotations

import dlib
import numpy as np
import pytest

from frameswap.engines.classic.pose import yaw_degrees
from frameswap.faces.dlib_backend import DlibAnalyzer
from frameswap.faces.geometry import box_from_5, box_iou, turn_from_keypoints

# Hand-annotated eye regions (x1, y1, x2, y2) of t1's six faces, from looking at zoomed crops of
# the photo: (image-left eye, image-right eye) per person.
T1_EYES = [
    ((65, 300, 105, 335), (110, 295, 155, 330)),
    ((265, 195, 305, 228), (300, 178, 340, 212)),
    ((460, 300, 505, 335), (515, 315, 560, 345)),
    ((740, 375, 785, 415), (785, 372, 835, 410)),
    ((900, 100, 935, 135), (935, 100, 975, 130)),
    ((1122, 308, 1170, 342), (1170, 305, 1218, 340)),
]


@pytest.fixture(scope="module")
def faces(analyzer, t1):
    return analyzer.analyze([t1], embed=False)[0]


def _inside(point: np.ndarray, region: tuple[int, int, int, int]) -> bool:
    return region[0] <= point[0] <= region[2] and region[1] <= point[1] <= region[3]


def test_default_detector_is_centerface(analyzer):
    assert analyzer.detector_kind == "centerface"


def test_eye_landmarks_land_in_the_annotated_eyes(faces):
    assert len(faces) == 6
    for left, right in T1_EYES:
        owners = [
            f
            for f in faces
            if _inside(f.landmarks[36:42].mean(axis=0), left)
            and _inside(f.landmarks[42:48].mean(axis=0), right)
        ]
        assert len(owners) == 1


def test_boxes_keep_dlibs_hog_convention(faces, t1):
    """dlib's own HOG detector on the same photo is the oracle for the box convention."""
    rects, _, _ = dlib.get_frontal_face_detector().run(t1, 1, 0.25)
    hog = [np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32) for r in rects]
    assert len(hog) == 6
    ious = [max(box_iou(h, f.box) for f in faces) for h in hog]
    assert min(ious) > 0.65
    for f in faces:  # square like dlib's boxes
        w, h = f.box[2] - f.box[0], f.box[3] - f.box[1]
        assert abs(w - h) <= 1.0


def test_box_from_5_is_a_square_around_eyes_and_mouth():
    kps = np.array([[40, 50], [60, 50], [50, 62], [42, 72], [58, 72]], np.float32)
    x1, y1, x2, y2 = box_from_5(kps)
    side = 0.50 * 20 + 1.87 * 22  # eye distance 20, eye-to-mouth distance 22
    assert x2 - x1 == pytest.approx(side, abs=1e-3) and y2 - y1 == pytest.approx(side, abs=1e-3)
    assert (x1 + x2) / 2 == pytest.approx(50.0, abs=1e-3)  # symmetric face, centred
    assert y1 < 50 and y2 > 72  # eyes and mouth inside


def _projected_keypoints(yaw: float, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """Five keypoints of a face model (eyes 1.05 apart, the mouth 1.0 below them, the nose tip out
    in front) turned by ``yaw``, nodded by ``pitch`` and rolled by ``roll`` degrees, seen from afar
    (orthographic), scaled by 40 px and moved to (200, 150)."""
    model = np.array([[-0.525, 0, 0], [0.525, 0, 0], [0, 0.55, 0.6], [-0.4, 1.0, 0.1], [0.4, 1.0, 0.1]])
    y, p, r = np.radians([yaw, pitch, roll])
    turn = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    nod = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    spin = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return (model @ (spin @ nod @ turn).T)[:, :2] * 40 + (200, 150)


@pytest.mark.parametrize("yaw", [0, 20, 45, 60, 75, 85])
def test_the_turn_read_from_keypoints_is_the_heads_yaw(yaw):
    assert turn_from_keypoints(_projected_keypoints(yaw)) == pytest.approx(yaw, abs=0.5)
    assert turn_from_keypoints(_projected_keypoints(-yaw)) == pytest.approx(yaw, abs=0.5)  # unsigned
    # a rolled head reads the same; a nodding one reads as more frontal, never as more turned
    assert turn_from_keypoints(_projected_keypoints(yaw, roll=35)) == pytest.approx(yaw, abs=0.5)
    assert turn_from_keypoints(_projected_keypoints(yaw, pitch=20)) <= yaw + 0.5


def test_the_detector_says_how_far_each_head_is_turned(analyzer, t1, faces):
    located = analyzer.locate([t1])[0]
    assert all(f.detector_turn is None for f in located)  # not measured before the landmark fit
    for face in faces:
        # the reading is the detector's own keypoints', not the landmarks' (they replace ``kps``)
        nearest = max(located, key=lambda f: box_iou(f.box, face.box))
        assert face.detector_turn == pytest.approx(turn_from_keypoints(nearest.kps))
    # t1's poses, from looking at the photo: the standing man (5th by the eyes' annotation) is
    # near profile, the dark-haired woman behind (2nd) a three-quarter view, the rest turned by
    # less than 30 degrees; the landmarks' yaw cannot tell the two turned heads apart
    by_person = [
        next(f for f in faces if _inside(f.landmarks[36:42].mean(axis=0), left)) for left, _ in T1_EYES
    ]
    turns = [f.detector_turn for f in by_person]
    assert turns[4] > turns[1] > max(turns[i] for i in (0, 2, 3, 5))
    assert turns[4] >= 50 and max(turns[i] for i in (0, 2, 3, 5)) <= 30
    assert abs(abs(yaw_degrees(by_person[4].landmarks)) - abs(yaw_degrees(by_person[1].landmarks))) < 5


def test_no_turn_is_read_where_the_detector_guesses(analyzer, t1):
    # a face the frame's edge cuts (the left woman, from x=62): the detector guesses the hidden eye
    cut = np.ascontiguousarray(t1[:, 110:])
    found = analyzer.analyze([cut], embed=False)[0]
    edge = [f for f in found if f.landmarks[:, 0].min() < 0]
    assert len(edge) == 1 and edge[0].detector_turn is None
    assert all(f.detector_turn is not None for f in found if f is not edge[0])
    # HOG gives no keypoints of its own
    hog = DlibAnalyzer.from_packages("hog")
    assert all(f.detector_turn is None for f in hog.analyze([t1], embed=False)[0])


def test_describe_and_embed_work_on_centerface_faces(analyzer, t1, faces):
    embedded = analyzer.embed([t1], [faces])[0]
    emb = np.stack([f.embedding for f in embedded])
    d = np.linalg.norm(emb[:, None] - emb[None], axis=-1)
    assert d[~np.eye(6, dtype=bool)].min() > 0.6  # six different people
    refreshed = analyzer.describe([t1], [embedded])[0]
    for old, new in zip(embedded, refreshed, strict=True):
        assert np.abs(new.landmarks - old.landmarks).mean() < 2.0
        assert np.linalg.norm(new.embedding - old.embedding) < 0.2
        assert box_iou(new.box, old.box) > 0.8


def test_several_frames_in_one_call(analyzer, t1):
    from skimage import data

    found = analyzer.analyze([t1, data.astronaut(), data.coffee()], embed=False)
    assert [len(f) for f in found] == [6, 1, 0]  # no mission patch, no face in the coffee
    for faces in found:
        assert [f.area for f in faces] == sorted((f.area for f in faces), reverse=True)


def test_a_face_the_frames_edge_cuts_keeps_its_landmarks_on_what_shows(analyzer, t1):
    """t1's leftmost and rightmost faces with the frame's edge moved 30 % and 40 % into their
    boxes, at full and half size: the points the frame still shows stay where the uncut photo's
    fit puts them (mean error 0.03-0.05 of the eye distance per case). dlib's predictor reads
    outside pixels as black; fitted on the cut image as it is, the points slid away from the edge
    (0.05-0.13 at these cuts)."""
    import cv2

    errors = []
    for scale in (1.0, 0.5):
        image = t1 if scale == 1.0 else cv2.resize(t1, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        uncut = analyzer.analyze([image], embed=False)[0]
        for side in ("left", "right"):
            if side == "left":
                whole = min(uncut, key=lambda f: f.box[0])
            else:
                whole = max(uncut, key=lambda f: f.box[2])
            width = float(whole.box[2] - whole.box[0])
            eyes = whole.landmarks[42:48].mean(axis=0) - whole.landmarks[36:42].mean(axis=0)
            iod = float(np.linalg.norm(eyes))
            for share in (0.3, 0.4):
                if side == "left":
                    x0 = int(whole.box[0] + share * width)
                    x1 = image.shape[1]
                else:
                    x0, x1 = 0, int(whole.box[2] - share * width)
                shift = np.array([x0, 0], np.float32)  # from the cut image back to the whole one
                found = analyzer.analyze([np.ascontiguousarray(image[:, x0:x1])], embed=False)[0]
                edge = min(found, key=lambda f: float(np.abs(f.box[:2] + shift - whole.box[:2]).sum()))
                assert edge.box[0] < 0 or edge.box[2] > x1 - x0  # the box reaches past the edge
                shows = (whole.landmarks[:, 0] >= x0) & (whole.landmarks[:, 0] < x1)
                moved = np.linalg.norm(edge.landmarks + shift - whole.landmarks, axis=1)[shows] / iod
                errors.append(float(moved.mean()))
    assert max(errors) < 0.07 and float(np.mean(errors)) < 0.05, errors
