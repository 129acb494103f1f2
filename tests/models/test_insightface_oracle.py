"""Our SCRFD + ArcFace analyzer equals insightface's own FaceAnalysis on contract-exact models."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.errors import ModelNotFoundError, UnsupportedMediaError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.insightface_backend import InsightFaceAnalyzer, embed_faces
from frameswap.models.store import ModelStore
from kit.synthetic_detection import paint_face


def _scene(shape, faces, seed=0, noise=0):
    rng = np.random.default_rng(seed)
    img = np.full(shape, 40, np.uint8)
    if noise:
        img = np.clip(img.astype(int) + rng.integers(-noise, noise + 1, shape), 0, 255).astype(np.uint8)
    for center, stride in faces:
        paint_face(img, center, stride)
    return img


SCENES = {
    "landscape_4": _scene((360, 480, 3),
                          [((100, 100), 8), ((300, 200), 16), ((200, 280), 32), ((420, 80), 8)]),
    "portrait_3": _scene((480, 360, 3),
                         [((80, 90), 16), ((250, 300), 8), ((180, 420), 32)], seed=1, noise=20),
    "wide_5": _scene((400, 1000, 3), [((90, 80), 8), ((300, 250), 16), ((520, 180), 32), ((760, 300), 8),
                                      ((900, 120), 16)], seed=2, noise=10),
    "no_face": _scene((200, 300, 3), [], seed=3, noise=30),
}


def _match(ours, theirs):
    """Pair each insightface face with ours by box (their order is by score, ours by area)."""
    pairs = []
    for ref in theirs:
        dists = [float(np.abs(f.box - ref.bbox).max()) for f in ours]
        pairs.append((ours[int(np.argmin(dists))], ref))
    return pairs


@pytest.mark.parametrize("scene", sorted(SCENES))
def test_boxes_kps_embeddings_equal_insightface(analyzer, insightface_app, scene):
    rgb = SCENES[scene]
    ours = analyzer.analyze([rgb])[0]
    theirs = insightface_app.get(np.ascontiguousarray(rgb[..., ::-1]))  # insightface wants BGR
    assert len(ours) == len(theirs)
    if scene != "no_face":
        assert len(ours) >= 3
    pairs = _match(ours, theirs)
    assert len({id(p[0]) for p in pairs}) == len(ours)  # a one-to-one pairing
    for mine, ref in pairs:
        np.testing.assert_allclose(mine.box, ref.bbox, atol=1e-4)
        np.testing.assert_allclose(mine.score, ref.det_score, atol=1e-4)
        np.testing.assert_allclose(mine.kps, ref.kps, atol=1e-4)
        np.testing.assert_allclose(mine.embedding, ref.embedding, atol=1e-4)
        assert mine.landmarks is None


def test_faces_come_large_to_small_while_insightface_uses_score_order(analyzer, insightface_app):
    rgb = SCENES["landscape_4"]
    ours = analyzer.analyze([rgb])[0]
    areas = [f.area for f in ours]
    assert areas == sorted(areas, reverse=True)
    theirs = insightface_app.get(np.ascontiguousarray(rgb[..., ::-1]))
    their_areas = [float((f.bbox[2] - f.bbox[0]) * (f.bbox[3] - f.bbox[1])) for f in theirs]
    assert their_areas != sorted(their_areas, reverse=True)  # so this scene really tests the reordering


def test_several_images_in_one_call_equal_one_by_one(analyzer):
    images = [SCENES[k] for k in sorted(SCENES)]
    together = analyzer.analyze(images)
    for image, faces in zip(images, together, strict=True):
        alone = analyzer.analyze([image])[0]
        assert len(alone) == len(faces)
        for a, b in zip(alone, faces, strict=True):
            np.testing.assert_allclose(a.box, b.box)
            np.testing.assert_allclose(a.embedding, b.embedding, atol=1e-5)


def test_analyzer_satisfies_protocol_and_rejects_bgra(analyzer):
    assert isinstance(analyzer, FaceAnalyzer)
    assert analyzer.name == "insightface"
    with pytest.raises(UnsupportedMediaError):
        analyzer.analyze([np.zeros((10, 10, 4), np.uint8)])


def test_describe_refreshes_keypoints_from_a_shifted_box(analyzer):
    rgb = SCENES["landscape_4"]
    found = analyzer.analyze([rgb])[0]
    # A tracker's guess: boxes shifted by a few pixels, keypoints stale (all at the box corner).
    guesses = [
        type(f)(box=f.box + np.float32(4), score=0.0, kps=np.repeat(f.box[None, :2], 5, axis=0), track_id=i)
        for i, f in enumerate(found)
    ]
    described = analyzer.describe([rgb], [guesses])[0]
    assert [f.track_id for f in described] == list(range(len(found)))  # order and identity kept
    for ref, new in zip(found, described, strict=True):
        # Same scale and anchor grid as the full detection: the same keypoints, not just close ones.
        np.testing.assert_allclose(new.kps, ref.kps, atol=1e-3)
        np.testing.assert_allclose(new.box, ref.box, atol=1e-3)
        assert new.score > 0.5
        expected = embed_faces(analyzer.recognizer, [rgb], [new.kps[None]])[0][0]
        np.testing.assert_allclose(new.embedding, expected, atol=1e-5)


def test_describe_keeps_given_keypoints_where_nothing_is_detected(analyzer):
    rgb = SCENES["no_face"]
    kps = np.array([[100, 80], [140, 80], [120, 100], [105, 120], [135, 120]], np.float32)
    face = type(analyzer.analyze([SCENES["landscape_4"]])[0][0])(
        box=np.array([90, 60, 150, 140], np.float32), score=0.9, kps=kps
    )
    out = analyzer.describe([rgb], [[face]])[0][0]
    np.testing.assert_array_equal(out.kps, kps)
    expected = embed_faces(analyzer.recognizer, [rgb], [kps[None]])[0][0]
    np.testing.assert_allclose(out.embedding, expected, atol=1e-6)


def test_from_store_names_the_download_command_when_files_are_missing(tmp_path):
    with pytest.raises(ModelNotFoundError, match="frameswap models download det_10g"):
        InsightFaceAnalyzer.from_store(ModelStore(tmp_path))


def test_nms_equals_insightface_on_crowded_random_boxes():
    from types import SimpleNamespace

    from insightface.model_zoo.scrfd import SCRFD as InsightfaceSCRFD

    from frameswap.models.scrfd import nms

    rng = np.random.default_rng(11)
    for trial in range(20):
        xy = rng.uniform(0, 60, (80, 2)).astype(np.float32)
        wh = rng.uniform(3, 25, (80, 2)).astype(np.float32)
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.choice([0.6, 0.7, 0.8, 0.9], 80).astype(np.float32)  # ties on purpose
        dets = np.hstack([boxes, scores[:, None]])
        expected = InsightfaceSCRFD.nms(SimpleNamespace(nms_thresh=0.4), dets)
        assert nms(boxes, scores, 0.4).tolist() == [int(i) for i in expected], trial


def test_from_store_finds_the_files_in_the_models_dir(synthetic_models_dir):
    from frameswap.models.session import SessionOptions

    cpu = SessionOptions(providers=("cpu",), intra_op_threads=1)
    loaded = InsightFaceAnalyzer.from_store(ModelStore(synthetic_models_dir), cpu)
    faces = loaded.analyze([SCENES["landscape_4"]])[0]
    assert len(faces) == 4 and all(f.embedding.shape == (512,) for f in faces)
