"""Atomic outputs: complete files only, never a half file, and the user's usual permissions."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from frameswap.atomic import atomic_output
from frameswap.faces.preview import save_image_atomic


@pytest.fixture()
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_outputs_get_the_umask_permissions_not_private_ones(tmp_path, umask_022):
    out = save_image_atomic(tmp_path / "preview.png", np.zeros((8, 8, 3), np.uint8))
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_an_error_leaves_neither_output_nor_temp_file(tmp_path):
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_output(dest) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder failed")
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_success_replaces_the_destination(tmp_path):
    dest = tmp_path / "out.bin"
    with atomic_output(dest) as tmp:
        tmp.write_bytes(b"new")
    assert dest.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_only_abandoned_old_temp_dirs_are_swept(tmp_path):
    """A killed process's ``frameswap-*`` directory goes; a live process's (locked) and a fresh one
    (possibly an older frameswap that does not lock) stay; other directories are never touched."""
    import os
    import time

    from frameswap.atomic import sweep_stale_temp_dirs

    stale, fresh, other = tmp_path / "frameswap-dead", tmp_path / "frameswap-new", tmp_path / "keep-me"
    for path in (stale, fresh, other):
        path.mkdir()
        (path / "out.gif").write_bytes(b"x")
    hour_ago = time.time() - 7200
    for path in (stale, other):
        os.utime(path, (hour_ago, hour_ago))
    live = tmp_path / "frameswap-live"
    live.mkdir()
    os.utime(live, (hour_ago, hour_ago))
    fd = os.open(live, os.O_RDONLY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
        assert sweep_stale_temp_dirs(tmp_path) == [stale]
    finally:
        os.close(fd)
    assert fresh.exists() and other.exists() and live.exists() and not stale.exists()
