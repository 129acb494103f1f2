"""The embedded classic engine on real faces: identity moves to the source, the rest stays exact."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from frameswap.engines.base import SwapEngine, SwapJob
from frameswap.engines.classic import ClassicEngine, ClassicOptions
from frameswap.errors import NoFaceError, OptionsError
from frameswap.faces.geometry import box_iou
from frameswap.faces.smooth import LandmarkSmoother


@pytest.fixture(scope="session")
def scene(analyzer):
    """t1 (RGB) with its 6 faces, and the astronaut with her face: analysed once."""
    insightface_data = pytest.importorskip("insightface.data")
    from skimage import data

    t1 = np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])  # BGR -> RGB
    astronaut = data.astronaut()
    t1_faces, astro_faces = analyzer.analyze([t1, astronaut])
    assert len(t1_faces) == 6 and len(astro_faces) == 1
    return t1, t1_faces, astronaut, astro_faces[0]


@pytest.fixture(scope="session")
def swapped(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    (out,) = engine.swap([t1], [[SwapJob(f, source) for f in t1_faces]])
    return out


def test_is_a_swap_engine():
    assert isinstance(ClassicEngine(), SwapEngine)
    assert ClassicEngine().name == "classic"


def test_swapped_faces_are_closer_to_the_source_than_to_the_originals(analyzer, scene, swapped):
    """Every face of t1 takes the source's identity, its two heads turned by ~45 degrees too
    (while the engine faded their far half, from the nose line, both kept enough of the
    original's far eye and mouth to read nearer the original)."""
    from frameswap.engines.classic.pose import yaw_degrees

    _, t1_faces, _, source_face = scene
    (after,) = analyzer.analyze([swapped])
    report, closer, turned = [], [], 0
    for original in t1_faces:
        match = max(after, key=lambda f: box_iou(f.box, original.box), default=None)
        assert match is not None and box_iou(match.box, original.box) >= 0.3
        to_source = float(np.linalg.norm(match.embedding - source_face.embedding))
        to_original = float(np.linalg.norm(match.embedding - original.embedding))
        yaw = yaw_degrees(original.landmarks)
        turned += abs(yaw) >= 40
        report.append(f"{yaw:.0f}deg {to_source:.3f}/{to_original:.3f}")
        closer.append(to_source < to_original)
    print("identity distances (to source / to original):", report)
    assert turned == 2, report  # the turned heads are among those judged
    assert all(closer), report


def _eye_openness(points: np.ndarray) -> float:
    """Lid gap over eye width, both eyes' mean, from 68 landmarks."""
    return float(np.mean([
        (np.linalg.norm(points[u1] - points[l1]) + np.linalg.norm(points[u2] - points[l2]))
        / 2 / np.linalg.norm(points[c1] - points[c0])
        for (u1, u2), (l1, l2), (c0, c1) in (((37, 38), (41, 40), (36, 39)), ((43, 44), (47, 46), (42, 45)))
    ]))


def test_new_faces_keep_the_targets_eyes(analyzer, scene, swapped):
    """The astronaut's eyes are wide open; most of t1 smile with narrowed eyes or look down. Read
    afresh from the output by dlib, each swapped face's eyes are open as far as its target's, not
    as far as the photo's (moving every point towards the photo's, as the engine did, opened
    them all like hers)."""
    _, t1_faces, _, source_face = scene
    (after,) = analyzer.analyze([swapped])
    photo = _eye_openness(source_face.landmarks)
    checked = 0
    for original in t1_faces:
        match = max(after, key=lambda f: box_iou(f.box, original.box))
        before, now = _eye_openness(original.landmarks), _eye_openness(match.landmarks)
        if abs(before - photo) <= 0.1:
            continue  # open about as far as the photo's: nothing tells whose eyes they are
        checked += 1
        assert abs(now - before) < abs(now - photo), (before, now, photo)
    assert checked >= 4


def test_a_mouth_the_target_opens_stays_open(scene):
    """A photo with its lips shut (Tom Hanks, from insightface's test images) on t1's laughing
    face, whose opening is painted a pure blue so the oracle is a colour: the new face's lips
    part as far as the target's and show the target's own mouth inside, so the blue is still there
    (a third of it or more: the new mouth keeps the photo's width, narrower than a laugh; 97 of
    234 pixels when written). Moving the lips towards the photo's shut ones painted it all over
    (0 of 234)."""
    import os

    import cv2

    insightface = pytest.importorskip("insightface")
    t1, t1_faces, _, _ = scene
    images = os.path.join(os.path.dirname(insightface.__file__), "data", "images")
    hanks = cv2.imread(os.path.join(images, "Tom_Hanks_54745.png"))
    from frameswap.faces.dlib_backend import DlibAnalyzer

    (photo_faces,) = DlibAnalyzer.from_packages().analyze([np.ascontiguousarray(hanks[:, :, ::-1])])
    def lips_apart(face) -> float:
        return float(np.linalg.norm(face.landmarks[66] - face.landmarks[62]) / (face.box[3] - face.box[1]))

    laughing = max(t1_faces, key=lips_apart)
    pts = laughing.landmarks
    assert np.linalg.norm(photo_faces[0].landmarks[66] - photo_faces[0].landmarks[62]) < 3  # shut
    target = t1.copy()
    opening = np.zeros(t1.shape[:2], np.uint8)
    cv2.fillPoly(opening, [np.round(pts[60:68]).astype(np.int32)], 1)
    target[opening > 0] = (0, 0, 255)
    engine = ClassicEngine()
    source = engine.prepare_source(np.ascontiguousarray(hanks[:, :, ::-1]), photo_faces[0])
    out, mask = engine.swap_face(target, laughing, source)
    blue = lambda rgb: (rgb[..., 2] > 200) & (rgb[..., 0] < 60) & (rgb[..., 1] < 60)  # noqa: E731
    assert blue(target).sum() > 80
    assert blue(out).sum() >= blue(target).sum() / 3, (blue(out).sum(), blue(target).sum())
    assert mask.sum() > 20 * blue(target).sum()  # and the face around it was swapped


def test_pixels_outside_the_face_masks_stay_exactly_unchanged(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    frame, union = t1, np.zeros(t1.shape[:2], bool)
    for face in t1_faces:
        frame, mask = engine.swap_face(frame, face, source)
        # the mask is the face's neighbourhood, not the frame
        _, xs = np.nonzero(mask)
        w = face.box[2] - face.box[0]
        assert xs.min() > face.box[0] - w and xs.max() < face.box[2] + w
        union |= mask
    assert np.array_equal(frame[~union], t1[~union])
    assert (frame[union] != t1[union]).any(axis=-1).mean() > 0.5  # and inside, the face changed
    assert union.mean() < 0.15


def _chin_bar(image: np.ndarray, face) -> np.ndarray:
    """``image`` with a saturated magenta bar from just under the lower lip down past the chin,
    as wide as the face: a microphone or a hand under the source's chin."""
    pts = face.landmarks
    out = image.copy()
    x0, x1 = int(pts[:17, 0].min()), int(pts[:17, 0].max())
    y0 = int(pts[57, 1] + 0.35 * (pts[8, 1] - pts[57, 1]))
    out[y0 : int(pts[8, 1]) + 20, x0:x1] = (255, 0, 255)
    return out


def test_what_covers_the_source_chin_never_reaches_the_target(analyzer, scene):
    t1, t1_faces, astronaut, source_face = scene
    covered = _chin_bar(astronaut, source_face)
    (covered_faces,) = analyzer.analyze([covered])
    engine = ClassicEngine()
    jobs_clean = [SwapJob(f, engine.prepare_source(astronaut, source_face)) for f in t1_faces]
    jobs_bar = [SwapJob(f, engine.prepare_source(covered, covered_faces[0])) for f in t1_faces]
    (clean,) = engine.swap([t1], [jobs_clean])
    (barred,) = engine.swap([t1], [jobs_bar])
    faces = np.zeros(t1.shape[:2], bool)
    for face in t1_faces:
        x1, y1, x2, y2 = face.box.astype(int)
        faces[y1:y2, x1:x2] = True
    grey = lambda rgb: rgb.astype(np.float32).mean(axis=-1)  # noqa: E731
    differ = np.abs(grey(clean) - grey(barred))[faces] > 40
    assert differ.mean() <= 0.01, differ.mean()
    magenta = (barred[..., 0] > 200) & (barred[..., 1] < 60) & (barred[..., 2] > 200)
    assert not (magenta & ~(np.all(t1 == barred, axis=-1))).any()  # no bar colour was pasted


def test_an_object_over_the_target_face_is_kept(scene):
    t1, t1_faces, astronaut, source_face = scene
    face = t1_faces[0]
    pts = face.landmarks
    covered = t1.copy()
    # a blue band across the cheek, under the eye, clear of the features of both faces (eyes,
    # nostrils and lips of the target and of the new face are always painted)
    y0, y1 = int(pts[40, 1]) + 8, int(pts[31, 1])
    x0, x1 = int(pts[1, 0]) + 4, int(pts[39, 0])
    covered[y0:y1, x0:x1] = (20, 60, 230)
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    out, mask = engine.swap_face(covered, face, source)
    band = np.zeros(t1.shape[:2], bool)
    band[y0:y1, x0:x1] = True
    core = np.zeros(t1.shape[:2], bool)  # the band's edge may be feathered; its inside must be intact
    core[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] = True
    assert np.array_equal(out[core], covered[core])
    assert mask.sum() > 4 * band.sum()  # and the rest of the face was swapped


def test_a_patch_that_skin_surrounds_is_painted_over(scene):
    """What covers a face reaches in from outside it (the band above crosses the region's edge
    and is kept); a patch that skin surrounds is the face's own (a side-lit eye socket, a cheek's
    shade, a mark), so the new face is painted over it, not around it."""
    from frameswap.engines.classic.regions import feature_mask, region_mask

    t1, t1_faces, astronaut, source_face = scene
    face = t1_faces[0]
    pts = face.landmarks
    width = float(np.ptp(pts[:17, 0]))
    centre = (0.5 * (pts[2] + pts[31])).round().astype(int)
    radius = max(3, round(0.06 * width))
    patch = np.zeros(t1.shape[:2], np.uint8)
    cv2.circle(patch, (int(centre[0]), int(centre[1])), radius, 255, -1)
    patch_on = patch > 0
    # the oracle is only fair if the patch lies well inside the region and off every feature
    grown = cv2.dilate(patch, np.ones((9, 9), np.uint8)) > 0
    assert not (grown & (region_mask(pts, t1.shape[:2]) == 0)).any()
    assert not (patch_on & (feature_mask(pts, t1.shape[:2]) > 0)).any()
    shaded = t1.copy()
    shaded[patch_on] = (20, 60, 230)  # not skin by any test: the colour of the band kept above
    engine = ClassicEngine()
    out, _ = engine.swap_face(shaded, face, engine.prepare_source(astronaut, source_face))
    changed = (out != shaded).any(axis=-1)
    assert changed[patch_on].mean() > 0.95


def test_new_faces_keep_the_targets_skin_tone(scene, swapped):
    import cv2

    t1, t1_faces, _, _ = scene
    lab_in = cv2.cvtColor(t1, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_out = cv2.cvtColor(swapped, cv2.COLOR_RGB2LAB).astype(np.float32)
    for face in t1_faces:
        pts = face.landmarks
        # the face centre: cheeks and nose between the eyes and the mouth
        x0, x1 = int(pts[39, 0]), int(pts[42, 0])
        y0, y1 = int(pts[29, 1]), int(pts[33, 1])
        centre_in = lab_in[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
        centre_out = lab_out[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
        # 8-bit Lab: L is scaled by 255/100; convert to CIE76 units
        delta = (centre_out - centre_in) * np.array([100 / 255, 1.0, 1.0])
        assert float(np.linalg.norm(delta)) <= 12.0


def test_a_profile_is_left_alone_and_a_frontal_face_is_not(scene):
    from frameswap.engines.classic.pose import yaw_degrees

    t1, t1_faces, astronaut, source_face = scene
    frontal = max(t1_faces, key=lambda f: -abs(yaw_degrees(f.landmarks)))
    assert abs(yaw_degrees(frontal.landmarks)) < 10
    turned = frontal.landmarks.copy()
    turned[27:36, 0] = turned[0, 0] + 0.02 * (turned[16, 0] - turned[0, 0])  # nose at the jaw's end
    assert abs(yaw_degrees(turned)) > 70
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    out, mask = engine.swap_face(t1, replace(frontal, landmarks=turned), source)
    assert not mask.any() and np.array_equal(out, t1)
    out, mask = engine.swap_face(t1, frontal, source)
    assert mask.any()


def test_a_profile_only_the_detector_sees_is_left_alone(scene):
    # dlib's landmarks draw a profile as a three-quarter face; the detector's keypoints see it
    # (``Face.detector_turn``): past ``yaw_zero`` by that reading the face is left as it is
    t1, t1_faces, astronaut, source_face = scene
    from frameswap.engines.classic.pose import yaw_degrees

    frontal = min(t1_faces, key=lambda f: abs(yaw_degrees(f.landmarks)))
    engine = ClassicEngine()
    opts = engine.options
    source = engine.prepare_source(astronaut, source_face)

    def change(face, tone=None) -> float:
        out, mask = engine.swap_face(t1, face, source, tone=tone)
        assert np.array_equal(out[~mask], t1[~mask])
        return float(np.abs(out.astype(np.int16) - t1).sum())

    full = change(replace(frontal, detector_turn=None))
    assert full > 0
    assert change(replace(frontal, detector_turn=opts.yaw_zero + 10)) == 0
    # the smoothed reading the pipeline passes (the 8th figure) wins over the frame's own
    tone = engine.measure_tone(t1, replace(frontal, detector_turn=opts.yaw_zero + 10))
    assert tone is not None and tone[7] == pytest.approx(opts.yaw_zero + 10)
    assert change(frontal, tone) == 0
    unmeasured = engine.measure_tone(t1, replace(frontal, detector_turn=None))
    assert unmeasured is not None and np.isnan(unmeasured[7])  # not detected: the landmarks decide
    profile = replace(frontal, detector_turn=opts.yaw_zero + 10)
    assert change(profile, unmeasured) == pytest.approx(full, rel=0.02)
    # half way through the fade, about half the change of the full swap (a linear alpha)
    half = change(replace(frontal, detector_turn=(opts.yaw_full + opts.yaw_zero) / 2))
    assert 0.4 * full < half < 0.6 * full


def test_frames_without_jobs_and_inputs_are_untouched(scene):
    t1, t1_faces, astronaut, source_face = scene
    before = t1.copy()
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    out = engine.swap([t1, t1], [[], [SwapJob(t1_faces[0], source)]])
    assert np.array_equal(out[0], t1) and out[0] is not t1
    assert not np.array_equal(out[1], t1)
    assert np.array_equal(t1, before)  # never modifies its inputs


def test_faces_without_landmarks_are_a_clear_error(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    with pytest.raises(NoFaceError):
        engine.prepare_source(astronaut, replace(source_face, landmarks=None))
    source = engine.prepare_source(astronaut, source_face)
    with pytest.raises(NoFaceError):
        engine.swap([t1], [[SwapJob(replace(t1_faces[0], landmarks=None), source)]])
    with pytest.raises(OptionsError):
        ClassicOptions(shape_weight=2.0)
    with pytest.raises(OptionsError):
        ClassicOptions(yaw_full=60, yaw_zero=40)


def test_degenerate_target_is_skipped_with_a_warning_not_a_crash(scene):
    t1, t1_faces, astronaut, source_face = scene
    engine = ClassicEngine()
    source = engine.prepare_source(astronaut, source_face)
    flat = replace(t1_faces[0], landmarks=np.full((68, 2), 300.0, np.float32))
    with pytest.warns(UserWarning, match="skipped"):
        (out,) = engine.swap([t1], [[SwapJob(flat, source)]])
    assert np.array_equal(out, t1)


def test_smoothing_reduces_landmark_jitter_on_a_noisy_sequence():
    rng = np.random.default_rng(0)
    base = np.array([[x, y] for x in np.linspace(100, 200, 17) for y in (150.0, 200.0, 250.0, 300.0)])[:68]
    base[36:42] = (120.0, 180.0)
    base[42:48] = (180.0, 180.0)  # eye distance 60 px
    frames = 60
    drift = np.linspace(0, 30, frames)[:, None, None] * np.array([1.0, 0.0])  # slow pan, 0.5 px/frame
    truth = base[None] + drift
    noisy = truth + rng.normal(0, 1.5, truth.shape)
    smoother = LandmarkSmoother()
    smoothed = np.stack([smoother.smooth(7, noisy[t], t) for t in range(frames)])
    jitter = lambda seq: np.abs(np.diff(seq - truth, axis=0)).mean()  # noqa: E731
    error = lambda seq: np.abs(seq - truth)[10:].mean()  # noqa: E731
    assert jitter(smoothed) < 0.4 * jitter(noisy)  # measured 0.29
    assert error(smoothed) < error(noisy)  # smoother AND closer to the truth (little lag)
    assert np.array_equal(smoother.smooth(None, noisy[0], 0), noisy[0])  # stills: untouched
