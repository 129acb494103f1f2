"""Session fixtures for the end-to-end tests: the bundled samples and one loaded swapper."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def samples(tmp_path_factory):
    from sample_recipe import build_samples

    return build_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="session")
def swapper(tmp_path_factory):
    """A classic-engine swapper with an empty models dir, so nothing from the user's home is used."""
    from frameswap.api import FaceSwapper

    return FaceSwapper(models_dir=Path(tmp_path_factory.mktemp("models")), engine="classic")


@pytest.fixture(scope="session")
def dlib_analyzer():
    from frameswap.faces.dlib_backend import DlibAnalyzer

    return DlibAnalyzer.from_packages()
