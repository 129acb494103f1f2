"""Shared fixtures for the engine tests: synthetic contract models (built once) and small frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from frameswap.faces.dlib_backend import DlibAnalyzer
from kit.synthetic_swap import (
    build_codeformer,
    build_gfpgan,
    build_inswapper,
    build_inswapper_realistic,
)


@pytest.fixture(scope="session")
def swap_model_dir(tmp_path_factory) -> Path:
    """Every synthetic model the engine tests use, built once per session."""
    root = tmp_path_factory.mktemp("engine_models")
    build_inswapper(root / "inswapper_static.onnx", "static")
    build_inswapper(root / "inswapper_dynamic.onnx", "dynamic")
    for variant in ("hardcoded", "friendly", "silent"):
        build_inswapper_realistic(root / f"inswapper_{variant}.onnx", variant)
    build_gfpgan(root / "gfpgan.onnx", "static")
    build_gfpgan(root / "gfpgan_dynamic.onnx", "dynamic")
    for naming in ("facefusion", "hs", "scalar"):
        build_codeformer(root / f"codeformer_{naming}.onnx", naming)
    return root


@pytest.fixture(scope="session")
def swap_frames() -> list[np.ndarray]:
    """Three different small RGB frames (320x240) cut from the astronaut photo."""
    img = data.astronaut()
    crops = [img[0:360, 40:520], img[60:420, 0:480], img[100:460, 32:512]]
    return [np.ascontiguousarray(cv2.resize(c, (320, 240), interpolation=cv2.INTER_AREA)) for c in crops]


@pytest.fixture(scope="session")
def analyzer() -> DlibAnalyzer:
    """The embedded analyzer (CenterFace + dlib's landmarks and descriptor); it keeps no state
    between calls, so the session shares one."""
    return DlibAnalyzer.from_packages()
