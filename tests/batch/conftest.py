"""Batch fixtures; the mixed folder and its helpers are in ``kit.batch``."""

from pathlib import Path

import pytest
from PIL import Image

from kit.batch import build_mixed
from kit.media_builders import photo


@pytest.fixture(scope="session")
def mixed(tmp_path_factory) -> Path:
    """The mixed folder (read-only for the tests: they write elsewhere)."""
    return build_mixed(tmp_path_factory.mktemp("mixed") / "in")


@pytest.fixture(scope="session")
def source(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("source") / "face.png"
    Image.fromarray(photo((256, 256))).save(path)
    return path


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def pool_run(mixed, source, models_dir, tmp_path_factory):
    """The mixed folder through the local process pool (2 workers), once for the session."""
    from frameswap.batching import batch

    out = tmp_path_factory.mktemp("pool") / "out"
    result = batch(source, [mixed], out, workers=2, report=out.parent / "report.jsonl", models_dir=models_dir)
    return out, result
