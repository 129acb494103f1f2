"""``FaceSwapper.faces`` (and ``frameswap faces`` over it) numbers faces as ``swap`` does.

The scene holds a real face (a grey copy of the astronaut: dlib's HOG finds it, the synthetic SCRFD,
which answers to pure colours only, does not) and two colour blobs (the synthetic SCRFD finds them,
dlib does not). So which faces a listing holds says which analyzer numbered them.
With the buffalo_l files (det_10g, w600k_r50) but no inswapper, ``swap`` runs the classic engine and
so dlib: the listing must be dlib's, not the SCRFD one a bare "insightface when present" rule gave.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image

from frameswap.api import FaceSwapper
from frameswap.cli import main
from frameswap.errors import CancelledError, FaceIndexError
from frameswap.faces.dlib_backend import DlibAnalyzer
from frameswap.faces.types import sort_large_to_small
from frameswap.options import SwapOptions
from frameswap.pipeline.listing import listing_frames
from kit.synthetic_detection import paint_face
from kit.synthetic_swap import build_models_dir

BLOBS = ((520, 100, 32), (540, 380, 16))  # centre x, centre y, stride (32: the larger box)


@pytest.fixture(autouse=True)
def no_user_models(tmp_path, monkeypatch):
    """The store also looks in ~/.insightface; an empty home keeps the user's files out of these tests."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def buffalo_dir(tmp_path_factory):
    return build_models_dir(tmp_path_factory.mktemp("buffalo"), inswapper=False)


@pytest.fixture(scope="module")
def full_dir(tmp_path_factory):
    return build_models_dir(tmp_path_factory.mktemp("buffalo-and-inswapper"))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    skimage = pytest.importorskip("skimage.data")
    rgb = np.full((480, 640, 3), 96, np.uint8)
    grey = np.asarray(Image.fromarray(skimage.astronaut()[0:330, 20:420]).convert("L"))
    rgb[:330, :400] = grey[..., None]
    for cx, cy, stride in BLOBS:
        paint_face(rgb, (cx, cy), stride)
    path = tmp_path_factory.mktemp("scene") / "scene.png"
    Image.fromarray(rgb).save(path)
    return path, rgb


def _centres(boxes) -> list[float]:
    """x, y of every box's centre, flattened (pytest.approx compares flat lists)."""
    return [v for b in boxes for v in ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)]


def test_buffalo_files_without_inswapper_list_the_dlib_faces_that_swap_uses(buffalo_dir, scene, tmp_path):
    path, rgb = scene
    swapper = FaceSwapper(models_dir=buffalo_dir)
    listing = swapper.faces(path)
    assert (listing.analyzer, listing.engine) == ("dlib", "classic")
    # oracle: dlib itself on the picture, large to small
    expected = sort_large_to_small(DlibAnalyzer.from_packages().analyze([rgb], embed=False)[0])
    assert len(expected) == 1
    want = [np.asarray(f.box, np.float32).tolist() for f in expected]
    assert [f.box.tolist() for f in listing.faces] == want
    # and swap agrees: it finds that many people, and an index past them is refused
    source = tmp_path / "source.png"
    Image.fromarray(rgb[:330, :400]).save(source)
    result = swapper.swap(source, path, tmp_path / "out.png", options=SwapOptions())
    assert result.engine == "classic" and result.faces_found == len(listing.faces)
    with pytest.raises(FaceIndexError, match="1 face found"):
        swapper.swap(source, path, tmp_path / "out2.png", options=SwapOptions(input_faces_index="1"))


def test_the_cli_goes_through_the_same_call(buffalo_dir, scene, capsys):
    path, _ = scene
    assert main(["faces", str(path), "--json", "--models-dir", str(buffalo_dir)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == FaceSwapper(models_dir=buffalo_dir).faces(path).to_json(str(path))
    assert report["analyzer"] == "dlib" and len(report["faces"]) == 1


def test_with_inswapper_the_listing_is_scrfd_and_matches_the_swap(full_dir, tmp_path, scene):
    path, _ = scene
    swapper = FaceSwapper(models_dir=full_dir)
    listing = swapper.faces(path)
    assert (listing.analyzer, listing.engine) == ("insightface", "inswapper")
    # the two blobs, the larger one (stride 32) first; the grey face is not seen by this detector
    assert _centres(f.box for f in listing.faces) == pytest.approx(
        [v for cx, cy, _ in BLOBS for v in (cx, cy)], abs=20
    )
    source = tmp_path / "source.png"
    blob = np.full((240, 320, 3), 96, np.uint8)
    Image.fromarray(paint_face(blob, (160, 120), 32)).save(source)
    result = swapper.swap(source, path, tmp_path / "out.png", options=SwapOptions(input_faces_index="1"))
    assert result.faces_found == len(listing.faces) == 2
    # a request for the classic engine gets dlib's numbering from the same models dir
    classic = swapper.faces(path, SwapOptions(engine="classic"))
    assert classic.analyzer == "dlib" and len(classic.faces) == 1


def test_a_source_is_listed_from_its_first_frame_like_source_faces_index(full_dir, tmp_path):
    # frame 0 has one blob, frames 1 and 2 two: as a target both people are indexed (the newcomer is
    # detected at frame 2 at the latest), as a source only frame 0 counts
    frames = []
    for i in range(3):  # (Pillow would merge identical frames, so the newcomer moves)
        rgb = np.full((240, 320, 3), 96, np.uint8)
        paint_face(rgb, (80, 120), 32)
        if i:
            paint_face(rgb, (240 + 8 * i, 120), 16)
        frames.append(Image.fromarray(rgb))
    path = tmp_path / "two.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[100, 100, 100], loop=0)
    swapper = FaceSwapper(models_dir=full_dir)
    as_target = swapper.faces(path)
    as_source = swapper.faces(path, role="source")
    assert len(as_target.faces) == 2 and as_target.animated
    assert len(as_source.faces) == 1 and not as_source.animated
    # the frames to show it: frame 0 (the reference) and frame 1, where the newcomer is first seen
    newcomer = as_target.faces[1]
    assert not newcomer.at_reference
    frames = listing_frames(path, as_target, SwapOptions())
    assert sorted(frames) == [0, newcomer.first_frame]
    assert frames[newcomer.first_frame][120, 248, 1] == 255  # the newcomer's green blob
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledError):
        listing_frames(path, as_target, SwapOptions(), cancel=stop)
