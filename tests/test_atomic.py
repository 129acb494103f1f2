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
