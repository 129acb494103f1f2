"""The Python API: ``swap()`` for one call, ``FaceSwapper`` to keep models loaded across calls.

The CLI and the HTTP server are thin fronts over ``FaceSwapper.swap`` and ``FaceSwapper.faces``;
``FaceSwapper.swap_frames`` is the same pipeline for frames a caller already holds as arrays
(imageio, a camera, a renderer).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from frameswap import factory
from frameswap.identity.model import Identity
from frameswap.identity.source import source_photos
from frameswap.options import AnalyzerName, EngineName, ProviderName, SwapOptions, canonical_restorer
from frameswap.pipeline import Models, SwapResult, run_swap
from frameswap.pipeline.listing import FaceListing, Role, list_faces
from frameswap.pipeline.run import swap_frames as run_swap_frames

if TYPE_CHECKING:
    from frameswap.models.store import ModelStore

Source = str | Path | bytes | Any
DEFAULTS = SwapOptions()  # keyword defaults below are the option record's own


class FaceSwapper:
    """Keeps loaded models for many swaps; safe to share between threads.

    Nothing is loaded at construction: the first swap loads the analyzer and engine it needs, and
    each restorer is loaded on first use. Calls into the analyzers are serialised by one lock and
    calls into the engines and restorers by another (dlib objects and one ONNX session per model
    are not meant for concurrent use), so one request's analysis, another's swap, and everyone's
    decoding and encoding overlap.
    """

    def __init__(
        self,
        *,
        models_dir: Path | str | None = None,
        providers: Sequence[ProviderName] = ("auto",),
        engine: EngineName = DEFAULTS.engine,
        analyzer: AnalyzerName = DEFAULTS.analyzer,
    ) -> None:
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self.providers = tuple(providers)
        self.default_engine = engine
        self.default_analyzer = analyzer
        self._load_lock = threading.Lock()
        self._analyzer_lock = threading.Lock()
        self._engine_lock = threading.Lock()
        self._store: Any = None
        self._analyzers: dict[str, Any] = {}  # analyzer name → loaded analyzer
        self._engines: dict[str, Any] = {}  # engine name → loaded engine
        self._restorers: dict[tuple[str, float, float], Any] = {}

    @property
    def store(self) -> ModelStore:
        """The model store (opened on first use)."""
        with self._load_lock:
            if self._store is None:
                self._store = factory.open_store(self.models_dir)
            return self._store

    def _resolve(self, options: SwapOptions) -> tuple[str, str]:
        """The engine and analyzer names a swap with ``options`` uses (``auto`` resolved)."""
        store = self.store
        engine_name = factory.resolve_engine(options.engine, store)
        return engine_name, factory.resolve_analyzer(options.analyzer, engine_name, store)

    def _analyzer(self, engine_name: str, analyzer_name: str) -> Any:
        """The loaded analyzer by name (loaded once, shared by every engine that uses it)."""
        store = self.store
        with self._load_lock:
            if analyzer_name not in self._analyzers:
                self._analyzers[analyzer_name] = factory.create_analyzer(
                    analyzer_name,  # type: ignore[arg-type]
                    store=store,
                    providers=self.providers,
                    engine=engine_name,  # type: ignore[arg-type]
                )
            return self._analyzers[analyzer_name]

    def _models(self, options: SwapOptions) -> Models:
        engine_name, analyzer_name = self._resolve(options)
        analyzer = self._analyzer(engine_name, analyzer_name)
        store = self.store
        with self._load_lock:
            if engine_name not in self._engines:
                self._engines[engine_name] = factory.create_engine(
                    engine_name,  # type: ignore[arg-type]
                    store=store,
                    providers=self.providers,
                )
            engine = self._engines[engine_name]
            restorer = None
            kind = canonical_restorer(options.face_restore)
            if kind != "none":
                key = (kind, options.restore_weight, options.restore_blend)
                if key not in self._restorers:
                    self._restorers[key] = factory.create_restorer(
                        kind,
                        store=store,
                        providers=self.providers,
                        weight=options.restore_weight,
                        blend=options.restore_blend,
                    )
                restorer = self._restorers[key]
        return Models(
            analyzer=analyzer,
            engine=engine,
            restorer=restorer,
            analyzer_lock=self._analyzer_lock,
            engine_lock=self._engine_lock,
        )

    def _default_options(self) -> SwapOptions:
        return SwapOptions(engine=self.default_engine, analyzer=self.default_analyzer)

    def faces(
        self,
        target: Source,
        options: SwapOptions | None = None,
        *,
        role: Role = "target",
        fetcher: Callable[[str], bytes] | None = None,
        cancel: threading.Event | None = None,
    ) -> FaceListing:
        """The faces of ``target`` with the indexes ``swap(..., target, options=options)`` uses.

        The analyzer is resolved exactly as :meth:`swap` resolves it (``auto``: the one the engine
        needs), and an animation is tracked with the same tracker options, so index i here is
        index i there. ``role="source"`` lists a source photo's faces instead (its first frame, as
        ``source_faces_index`` counts them). No engine is loaded.
        """
        options = options or self._default_options()
        engine_name, analyzer_name = self._resolve(options)
        analyzer = self._analyzer(engine_name, analyzer_name)
        return list_faces(
            target,
            analyzer,
            options,
            analyzer_name=analyzer_name,
            engine_name=engine_name,
            role=role,
            fetcher=fetcher,
            model_lock=self._analyzer_lock,
            cancel=cancel,
        )

    def swap(
        self,
        source: Source,
        target: Source,
        output: str | Path | None = None,
        *,
        options: SwapOptions | None = None,
        fetcher: Callable[[str], bytes] | None = None,
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> SwapResult:
        """Swap the chosen source face(s) onto the chosen target face(s).

        ``source`` and ``target`` are a path, bytes, a binary file, a base64 string, a ``data:``
        URI, or an http(s) URL (with a ``fetcher``). ``source`` may also be an identity (an
        :class:`~frameswap.identity.Identity`, or its file in any of those forms) or a list of
        photos of one person (see ``build_identity``). Returns the written path, or the encoded bytes
        when ``output`` is None. Timing, loop count and audio of the target are kept.
        """
        options = options or self._default_options()
        models = self._models(options)
        destination = Path(output) if output is not None else None
        return run_swap(
            models,
            source,
            target,
            destination,
            options,
            fetcher=fetcher,
            progress=progress,
            on_progress=on_progress,
            cancel=cancel,
        )

    def swap_frames(
        self,
        source: Source,
        frames: Iterable[np.ndarray],
        *,
        options: SwapOptions | None = None,
        fetcher: Callable[[str], bytes] | None = None,
    ) -> Iterator[np.ndarray]:
        """Swap faces in frames you already have: yields the swapped frames in order, one for each.

        ``frames`` is any iterable of RGB ``uint8`` arrays (H, W, 3), e.g. ``imageio.v3.imiter(...)``
        or frames you generate; it is read lazily, a few batches ahead, so memory stays bounded
        however long it is. Tracking, index rules (an index names a person, numbered at the first
        frame with a face) and batching are those of :meth:`swap`; timing is yours to keep (the
        frames carry none). ``source`` is what :meth:`swap` takes, or an RGB array. The source and
        the indexes are checked at the call; an index that never names anyone raises at the end.
        With ``options.reference_frame`` the frames are read twice, so pass a list.
        """
        options = options or self._default_options()
        return run_swap_frames(self._models(options), source, frames, options, fetcher=fetcher)

    def build_identity(self, photos: Sequence[Source], *, engine: EngineName | None = None) -> Identity:
        """One person from several photos (paths, bytes, base64...), checked to be one person.

        Built with the analyzer of ``engine``'s swaps (default: this swapper's engine), so those
        swaps use the stored faces as they are. Save it with ``frameswap.identity.save_identity``;
        the file (or the ``Identity`` itself) is then a ``source`` of ``swap``.
        """
        options = SwapOptions(engine=engine or self.default_engine, analyzer=self.default_analyzer)
        models = self._models(options)
        given = source_photos(
            list(photos), models.analyzer, models.analyzer_lock, limits=options.limits, fetcher=None
        )
        assert given.identity is not None
        return given.identity

    def describe(self) -> dict[str, object]:
        """What is loaded and what would be used (for ``GET /v1/info`` and ``frameswap models``)."""
        store = self.store
        return {
            "engine": factory.resolve_engine(self.default_engine, store),
            "loaded_engines": sorted(self._engines),
            "loaded_restorers": sorted({k[0] for k in self._restorers}),
            "providers": list(self.providers),
            # what a request can choose on this server (the page at / lists only these)
            "installed_engines": factory.installed_engines(store),
            "installed_restorers": factory.installed_restorers(store),
        }


def swap(
    source: Source,
    target: Source,
    output: str | Path | None = None,
    *,
    input_faces_index: str = DEFAULTS.input_faces_index,
    source_faces_index: str = DEFAULTS.source_faces_index,
    face_restore: str = DEFAULTS.face_restore,
    engine: EngineName = DEFAULTS.engine,
    models_dir: str | Path | None = None,
    providers: Sequence[ProviderName] = ("auto",),
    progress: bool = False,
    **options: Any,
) -> Path | bytes:
    """One swap with fresh models: returns the output path, or bytes when ``output`` is None.

    Extra keyword arguments are :class:`~frameswap.options.SwapOptions` fields.
    """
    opts = replace(
        SwapOptions(),
        input_faces_index=input_faces_index,
        source_faces_index=source_faces_index,
        face_restore=face_restore,
        engine=engine,
        **options,
    )
    result = FaceSwapper(models_dir=models_dir, providers=providers).swap(
        source, target, output, options=opts, progress=progress
    )
    if result.path is not None:
        return result.path
    assert result.data is not None
    return result.data
