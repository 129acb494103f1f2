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


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """det_10g, w600k_r50, inswapper_128, gfpgan_1.4 and genderage under their real file names: tiny
    synthetic graphs with the real contracts (``tests/kit``)."""
    from kit.synthetic_detection import build_det_10g, build_genderage, build_w600k_r50
    from kit.synthetic_swap import build_gfpgan, build_inswapper

    directory = tmp_path_factory.mktemp("synthetic-models")
    build_det_10g(directory / "det_10g.onnx")
    build_w600k_r50(directory / "w600k_r50.onnx")
    build_inswapper(directory / "inswapper_128.onnx", batch="static")
    build_gfpgan(directory / "gfpgan_1.4.onnx")
    build_genderage(directory / "genderage.onnx")
    return directory
