"""Shared fixtures for the face tests: dlib's packaged analyzer (its default detector, CenterFace)
and insightface's group photo as RGB. Session-wide: the analyzer keeps no state between calls."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.faces.dlib_backend import DlibAnalyzer


@pytest.fixture(scope="session")
def analyzer() -> DlibAnalyzer:
    return DlibAnalyzer.from_packages()


@pytest.fixture(scope="session")
def t1() -> np.ndarray:
    insightface_data = pytest.importorskip("insightface.data")
    return np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])  # BGR -> RGB
