"""Identity, keep regions and gender through the whole product, on the synthetic buffalo_l models.

- Several photos: the inswapper gets the L2-normalised mean of the photos' normalised ArcFace
  embeddings, projected through ``emap`` (checked against that formula, with ``emap`` read from
  the file here); an identity, its file, and the file as base64 all give the same output.
- ``keep``: pixels around the mouth (between the mouth keypoints of a fresh analysis) and around
  each eye's keypoint equal the input's, where a swap without ``keep`` changes them.
- ``gender``: only faces the genderage model calls female (a red synthetic face) or male (blue)
  are swapped; our genderage crop and normalisation equal insightface's own ``Attribute``.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import numpy as np
import pytest

from frameswap.api import FaceSwapper
from frameswap.errors import OptionsError
from frameswap.faces.insightface_backend import InsightFaceAnalyzer
from frameswap.faces.types import Face
from frameswap.identity import Identity, IdentityPhoto, save_identity
from frameswap.media import open_media
from frameswap.models.genderage import GenderAge
from frameswap.options import SwapOptions
from kit.synthetic_detection import paint_face

SIZE = (320, 240)


@pytest.fixture(scope="module")
def swapper(models_dir):
    return FaceSwapper(models_dir=models_dir, engine="inswapper")


@pytest.fixture(scope="module")
def analyzer(models_dir):
    return InsightFaceAnalyzer.from_paths(models_dir / "det_10g.onnx", models_dir / "w600k_r50.onnx")


def _scene(faces: list[tuple[float, float, int]]) -> np.ndarray:
    rgb = np.full((SIZE[1], SIZE[0], 3), 96, np.uint8)
    for cx, cy, stride in faces:
        paint_face(rgb, (cx, cy), stride)
    return rgb


def _png(rgb: np.ndarray, path):
    from PIL import Image

    Image.fromarray(rgb).save(path)
    return path


def _decode(data: bytes) -> np.ndarray:
    with open_media(data) as reader:
        return next(iter(reader.frames())).rgb


def _identity(analyzer, embeddings: list[np.ndarray]) -> Identity:
    image = _scene([(160, 120, 32)])
    face = analyzer.analyze([image])[0][0]
    photos = [
        IdentityPhoto(f"p{i}.png", image, Face(face.box, face.score, face.kps, None, e.astype(np.float32)))
        for i, e in enumerate(embeddings)
    ]
    return Identity(photos=tuple(photos), analyzer="insightface")


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def test_inswapper_uses_the_normalised_mean_embedding(swapper, analyzer, models_dir, tmp_path):
    import onnx
    from onnx import numpy_helper

    rng = np.random.default_rng(7)
    base = rng.standard_normal(512)
    raw = [(base + 0.5 * rng.standard_normal(512)) * s for s in (3.0, 11.0, 25.0)]  # unequal norms
    identity = _identity(analyzer, raw)
    # the formula, with emap read from the file (the last initializer, as insightface reads it)
    emap = numpy_helper.to_array(onnx.load(str(models_dir / "inswapper_128.onnx")).graph.initializer[-1])
    mean = _unit(np.mean([_unit(e) for e in raw], axis=0))
    expected = _unit(mean @ emap.astype(np.float64))
    models = swapper._models(SwapOptions(engine="inswapper"))
    latent = models.engine.prepare_photos([(p.image, p.face) for p in identity.photos]).latent
    np.testing.assert_allclose(latent, expected, atol=2e-6)

    target = _png(_scene([(140, 110, 32)]), tmp_path / "target.png")
    opts = SwapOptions(engine="inswapper", output_format="png")
    several = _decode(swapper.swap(identity, target, options=opts).data)
    as_mean = _decode(swapper.swap(_identity(analyzer, [mean]), target, options=opts).data)
    first_only = _decode(swapper.swap(_identity(analyzer, raw[:1]), target, options=opts).data)
    assert np.array_equal(several, as_mean)
    assert not np.array_equal(several, first_only)  # the other photos count
    # the file, as a path and as base64, is the same source
    path = save_identity(identity, tmp_path / "me.identity")
    assert np.array_equal(_decode(swapper.swap(path, target, options=opts).data), several)
    b64 = base64.b64encode(path.read_bytes()).decode()
    assert np.array_equal(_decode(swapper.swap(b64, target, options=opts).data), several)


def test_an_identity_is_one_person_so_source_index_1_is_out_of_range(swapper, analyzer, tmp_path):
    from frameswap.errors import FaceIndexError

    target = _png(_scene([(140, 110, 32)]), tmp_path / "target.png")
    identity = _identity(analyzer, [np.ones(512)])
    with pytest.raises(FaceIndexError, match="source identity"):
        swapper.swap(identity, target, options=SwapOptions(engine="inswapper", source_faces_index="1"))


@pytest.mark.parametrize("region", ["mouth", "eyes"])
def test_kept_region_pixels_equal_the_input(swapper, analyzer, tmp_path, region):
    scene = _scene([(150, 120, 32)])
    target = _png(scene, tmp_path / "target.png")
    source = _png(_scene([(160, 120, 32)]), tmp_path / "source.png")
    kps = analyzer.analyze([scene])[0][0].kps  # a fresh analysis: the oracle's own keypoints
    ys, xs = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
    if region == "mouth":  # around the middle of the mouth corners
        centre, width = kps[3:5].mean(axis=0), float(np.linalg.norm(kps[4] - kps[3]))
        inside = np.hypot(xs - centre[0], ys - centre[1]) < 0.3 * width
    else:  # around each eye's keypoint
        reach = 0.15 * float(np.linalg.norm(kps[1] - kps[0]))
        inside = np.zeros(scene.shape[:2], bool)
        for eye in kps[:2]:
            inside |= np.hypot(xs - eye[0], ys - eye[1]) < reach
    assert inside.sum() > 20
    png = SwapOptions(output_format="png")
    plain = _decode(swapper.swap(source, target, options=png).data)
    kept = _decode(swapper.swap(source, target, options=replace(png, keep=(region,))).data)
    assert (plain[inside] != scene[inside]).any()  # the swap does change the region...
    assert np.array_equal(kept[inside], scene[inside])  # ...and keep puts it back exactly
    changed = np.any(kept != scene, axis=-1)
    assert changed[~inside].sum() > 0.5 * np.any(plain != scene, axis=-1).sum()  # the rest is swapped


def test_gender_chooses_the_target_faces(swapper, tmp_path):
    # a large blue face (male by the synthetic genderage) and a small red one (female)
    scene = _scene([(90, 120, 32), (240, 120, 8)])
    target = _png(scene, tmp_path / "target.png")
    source = _png(_scene([(160, 120, 32)]), tmp_path / "source.png")

    def changed_x(gender):
        options = SwapOptions(output_format="png", gender=gender)
        out = _decode(swapper.swap(source, target, options=options).data)
        _, xs = np.nonzero(np.any(out != scene, axis=-1))
        return xs

    assert changed_x(None).max() < 170  # index 0 without a gender: the large (male) face
    female = changed_x("female")
    assert female.size and female.min() > 170  # index 0 among women: the small face on the right
    male = changed_x("male")
    assert male.size and male.max() < 170


def test_gender_on_the_dlib_analyzer_is_a_clear_error(tmp_path):
    swapper = FaceSwapper(models_dir=tmp_path, engine="classic")
    source = _png(_scene([(160, 120, 32)]), tmp_path / "source.png")
    with pytest.raises(OptionsError, match="gender needs the insightface analyzer"):
        swapper.swap(source, source, options=SwapOptions(engine="classic", gender="female"))


def test_genderage_matches_insightface_attribute(models_dir):
    attribute = pytest.importorskip("insightface.model_zoo.attribute")
    path = models_dir / "genderage.onnx"
    ours = GenderAge.from_path(path)
    theirs = attribute.Attribute(model_file=str(path))
    assert (ours.input_mean, ours.input_std) == (theirs.input_mean, theirs.input_std) == (0.0, 1.0)
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (200, 260, 3), dtype=np.uint8)
    image[40:120, 30:100] = (230, 40, 60)
    image[60:170, 150:230] = (30, 60, 220)
    faces = [Face(np.array(b, np.float32), 1.0, np.zeros((5, 2), np.float32))
             for b in ([25, 35, 105, 125], [140, 55, 235, 175], [0, 0, 60, 40])]
    got = ours.predict([image], [[f.box for f in faces]])[0]

    class _IFFace(dict):
        bbox = None

    expected = []
    for face in faces:
        f = _IFFace()
        f.bbox = face.box
        gender, age = theirs.get(image[..., ::-1].copy(), f)  # insightface reads BGR
        expected.append((int(gender), int(age)))
    assert got == expected
    assert {g for g, _ in got} == {0, 1}  # both genders occur, so the comparison can fail
