"""The engine set-ups a benchmark runs: loaded once, timed apart from the swaps.

- ``classic``: the embedded default, exactly what ``engine="classic"`` loads (dlib analyzer +
  classic engine).
- ``inswapper``: the inswapper engine (our alignment, batching and paste-back) on the sized
  synthetic model of :mod:`frameswap.bench.sized_model`. The insightface detector's synthetic
  double finds no real faces, so faces come from the dlib analyzer and the 512-D latent is derived
  from dlib's 128-D descriptor (tiled and normalised): detection costs dlib's time, not det_10g's,
  and the swapped pixels are not a face, so identity figures are not computed for this set-up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from frameswap.errors import OptionsError
from frameswap.faces.types import Face

SETUP_NAMES = ("classic", "inswapper")


@dataclass
class Setup:
    """A loaded analyzer + engine pair, how long loading took, and what it stands for."""

    name: str
    analyzer: Any
    engine: Any
    load_seconds: float
    note: str
    identity_meaningful: bool
    macs_per_face: int | None = None


class Latent512Analyzer:
    """Wrap an analyzer so each face carries a unit 512-D embedding (the inswapper's latent input).

    Derived from the wrapped analyzer's own descriptor, so the same person gets the same latent.
    """

    name = "dlib+latent512"

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    @staticmethod
    def _widen(face: Face) -> Face:
        if face.embedding is None:
            return face
        wide = np.resize(np.asarray(face.embedding, np.float32), 512)
        return replace(face, embedding=wide / max(float(np.linalg.norm(wide)), 1e-6))

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        return [[self._widen(f) for f in faces] for faces in self.inner.analyze(images, embed=embed)]

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        return [[self._widen(f) for f in fs] for fs in self.inner.embed(images, faces)]

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        return [[self._widen(f) for f in fs] for fs in self.inner.describe(images, faces, embed=embed)]


class TimedAnalyzer:
    """Pass-through analyzer that adds up the seconds spent in it (the source photo's analysis is
    not in the pipeline's stage times, but it is model compute, not overhead)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _timed(self, method: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return getattr(self.inner, method)(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        return self._timed("analyze", images, embed=embed)

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        return self._timed("embed", images, faces)

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        return self._timed("describe", images, faces, embed=embed)


def load_setup(name: str, work_dir: Path, *, inswapper_width: int = 128, inswapper_blocks: int = 12) -> Setup:
    """Load one set-up by name (``classic`` or ``inswapper``); building the sized model is not timed."""
    from frameswap.faces.dlib_backend import DlibAnalyzer

    if name == "classic":
        from frameswap.factory import create_engine

        start = time.perf_counter()
        analyzer = DlibAnalyzer.from_packages()
        engine = create_engine("classic", store=None)  # exactly what a swap uses
        return Setup("classic", analyzer, engine, time.perf_counter() - start,
                     "CenterFace + dlib 68 landmarks + classic mesh-warp engine (the embedded default)",
                     True)
    if name == "inswapper":
        from frameswap.bench.sized_model import build_sized_inswapper, sized_macs
        from frameswap.engines.inswapper import InswapperEngine
        from frameswap.models.session import SessionOptions

        model = work_dir / "models" / f"inswapper_sized_w{inswapper_width}_b{inswapper_blocks}.onnx"
        if not model.is_file():
            build_sized_inswapper(model, width=inswapper_width, blocks=inswapper_blocks)
        start = time.perf_counter()
        analyzer = Latent512Analyzer(DlibAnalyzer.from_packages())
        engine = InswapperEngine.from_path(model, SessionOptions(providers=("cpu",)))
        macs = sized_macs(inswapper_width, inswapper_blocks)
        return Setup(
            "inswapper", analyzer, engine, time.perf_counter() - start,
            f"inswapper engine on a synthetic model with the real I/O contract, "
            f"{macs / 1e9:.2f} GMAC/face (width {inswapper_width}, {inswapper_blocks} style blocks); "
            "faces from dlib",
            False,
            macs,
        )
    raise OptionsError(f"unknown benchmark engine {name!r}; use one of: {', '.join(SETUP_NAMES)}")


