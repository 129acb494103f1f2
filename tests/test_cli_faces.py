"""`frameswap faces`: the JSON contract, indexes across an animation, the preview, the errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from frameswap import factory
from frameswap.cli import main
from frameswap.faces.types import Face


def face(cx: float, cy: float, size: float, score: float = 0.9) -> Face:
    h = size / 2
    box = np.array([cx - h, cy - h, cx + h, cy + h], dtype=np.float32)
    return Face(box=box, score=score, kps=np.zeros((5, 2), np.float32))


class ScriptedAnalyzer:
    """Frame i of the test media is filled with grey level 20*i; faces are scripted per frame."""

    name = "scripted"

    def __init__(self, script):
        self.script = script

    def analyze(self, images, *, embed=True):
        return [list(self.script(round(float(im[..., 0].mean()) / 20))) for im in images]

    def embed(self, images, faces):
        return [list(f) for f in faces]

    def describe(self, images, faces, *, embed=True):  # these tests run with --detect-every 1
        return [list(f) for f in faces]


def clip_script(i: int) -> list[Face]:
    """A (small) and B (large) from frame 1; C enters at frame 3; A grows past B from frame 2."""
    faces = []
    if i >= 1:
        faces += [face(20, 20, 10 + 8 * (i - 1)), face(60, 30, 20)]
    if i >= 3:
        faces.append(face(90, 60, 30))
    return sorted(faces, key=lambda f: -f.area)


@pytest.fixture
def gif(tmp_path):
    path = tmp_path / "clip.gif"
    frames = [Image.fromarray(np.full((80, 120, 3), 20 * i, np.uint8)) for i in range(5)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[40, 50, 60, 70, 80], loop=0)
    return path


@pytest.fixture
def use_analyzer(monkeypatch):
    def install(script):
        monkeypatch.setattr(factory, "create_analyzer", lambda *a, **k: ScriptedAnalyzer(script))

    return install


def test_animation_json_contract_and_tracked_indexes(gif, use_analyzer, capsys):
    use_analyzer(clip_script)
    assert main(["faces", str(gif), "--json", "--detect-every", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reference_frame"] == 1 and report["frame_count"] == 5
    faces = report["faces"]
    assert [f["index"] for f in faces] == [0, 1, 2]
    # B then A by size at frame 1 (though A is larger later), then C who entered at frame 3
    assert [f["box"] for f in faces] == [[50, 20, 70, 40], [15, 15, 25, 25], [75, 45, 105, 75]]
    assert [(f["first_frame"], f["frames_seen"]) for f in faces] == [(1, 4), (1, 4), (3, 2)]
    assert set(faces[0]) == {"index", "box", "score", "first_frame", "frames_seen"}


def test_named_reference_frame_and_out_of_range(gif, use_analyzer, capsys):
    use_analyzer(clip_script)
    assert main(["faces", str(gif), "--json", "--reference-frame", "4", "--detect-every", "1"]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert [f["box"][2] - f["box"][0] for f in faces] == [34, 30, 20]  # A, C, B at frame 4
    assert main(["faces", str(gif), "--reference-frame", "9"]) == 8  # FaceIndexError
    assert "5 frames" in capsys.readouterr().err
    assert main(["faces", str(gif), "--reference-frame", "0"]) == 7  # NoFaceError: none in frame 0
    assert "reference frame 0" in capsys.readouterr().err


def test_still_picture_has_size_ranks_and_no_animation_keys(tmp_path, use_analyzer, capsys):
    path = tmp_path / "still.png"
    Image.fromarray(np.zeros((80, 120, 3), np.uint8)).save(path)
    use_analyzer(lambda i: [face(30, 30, 10), face(80, 40, 30)])
    assert main(["faces", str(path), "--json"]) == 0
    faces = json.loads(capsys.readouterr().out)["faces"]
    assert [f["box"] for f in faces] == [[65, 25, 95, 55], [25, 25, 35, 35]]
    assert set(faces[0]) == {"index", "box", "score"}


def test_no_face_is_an_empty_listing(tmp_path, use_analyzer, capsys):
    path = tmp_path / "still.png"
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(path)
    use_analyzer(lambda i: [])
    assert main(["faces", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"] == []


def test_preview_numbers_reference_faces_and_shows_newcomers_below(gif, tmp_path, use_analyzer, capsys):
    use_analyzer(clip_script)
    out = tmp_path / "preview.png"
    assert main(["faces", str(gif), "--preview", str(out)]) == 0
    assert "preview" in capsys.readouterr().out
    picture = np.asarray(Image.open(out).convert("RGB"))
    assert picture.shape[1] == 120 and picture.shape[0] > 80  # a strip for C under the frame
    frame = picture[:80]
    # B's box (index 0) is outlined in its colour; A's (index 1) in another
    assert tuple(frame[30, 50]) != tuple(frame[30, 45]) and frame[30, 50].max() > 100
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_preview_with_unknown_extension_is_an_options_error(gif, tmp_path, use_analyzer, capsys):
    use_analyzer(clip_script)
    assert main(["faces", str(gif), "--preview", str(tmp_path / "p.nope")]) == 2
    assert "extension" in capsys.readouterr().err


def test_real_dlib_analyzer_on_the_astronaut(tmp_path, capsys):
    skimage = pytest.importorskip("skimage.data")
    path = tmp_path / "astronaut.png"
    Image.fromarray(skimage.astronaut()).save(path)
    assert main(["faces", str(path), "--json", "--engine", "classic"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["analyzer"] == "dlib" and len(report["faces"]) == 1
    x1, y1, x2, y2 = report["faces"][0]["box"]
    assert 140 < (x1 + x2) / 2 < 260 and 60 < (y1 + y2) / 2 < 160  # her face, not the patch
