"""Model store: directory resolution, lookup and reuse, checksummed downloads, verify, CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from frameswap.cli import main
from frameswap.errors import ModelChecksumError, ModelDownloadError, ModelNotFoundError
from frameswap.models.registry import Registry, default_registry
from frameswap.models.store import ModelStore, default_extra_dirs, resolve_models_dir

PAYLOAD = bytes(range(256)) * 2048  # 512 KiB
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def http_root(tmp_path_factory):
    """A local HTTP server on 127.0.0.1 serving a small file and a zip archive."""
    root = tmp_path_factory.mktemp("www")
    (root / "tiny.bin").write_bytes(PAYLOAD)
    with zipfile.ZipFile(root / "pack.zip", "w") as zf:
        zf.writestr("member_a.onnx", PAYLOAD)
        zf.writestr("member_b.onnx", PAYLOAD[::-1])
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _registry(base: str) -> Registry:
    entry = {"licence": "test only", "commercial_use": False, "used_by": ["test"], "size": len(PAYLOAD)}
    return Registry.from_dict({
        "archives": {"pack": {"file": "pack.zip", "urls": [f"{base}/pack.zip"], "sha256": None}},
        "models": [
            {**entry, "name": "tiny", "file": "tiny.onnx", "urls": [f"{base}/tiny.bin"],
             "sha256": PAYLOAD_SHA},
            {**entry, "name": "badhash", "file": "bad.onnx", "urls": [f"{base}/tiny.bin"],
             "sha256": "0" * 64},
            {**entry, "name": "offline", "file": "off.onnx",
             "urls": [f"http://127.0.0.1:{_closed_port()}/x.onnx"], "sha256": PAYLOAD_SHA},
            {**entry, "name": "nohash", "file": "nohash.onnx", "urls": [f"{base}/tiny.bin"], "sha256": None},
            {**entry, "name": "a", "file": "member_a.onnx", "archive": "pack", "sha256": PAYLOAD_SHA},
            {**entry, "name": "b", "file": "member_b.onnx", "archive": "pack",
             "sha256": hashlib.sha256(PAYLOAD[::-1]).hexdigest()},
        ],
    })


def _no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.endswith(".part")]


# --- resolution and lookup ---------------------------------------------------------------


def test_models_dir_order_cli_then_env_then_home(tmp_path):
    env = {"FRAMESWAP_HOME": str(tmp_path / "fh"), "HOME": str(tmp_path / "home")}
    assert resolve_models_dir(str(tmp_path / "cli"), env) == tmp_path / "cli"
    assert resolve_models_dir(None, env) == tmp_path / "fh" / "models"
    home_only = {"HOME": str(tmp_path / "home")}
    assert resolve_models_dir(None, home_only) == tmp_path / "home" / ".frameswap" / "models"
    assert resolve_models_dir(None, {"FRAMESWAP_HOME": "", "HOME": "/h"}) == Path("/h/.frameswap/models")


def test_missing_file_names_file_and_download_command(tmp_path):
    store = ModelStore(tmp_path / "models")
    with pytest.raises(ModelNotFoundError) as err:
        store.path("inswapper_128")
    assert "inswapper_128.onnx" in str(err.value)
    assert "frameswap models download inswapper_128" in str(err.value)
    assert not store.has("inswapper_128")


def test_existing_insightface_and_comfyui_downloads_are_reused_in_place(tmp_path):
    home = tmp_path / "home"
    det = home / ".insightface/models/buffalo_l/det_10g.onnx"
    swap = home / ".insightface/models/inswapper_128.onnx"
    comfy_rec = tmp_path / "ComfyUI/models/insightface/models/buffalo_l/w600k_r50.onnx"
    for p in (det, swap, comfy_rec):
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    store = ModelStore(tmp_path / "models", [*default_extra_dirs(home), tmp_path / "ComfyUI"])
    assert store.path("det_10g") == det
    assert store.path("inswapper_128") == swap
    assert store.path("w600k_r50") == comfy_rec
    # download() reuses them instead of touching the network (the real URLs are unreachable here)
    results = store.download(["det_10g", "inswapper_128"], progress=False)
    assert [(r.status, r.path) for r in results] == [("present", det), ("present", swap)]
    assert not (tmp_path / "models").exists()
    # A models-dir copy takes precedence over the reused one.
    own = tmp_path / "models" / "det_10g.onnx"
    own.parent.mkdir()
    own.write_bytes(b"y")
    assert store.path("det_10g") == own


def test_file_given_by_path_is_used(tmp_path):
    f = tmp_path / "elsewhere" / "my_swapper.onnx"
    f.parent.mkdir()
    f.write_bytes(b"z")
    assert ModelStore(tmp_path / "models", overrides={"inswapper_128": f}).path("inswapper_128") == f


# --- downloads -----------------------------------------------------------------------------


def test_download_verifies_hash_and_shows_progress(tmp_path, http_root, capsys):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    [res] = store.download(["tiny"], progress=True)
    assert res.status == "downloaded" and res.verified and res.sha256 == PAYLOAD_SHA
    assert res.path == tmp_path / "models" / "tiny.onnx"
    assert res.path.read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert "tiny.onnx" in err and "100%" in err  # the tqdm bar
    assert _no_temp_files(tmp_path / "models")
    assert store.download(["tiny"], progress=False)[0].status == "present"


def test_wrong_hash_raises_and_leaves_nothing_under_the_final_name(tmp_path, http_root):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    with pytest.raises(ModelChecksumError, match=r"bad\.onnx"):
        store.download(["badhash"], progress=False)
    assert not (tmp_path / "models" / "bad.onnx").exists()
    assert _no_temp_files(tmp_path / "models")


def test_unreachable_host_fails_at_once(tmp_path, http_root):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    with pytest.raises(ModelDownloadError, match="offline"):
        store.download(["offline"], progress=False, timeout_s=5)
    assert not (tmp_path / "models" / "off.onnx").exists()
    assert _no_temp_files(tmp_path / "models")


def test_unconfirmed_hash_is_refused_unless_allowed(tmp_path, http_root):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    with pytest.raises(ModelDownloadError, match="allow-unverified"):
        store.download(["nohash"], progress=False)
    assert not (tmp_path / "models" / "nohash.onnx").exists()
    [res] = store.download(["nohash"], progress=False, allow_unverified=True)
    assert not res.verified and res.sha256 == PAYLOAD_SHA and res.path.read_bytes() == PAYLOAD


def test_archive_members_are_extracted_from_one_download(tmp_path, http_root):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    [res] = store.download(["a"], progress=False)
    assert res.path.read_bytes() == PAYLOAD and res.verified
    assert (tmp_path / "models" / "member_b.onnx").read_bytes() == PAYLOAD[::-1]  # sibling too
    assert not (tmp_path / "models" / "pack.zip").exists()
    assert _no_temp_files(tmp_path / "models")


# --- verify ---------------------------------------------------------------------------------


def test_verify_detects_a_corrupted_file(tmp_path, http_root):
    store = ModelStore(tmp_path / "models", registry=_registry(http_root))
    store.download(["tiny"], progress=False)
    assert [r.status for r in store.verify()] == ["ok"]
    path = tmp_path / "models" / "tiny.onnx"
    data = bytearray(path.read_bytes())
    data[1000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match="tiny"):
        store.verify()


def test_cli_verify_exit_code_on_corruption(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    models = tmp_path / "models"
    models.mkdir()
    (models / "det_10g.onnx").write_bytes(b"not the real detector")
    assert main(["models", "verify", "--models-dir", str(models)]) == 10
    assert "MISMATCH" in capsys.readouterr().out


# --- CLI list --------------------------------------------------------------------------------


def test_cli_list_json_lists_every_entry_with_licence_and_presence(tmp_path, monkeypatch, capsys):
    home = tmp_path / "home"
    det = home / ".insightface/models/buffalo_l/det_10g.onnx"
    det.parent.mkdir(parents=True)
    det.write_bytes(b"x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("FRAMESWAP_HOME", raising=False)
    assert main(["models", "list", "--json", "--models-dir", str(tmp_path / "models")]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {m["name"]: m for m in doc["models"]}
    assert set(rows) == set(default_registry().names())
    assert {"det_10g", "w600k_r50", "inswapper_128", "gfpgan-1.4", "gfpgan-1.3", "codeformer"} <= set(rows)
    assert all(m["licence"] for m in rows.values())
    assert rows["det_10g"]["present"] is True and rows["det_10g"]["path"] == str(det)
    assert rows["inswapper_128"]["present"] is False and rows["inswapper_128"]["path"] is None
    assert "non-commercial" in rows["inswapper_128"]["licence"].lower()
    assert rows["inswapper_128"]["commercial_use"] is False


def test_cli_list_table_shows_licences_prominently(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["models", "list", "--models-dir", str(tmp_path / "models")]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("LICENCES")
    assert "NON-COMMERCIAL" in out and "missing" in out


def test_cli_download_unknown_name_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["models", "download", "nope", "--models-dir", str(tmp_path / "m")]) == 2
