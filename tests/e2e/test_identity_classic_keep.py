"""Identity and keep regions on real faces with the embedded path (dlib landmarks, classic engine).

- ``frameswap identity build`` (the CLI) refuses a photo of another person, naming it, and writes nothing.
- With an identity of two photos posed differently (the astronaut and her mirror image), each
  target face of a still gets exactly what a swap from the photo posed nearest it gives.
- ``keep``: inside the lips, eyes and brows that a fresh dlib analysis of the target finds, the
  output equals the input, where a swap without ``keep`` changes them; on an animation, inside
  each frame's own lips, on every frame.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from frameswap.cli import main
from frameswap.engines.classic.photos import head_pose
from frameswap.errors import OverwriteInputError
from frameswap.identity import load_identity, save_identity
from frameswap.media import open_media
from frameswap.options import SwapOptions
from sample_recipe import _astronaut_rgb, _t1_rgb

INDEXES = "0,1,2"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    astro = _astronaut_rgb()
    paths = {"astro": folder / "astro.png", "mirror": folder / "mirror.png", "other": folder / "other.png"}
    Image.fromarray(astro).save(paths["astro"])
    Image.fromarray(np.ascontiguousarray(astro[:, ::-1])).save(paths["mirror"])
    Image.fromarray(_t1_rgb()[250:450, 400:620]).save(paths["other"])  # t1's front man
    return paths


@pytest.fixture(scope="module")
def still(samples, tmp_path_factory):
    with open_media(samples.gif) as reader:
        rgb = next(iter(reader.frames())).rgb
    path = tmp_path_factory.mktemp("still") / "still.png"
    Image.fromarray(rgb).save(path)
    return path, rgb


def _swap(swapper, source, target, **options) -> np.ndarray:
    opts = SwapOptions(engine="classic", input_faces_index=INDEXES, output_format="png", **options)
    with open_media(swapper.swap(source, target, options=opts).data) as reader:
        return next(iter(reader.frames())).rgb


def test_build_refuses_another_person_and_names_the_photo(photos, tmp_path, capsys):
    out = tmp_path / "me.identity"
    code = main(["identity", "build", str(photos["astro"]), str(photos["other"]), str(photos["mirror"]),
                 "-o", str(out), "--engine", "classic", "--models-dir", str(tmp_path / "models")])
    assert code == 6
    assert "other.png: its face is not the same person" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_each_face_gets_the_photo_posed_nearest(photos, still, swapper, tmp_path):
    out = save_identity(swapper.build_identity([photos["astro"], photos["mirror"]]), tmp_path / "me.identity")
    identity = load_identity(out.read_bytes())
    assert identity.analyzer == "dlib" and [p.name for p in identity.photos] == ["astro.png", "mirror.png"]
    poses = np.array([head_pose(p.face.landmarks) for p in identity.photos])
    assert abs(poses[0, 0] - poses[1, 0]) > 2  # the two photos are posed differently

    target, rgb = still
    both = _swap(swapper, out, target)
    single = [_swap(swapper, photos["astro"], target), _swap(swapper, photos["mirror"], target)]
    faces = swapper._models(SwapOptions(engine="classic")).analyzer.analyze([rgb], embed=False)[0]
    checked = 0
    for face in sorted(faces, key=lambda f: -f.area)[: len(INDEXES.split(","))]:
        x1, y1, x2, y2 = (int(v) for v in face.box)
        region = (slice(max(0, y1), y2), slice(max(0, x1), x2))
        if np.array_equal(single[0][region], single[1][region]):
            continue  # this face is not swapped differently by the two photos
        nearest = int(np.argmin(np.linalg.norm((poses - head_pose(face.landmarks)) * [1, 0.5], axis=1)))
        assert np.array_equal(both[region], single[nearest][region])
        assert not np.array_equal(both[region], single[1 - nearest][region])
        checked += 1
    assert checked >= 2


def _polygon_mask(shape, points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0


def _brow_lines(shape, points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape[:2], np.uint8)
    for line in (points[17:22], points[22:27]):
        cv2.polylines(mask, [np.round(line).astype(np.int32)], False, 255, 1)
    return mask > 0


def test_kept_lips_eyes_and_brows_equal_the_input(samples, still, swapper, dlib_analyzer):
    target, rgb = still
    plain = _swap(swapper, samples.source, target)
    kept = _swap(swapper, samples.source, target, keep=("mouth", "eyes", "brows"))
    faces = sorted(dlib_analyzer.analyze([rgb], embed=False)[0], key=lambda f: -f.area)[:3]
    region, brows = np.zeros(rgb.shape[:2], bool), np.zeros(rgb.shape[:2], bool)
    for face in faces:
        pts = np.asarray(face.landmarks)
        for part in (pts[48:60], pts[36:42], pts[42:48]):
            region |= _polygon_mask(rgb.shape, part)
        brows |= _brow_lines(rgb.shape, pts)
    region |= brows
    assert region.sum() > 100
    assert np.any(plain[region] != rgb[region])  # the swap changes lips, eyes...
    assert np.any(plain[brows] != rgb[brows])  # ...and brows
    assert np.array_equal(kept[region], rgb[region])  # keep leaves them as they were
    assert np.any(kept[~region] != rgb[~region])  # and the faces are still swapped


def test_kept_lips_equal_the_input_on_every_frame_of_an_animation(samples, swapper, dlib_analyzer, tmp_path):
    """Regions follow each tracked face: on every frame, inside the lips a fresh dlib analysis of
    that frame finds, the output is the input."""
    with open_media(samples.gif) as reader:
        frames = [f.rgb for _, f in zip(range(12), reader.frames(), strict=False)]
    target = tmp_path / "clip.png"
    rest = [Image.fromarray(f) for f in frames[1:]]
    Image.fromarray(frames[0]).save(target, save_all=True, append_images=rest, duration=80, loop=0)
    opts = SwapOptions(engine="classic", input_faces_index=INDEXES, output_format="png", keep=("mouth",))
    with open_media(swapper.swap(samples.source, target, options=opts).data) as reader:
        out = [f.rgb for f in reader.frames()]
    assert len(out) == len(frames)
    lips_checked = 0
    for rgb, kept in zip(frames, out, strict=True):
        changed = np.any(kept != rgb, axis=-1)
        for face in dlib_analyzer.analyze([rgb], embed=False)[0]:
            lips = _polygon_mask(rgb.shape, np.asarray(face.landmarks)[48:60])
            x1, y1, x2, y2 = np.clip(face.box, 0, [rgb.shape[1], rgb.shape[0]] * 2).astype(int)
            if changed[y1:y2, x1:x2].mean() < 0.2:
                continue  # a face this swap leaves alone
            assert np.array_equal(kept[lips], rgb[lips])
            lips_checked += 1
    assert lips_checked >= 2 * len(frames)  # at least two swapped faces a frame were checked


def test_a_photo_of_a_source_list_is_never_overwritten(swapper, tmp_path):
    """The output named as one of the source list's photos is refused, and that photo is intact."""
    sample = Path(__file__).resolve().parents[2] / "samples" / "source_astronaut.jpg"
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    shutil.copyfile(sample, a)
    shutil.copyfile(sample, b)
    before = a.read_bytes()
    with pytest.raises(OverwriteInputError):
        swapper.swap([str(a), str(b)], str(b), str(a))
    assert a.read_bytes() == before
