"""Session-scoped synthetic det_10g / w600k_r50 files and the analyzers built on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from frameswap.faces.insightface_backend import InsightFaceAnalyzer
from frameswap.models.session import SessionOptions
from kit.synthetic_detection import build_det_10g, build_w600k_r50

CPU = SessionOptions(providers=("cpu",), intra_op_threads=1)


@pytest.fixture(scope="session")
def synthetic_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding only the two synthetic buffalo_l files (as insightface's FaceAnalysis wants)."""
    folder = tmp_path_factory.mktemp("buffalo_synthetic")
    build_det_10g(folder / "det_10g.onnx")
    build_w600k_r50(folder / "w600k_r50.onnx")
    return folder


@pytest.fixture(scope="session")
def analyzer(synthetic_models_dir: Path) -> InsightFaceAnalyzer:
    return InsightFaceAnalyzer.from_paths(
        synthetic_models_dir / "det_10g.onnx", synthetic_models_dir / "w600k_r50.onnx", CPU
    )


@pytest.fixture(scope="session")
def insightface_app(synthetic_models_dir: Path):
    """insightface 2.1's own FaceAnalysis on the same files: the oracle."""
    app_mod = pytest.importorskip("insightface.app")
    app = app_mod.FaceAnalysis(
        name=str(synthetic_models_dir),
        allowed_modules=["detection", "recognition"],
        providers=["CPUExecutionProvider"],
    )
    # IF 2.1 defaults det_size=None to multi-scale [(128,128),(640,640)]: pin one size as we do.
    app.prepare(ctx_id=-1, det_size=(640, 640), det_thresh=0.5)
    return app
