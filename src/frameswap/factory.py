"""Wiring: turn names (engine, analyzer, restorer, providers) into loaded objects.

The one place that knows which engine needs which analyzer: inswapper needs the ArcFace latent
of the insightface analyzer; the classic engine needs dlib's 68 landmarks.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from frameswap.errors import OptionsError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.models.session import SessionOptions
from frameswap.options import (
    AnalyzerName,
    CanonicalRestorer,
    EngineName,
    ProviderName,
    canonical_restorer,
    choices,
)

if TYPE_CHECKING:  # the store module loads the registry: imported where a store is opened
    from frameswap.engines.base import SwapEngine
    from frameswap.models.store import ModelStore

ConcreteEngine = Literal["inswapper", "classic"]
ENGINE_ANALYZER: dict[str, AnalyzerName] = {"inswapper": "insightface", "classic": "dlib"}
INSIGHTFACE_FILES = ("det_10g", "w600k_r50")


def open_store(models_dir: Path | None) -> ModelStore:
    """The model store for a directory (None: the per-user default), with the usual extra places."""
    from frameswap.models.store import ModelStore, default_extra_dirs, resolve_models_dir

    directory = Path(models_dir) if models_dir is not None else resolve_models_dir(None, {})
    return ModelStore(directory, extra_dirs=default_extra_dirs(Path.home()))


def insightface_available(store: ModelStore) -> bool:
    """Whether the insightface analyzer's files are present."""
    return all(store.has(name) for name in INSIGHTFACE_FILES)


def installed_engines(store: ModelStore | None) -> list[str]:
    """The engines whose files are present: classic always (its models ship in packages)."""
    return ["inswapper", "classic"] if resolve_engine("auto", store) == "inswapper" else ["classic"]


def installed_restorers(store: ModelStore | None) -> list[str]:
    """The restorers (short names) whose model files are present, besides ``none``."""
    kinds = [k for k in choices(CanonicalRestorer) if k != "none"]
    return [k for k in kinds if store is not None and store.has(k)]


def resolve_engine(name: EngineName, store: ModelStore | None) -> ConcreteEngine:
    """``auto`` → inswapper when its files (and the analyzer's) are present, else classic."""
    if name != "auto":
        return name
    if store is not None and store.has("inswapper_128") and insightface_available(store):
        return "inswapper"
    return "classic"


def resolve_analyzer(
    name: AnalyzerName, engine: ConcreteEngine | None, store: ModelStore | None
) -> AnalyzerName:
    """``auto`` → the analyzer the engine needs; else insightface when present, else dlib."""
    if name != "auto":
        if engine is not None and ENGINE_ANALYZER[engine] != name:
            raise OptionsError(
                f"the {engine} engine needs the {ENGINE_ANALYZER[engine]} analyzer, not {name!r}"
            )
        return name
    if engine is not None:
        return ENGINE_ANALYZER[engine]
    return "insightface" if store is not None and insightface_available(store) else "dlib"


def create_analyzer(
    name: AnalyzerName = "auto",
    *,
    models_dir: Path | None = None,
    store: ModelStore | None = None,
    providers: Sequence[ProviderName] = ("auto",),
    engine: ConcreteEngine | None = None,
) -> FaceAnalyzer:
    """A loaded analyzer by name (``auto`` picks insightface when its files are present)."""
    store = store if store is not None else open_store(models_dir)
    chosen = resolve_analyzer(name, engine, store)
    if chosen == "insightface":
        from frameswap.faces.insightface_backend import InsightFaceAnalyzer

        return InsightFaceAnalyzer.from_store(store, SessionOptions(providers=tuple(providers)))
    from frameswap.faces.dlib_backend import DlibAnalyzer

    return DlibAnalyzer.from_packages()


def create_engine(
    name: ConcreteEngine, *, store: ModelStore | None, providers: Sequence[ProviderName] = ("auto",)
) -> SwapEngine:
    """A loaded swap engine."""
    if name == "inswapper":
        from frameswap.engines.inswapper import InswapperEngine

        if store is None:
            raise OptionsError("the inswapper engine loads its model from a model store; none was given")

        return InswapperEngine.from_path(
            store.path("inswapper_128"),
            SessionOptions(providers=tuple(providers)),
            batch_dynamic_copy=_batch_copy_path(store),
        )
    from frameswap.engines.classic import ClassicEngine

    return ClassicEngine()


def _batch_copy_path(store: ModelStore) -> Path | None:
    """Where a batch-dynamic copy of inswapper may be kept: the models dir, when it is writable
    (a folder the user shares with other tools is never written to)."""
    directory = Path(store.models_dir)
    if directory.is_dir() and os.access(directory, os.W_OK):
        return directory / "inswapper_128.batch-dynamic.onnx"
    return None


def create_restorer(
    name: str,
    *,
    store: ModelStore,
    providers: Sequence[ProviderName] = ("auto",),
    weight: float = 0.5,
    blend: float = 1.0,
) -> Any | None:
    """A loaded face restorer, or None for ``none``. A missing file raises ModelNotFoundError."""
    kind = canonical_restorer(name)
    if kind == "none":
        return None
    from frameswap.engines.restoration import FaceRestorer

    return FaceRestorer.from_path(
        store.path(kind), kind, SessionOptions(providers=tuple(providers)), weight=weight, blend=blend
    )
