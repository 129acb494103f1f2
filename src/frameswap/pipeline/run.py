"""The one function every front calls: swap faces from a source photo into a target, end to end.

The default path is one streaming pass: a decode thread, batched processing (detect/track, select,
swap, restore) and an encode thread, joined by bounded queues, so memory stays flat and every
stage overlaps. Indexes are given to people as they appear (the reference frame is the first frame
with a face), and an index that never names anyone fails at the end, before the output is moved
into place (the writer is atomic, so nothing is written).

When the caller names a reference frame, people seen before it may take indexes after its own
faces, so the whole clip is analysed first (face records only) and swapped in a second pass.

Frames with no selected face pass through unchanged; runs of identical frames are processed once.

``swap_frames`` is the same pipeline over frames a caller hands in as arrays (from imageio, a
camera, a renderer) instead of a file: the same analysis, index rules, batches and swap stage,
with swapped frames handed back one for each frame in instead of encoded.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from tqdm import tqdm

from frameswap.engines.base import MultiPhotoEngine, PerFaceSource, SwapEngine, SwapJob, ToneAwareEngine
from frameswap.engines.regions_keep import keep_regions
from frameswap.errors import NoFaceError, OptionsError, OverwriteInputError, UnsupportedMediaError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.gender import target_analyzer
from frameswap.faces.select import IdentityIndex, StreamingIndex, out_of_range, pair_indexes, parse_indexes
from frameswap.faces.smooth import ToneSmoother
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.identity.model import Identity
from frameswap.identity.source import identity_faces, source_photos
from frameswap.media import MediaReader, Source, format_for, open_media
from frameswap.media.pillow_io import png_bytes
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming
from frameswap.media.writer import same_file
from frameswap.options import SwapOptions
from frameswap.pipeline.analysis import ClipAnalyzer, analyze_target, batched
from frameswap.pipeline.result import SwapResult
from frameswap.pipeline.stats import StageTimes
from frameswap.pipeline.threads import Consumer, Prefetch
from frameswap.provenance import Disclosure, Ingredient, ingredient_of

if TYPE_CHECKING:
    from frameswap.engines.restoration import FaceRestorer

Fetcher = Callable[[str], bytes]
ProgressCallback = Callable[[int, int], None]
SourcePhoto: TypeAlias = Source | np.ndarray  # a file, bytes, URL... or an RGB uint8 array (H, W, 3)
# what a swap takes as its source: one photo, an identity, or photos of one person (an identity)
SourceImage: TypeAlias = SourcePhoto | Identity | Sequence[SourcePhoto]
QUEUE_FRAMES = 8
# Frames in flight are bounded by pixels too: each queue and batch holds QUEUE_FRAMES frames up to
# 1080p, fewer of larger ones (one at 4096x4096). Counted in frames only, a small-canvas GIF's
# 4096x4096 canvases filled every queue (decode, batch, swap, encode: ~40 of them), and a swap's
# memory grew with the clip's frames up to 2.8 GB (issue 11's 69 KB GIF).
QUEUE_PIXELS = QUEUE_FRAMES * 1920 * 1080
_Work = tuple[Frame, list[SwapJob], bool]  # a frame, its swap jobs, whether it repeats the last
_Batches = Generator[list[_Work], None, None]
Decode = Callable[[], Iterator[Frame]]  # one fresh pass over the target's frames
# caller-supplied arrays carry no timing; nothing in the swap reads it, the frame index is the clock
_NO_TIMING = Fraction(1, 1)


@dataclass
class Models:
    """The loaded models one swap uses, and the locks that keep each model to one caller at a
    time (dlib objects and ONNX sessions are shared by concurrent requests): one for the analyzer,
    one for the engine and restorer, so one batch can be analysed while the previous is swapped."""

    analyzer: FaceAnalyzer
    engine: SwapEngine
    restorer: FaceRestorer | None = None
    analyzer_lock: threading.Lock = field(default_factory=threading.Lock)
    engine_lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Selection:
    """The checked index pairs and the prepared source of each; ``found`` is filled at the end."""

    pairs: list[tuple[int, int]]
    prepared: dict[int, Any]  # source index → engine's prepared source
    source_count: int  # faces found in the source photo
    source: Ingredient  # the source photo as read (its file is never to be overwritten)
    source_files: tuple[Path, ...] = ()  # every file the source was read from (never overwritten)
    found: int = 0  # people indexed in the target

    def source_for_target(self) -> dict[int, Any]:
        return {t: self.prepared[s] for t, s in self.pairs}


@dataclass
class _Run:
    """What every pass over one target needs: the models, the options, the checked selection,
    the stage clock, and the cancel event (None: the caller stops by not asking for more)."""

    models: Models
    options: SwapOptions
    selection: _Selection
    stats: StageTimes
    cancel: threading.Event | None = None


def analyze_source(
    models: Models, source: SourcePhoto, options: SwapOptions, fetcher: Fetcher | None
) -> tuple[np.ndarray, list[Face], Ingredient]:
    """The source photo's first frame, its faces (large to small; NoFaceError when none) and the
    photo itself (bytes or file, and format: provenance names it as an ingredient). An RGB array
    is taken as the photo itself (its ingredient is the array as a PNG)."""
    if isinstance(source, np.ndarray):
        rgb = _checked_rgb(source, "the source image")
        photo = ingredient_of(ResolvedSource("source photo", data=png_bytes(rgb)), "png", "source photo")
    else:
        with open_media(source, limits=options.limits, fetcher=fetcher, name="source") as reader:
            rgb = next(iter(reader.frames())).rgb
            photo = ingredient_of(reader.source, reader.info.format, "source photo")
    embed = getattr(models.engine, "needs_source_embedding", True)
    with models.analyzer_lock:
        faces = sort_large_to_small(models.analyzer.analyze([rgb], embed=embed)[0])
    if not faces:
        raise NoFaceError("no face found in the source image; use a photo with a clear, frontal face")
    return rgb, faces, photo


def _checked_rgb(array: object, what: str) -> np.ndarray:
    """``array`` as a C-contiguous RGB uint8 (H, W, 3) array of the pipeline's own (a copy: the
    caller may reuse its buffer while frames wait in a batch), or an error naming ``what``."""
    rgb = np.asarray(array)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.size == 0:
        hint = " (drop the alpha channel: frame[..., :3])" if rgb.ndim == 3 and rgb.shape[2] == 4 else ""
        raise UnsupportedMediaError(
            f"{what}: expected an RGB uint8 array of shape (H, W, 3), got {rgb.dtype} {rgb.shape}{hint}"
        )
    return np.array(rgb, order="C", copy=True)


def _prepare_identity(models: Models, identity: Identity) -> Any:
    """One prepared source from every photo of an identity (each engine combines them its way)."""
    engine = models.engine
    if not isinstance(engine, MultiPhotoEngine):
        raise OptionsError(f"the {engine.name} engine cannot use an identity of several photos")
    embed = getattr(engine, "needs_source_embedding", True)
    with models.analyzer_lock:
        photos = identity_faces(identity, models.analyzer, embed=embed)
    with models.engine_lock:
        return engine.prepare_photos(photos)


def _identity_ingredient(identity: Identity, path: Path | None) -> Ingredient:
    """What provenance names as the source of an identity: its first photo's face crop as a PNG
    (a manifest's ingredient is a picture, not the identity's zip), titled by the identity file."""
    title = path.name if path is not None else "source identity"
    crop = png_bytes(identity.photos[0].image)
    return ingredient_of(ResolvedSource(title, data=crop), "png", title)


def _select(
    models: Models, source: SourceImage, options: SwapOptions, fetcher: Fetcher | None
) -> _Selection:
    """Parse and pair the indexes, check the source ones, prepare each source face once."""
    targets = parse_indexes(options.input_faces_index, "input_faces_index")
    sources = parse_indexes(options.source_faces_index, "source_faces_index")
    pairs = pair_indexes(targets, sources)
    given = source_photos(
        source, models.analyzer, models.analyzer_lock, limits=options.limits, fetcher=fetcher
    )
    if given.identity is not None:  # one person: source index 0 only
        for _, s in pairs:
            if s != 0:
                raise out_of_range("source_faces_index", s, 1, "source identity")
        prepared = {0: _prepare_identity(models, given.identity)}
        return _Selection(pairs=pairs, prepared=prepared, source_count=1,
                          source=_identity_ingredient(given.identity, given.path), source_files=given.files)
    assert given.photo is not None  # not an identity: one photo
    source_rgb, source_faces, photo = analyze_source(models, given.photo, options, fetcher)
    for _, s in pairs:
        if s >= len(source_faces):
            raise out_of_range("source_faces_index", s, len(source_faces), "source")
    with models.engine_lock:
        used = {s for _, s in pairs}
        prepared = {s: models.engine.prepare_source(source_rgb, source_faces[s]) for s in used}
    return _Selection(pairs=pairs, prepared=prepared, source_count=len(source_faces), source=photo,
                      source_files=given.files)


def run_swap(
    models: Models,
    source: SourceImage,
    target: Source,
    destination: Path | None,
    options: SwapOptions,
    *,
    fetcher: Fetcher | None = None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SwapResult:
    """Swap faces from ``source`` into ``target``; write ``destination`` or return bytes.

    ``on_progress(done, total)`` counts frames over the passes made (one, or two when a reference
    frame is named).
    """
    started = time.perf_counter()
    stats = StageTimes()
    # the target's faces may be filtered (gender); the source's never are
    target_models = replace(models, analyzer=target_analyzer(models.analyzer, options.gender))
    selection = _select(models, source, options, fetcher)
    with open_media(target, limits=options.limits, fetcher=fetcher, name="target") as reader:
        info = reader.info
        in_flight = _frames_in_flight(info.width, info.height)
        options = replace(options, batch_size=min(options.batch_size, in_flight))
        if destination is not None:
            for path in (reader.path, selection.source.source.path, *selection.source_files):
                if same_file(destination, path):
                    raise OverwriteInputError(f"{destination}: refusing to overwrite an input file")
        fmt = format_for(destination, info, options.output_format)
        disclosure = Disclosure.prepare(options.disclosure, fmt)
        target_ingredient = ingredient_of(reader.source, info.format, "target")
        two_pass = options.reference_frame is not None
        total = info.frame_count * (2 if two_pass else 1)
        done = 0

        def tick() -> None:
            nonlocal done
            done += 1
            bar.update(1)
            if on_progress is not None:
                on_progress(done, total)

        def encode(frames: Iterator[Frame]) -> Path | bytes:
            return disclosure.write(
                frames,
                info,
                fmt,
                destination,
                audio_from=reader,
                options=options.encode,
                target=target_ingredient,
                source=selection.source,
            )

        writer = Consumer(encode, maxsize=in_flight, on_wait_seconds=lambda s: stats.add("wait", s))
        encode_started = time.perf_counter()
        swap = _BatchSwapper(models, stats, options.keep)

        def render(batches: Iterator[list[_Work]]) -> None:
            # the swap stage's thread: swap each analysed batch while the next one is analysed
            for batch in batches:
                for frame in swap(batch):
                    writer.put(frame)
                    tick()

        try:
            with tqdm(total=total, desc="swapping", unit="frame", disable=not progress, leave=False) as bar:
                stage = Consumer(render, maxsize=2, name="frameswap-swap",
                                 on_wait_seconds=lambda s: stats.add("wait", s))
                try:
                    def decode() -> Iterator[Frame]:
                        return _decoded(reader, stats, cancel, in_flight)

                    run = _Run(target_models, options, selection, stats, cancel)
                    batches = _batches(decode, run, tick)
                    try:
                        for batch in batches:
                            stage.put(batch)
                    finally:
                        batches.close()  # stops the decode thread and closes its container
                    stage.finish()
                except BaseException:
                    stage.abort()
                    raise
        except BaseException:
            writer.abort()  # the writer drops its temp file: nothing is written
            raise
        result = writer.finish()
        # the encoder's own work: its thread's lifetime less the time it sat waiting for frames
        stats.add("encode", time.perf_counter() - encode_started - writer.starved_seconds)
    stats.wall_seconds = time.perf_counter() - started
    return SwapResult(
        path=result if isinstance(result, Path) else None,
        data=result if isinstance(result, bytes) else None,
        format=fmt,
        info=info,
        stats=stats,
        engine=models.engine.name,
        faces_found=selection.found,
    )


def _frames_in_flight(width: int, height: int) -> int:
    """How many frames of this size one queue or batch may hold (see ``QUEUE_PIXELS``)."""
    return max(1, min(QUEUE_FRAMES, QUEUE_PIXELS // max(1, width * height)))


def _decoded(
    reader: MediaReader, stats: StageTimes, cancel: threading.Event | None, ahead: int
) -> Iterator[Frame]:
    """The reader's frames, decoded on a background thread at most ``ahead`` frames ahead."""
    return iter(
        Prefetch(
            reader.frames(),
            maxsize=ahead,
            cancel=cancel,
            on_item_seconds=lambda s: stats.add("decode", s),
            on_wait_seconds=lambda s: stats.add("wait", s),
        )
    )


def _batches(decode: Decode, run: _Run, tick: Callable[[], None]) -> _Batches:
    """The analysed batches of the target, each frame with its swap jobs: one streaming pass, or
    two when a reference frame is named (``tick`` counts the first pass's frames)."""
    if run.options.reference_frame is not None:
        return _two_passes(decode, run, tick)
    return _one_pass(decode, run)


def _one_pass(decode: Decode, run: _Run) -> _Batches:
    """Stream: analyse a batch and name its people, hand it to the swap stage; check the indexes
    at the end (an error there aborts the writer, so nothing is written)."""
    models, options, selection = run.models, run.options, run.selection
    source_for = selection.source_for_target()
    index = StreamingIndex(wanted=source_for)  # numbers people, and has only theirs analysed in full
    clip = ClipAnalyzer(models.analyzer, options.tracker, stats=run.stats, model_lock=models.analyzer_lock,
                        focus=index)
    for batch in batched(decode(), options.batch_size, run.cancel):
        work: list[_Work] = []
        for frame, result in zip(batch, clip.analyze(batch), strict=True):
            index.observe(frame.index, result.faces)
            jobs = [
                SwapJob(target=face, source=source_for[index.index_of[face.track_id]])
                for face in result.faces
                if face.track_id is not None and index.index_of.get(face.track_id) in source_for
            ]
            work.append((frame, jobs, result.repeats_previous))
        yield work
    index.check([t for t, _ in selection.pairs])
    selection.found = index.count


def _two_passes(decode: Decode, run: _Run, tick: Callable[[], None]) -> _Batches:
    """Analyse the whole clip first (a named reference frame needs it), then swap."""
    models, options, selection = run.models, run.options, run.selection
    analysis = analyze_target(
        decode(),
        models.analyzer,
        tracker_options=options.tracker,
        batch_size=options.batch_size,
        stats=run.stats,
        model_lock=models.analyzer_lock,
        cancel=run.cancel,
        on_frame=lambda _: tick(),
    )
    index = IdentityIndex.from_tracks(analysis.faces, options.reference_frame)
    source_of_track = {index.track_of(t): s for t, s in selection.pairs}
    selection.found = len(index.faces)
    prepared = selection.prepared
    for batch in batched(decode(), options.batch_size, run.cancel):
        work: list[_Work] = []
        for frame in batch:
            jobs = [
                SwapJob(target=face, source=prepared[source_of_track[face.track_id]])
                for face in analysis.faces[frame.index]
                if face.track_id in source_of_track
            ]
            work.append((frame, jobs, analysis.repeats_previous[frame.index]))
        yield work


def swap_frames(
    models: Models,
    source: SourceImage,
    frames: Iterable[np.ndarray],
    options: SwapOptions,
    *,
    fetcher: Fetcher | None = None,
) -> Iterator[np.ndarray]:
    """The swapped frames of ``frames`` (RGB uint8 arrays), in order, one out for each in.

    The source and the index lists are checked now; the frames are read lazily, on the caller's
    thread, at most two batches ahead of the frame being handed out, so memory stays bounded
    however long the input. Analysis (detect, track, index) runs on the caller's thread while
    the previous batch is swapped on a worker thread, as in ``run_swap``. A named reference
    frame needs two passes, so ``frames`` must then be a collection (a list), not an iterator.
    An index that never names anyone raises at the end of the input, as ``run_swap`` does.
    """
    two_pass = options.reference_frame is not None
    if two_pass and iter(frames) is frames:
        raise OptionsError(
            "reference_frame needs two passes over the frames: pass them as a list (or another "
            "collection), not a one-shot iterator"
        )
    target_models = replace(models, analyzer=target_analyzer(models.analyzer, options.gender))
    selection = _select(models, source, options, fetcher)
    stats = StageTimes()

    def decode() -> Iterator[Frame]:
        for i, rgb in enumerate(frames):
            yield Frame(i, _checked_rgb(rgb, f"frame {i}"), FrameTiming(i, 1, _NO_TIMING))

    batches = _batches(decode, _Run(target_models, options, selection, stats), lambda: None)
    return _swapped_arrays(batches, _BatchSwapper(models, stats, options.keep))


def _swapped_arrays(batches: _Batches, swap: _BatchSwapper) -> Iterator[np.ndarray]:
    """Swap each batch on one worker thread (in order, as the tone smoothing needs) while the
    next is analysed here; hand out the frames of the batch before."""
    previous: np.ndarray | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="frameswap-swap") as pool:
        try:
            for future in _one_ahead(pool.submit(swap, batch) for batch in batches):
                for frame in future.result():
                    # a repeated frame's output is the previous output object: hand out a copy,
                    # so a caller that edits one frame in place never edits another
                    previous = frame.rgb.copy() if frame.rgb is previous else frame.rgb
                    yield previous
        finally:
            batches.close()


def _one_ahead(futures: Iterator[Future[list[Frame]]]) -> Iterator[Future[list[Frame]]]:
    """Each future, handed out once the next one has been started (so work overlaps)."""
    pending: Future[list[Frame]] | None = None
    for future in futures:
        if pending is not None:
            yield pending
        pending = future
    if pending is not None:
        yield pending


def changed_faces(before: np.ndarray, after: np.ndarray, boxes: Sequence[np.ndarray]) -> list[bool]:
    """Per face box of one frame, whether the swap changed it: an engine may leave a selected face
    as it is (the classic engine leaves profiles), and a count of swapped faces must not include it.

    A face is judged on its box's pixels outside every other face's box (on its whole box when
    others cover it all): where two boxes overlap, the neighbour's new face may reach into it.
    """
    h, w = before.shape[:2]
    clipped = [
        (max(0, int(np.floor(b[0]))), max(0, int(np.floor(b[1]))),
         min(w, int(np.ceil(b[2]))), min(h, int(np.ceil(b[3]))))
        for b in boxes
    ]
    out = []
    for k, (x1, y1, x2, y2) in enumerate(clipped):
        if x2 <= x1 or y2 <= y1:
            out.append(False)
            continue
        differs = np.any(before[y1:y2, x1:x2] != after[y1:y2, x1:x2], axis=-1)
        own = np.ones_like(differs)
        for j, (a1, b1, a2, b2) in enumerate(clipped):
            if j != k:
                own[max(b1 - y1, 0) : max(b2 - y1, 0), max(a1 - x1, 0) : max(a2 - x1, 0)] = False
        out.append(bool(differs[own].any() if own.any() else differs.any()))
    return out


class _BatchSwapper:
    """Swap (and restore) a batch of frames in one engine call; identical frames reuse the output.

    Batches arrive in clip order on one thread, so this is also where a tone-aware engine's
    per-face colour statistics are smoothed along each track (``ToneSmoother``).
    """

    def __init__(self, models: Models, stats: StageTimes, keep: tuple[str, ...] = ()) -> None:
        self.models = models
        self.stats = stats
        self.keep = keep  # target regions put back after the swap and the restorer
        self.last_output: np.ndarray | None = None
        engine = models.engine
        self.tones = ToneSmoother()
        if isinstance(engine, ToneAwareEngine):
            self.tones = ToneSmoother(engine.tone_alpha)
        self.photo_of_track: dict[int, int] = {}  # the photo each track used last (PerFaceSource)

    def _with_photos(self, jobs: list[SwapJob]) -> list[SwapJob]:
        """Resolve sources that pick a photo per target face, with each track's last pick."""
        out = []
        for job in jobs:
            if isinstance(job.source, PerFaceSource):
                track = job.target.track_id
                previous = self.photo_of_track.get(track) if track is not None else None
                chosen, source = job.source.pick(job.target, previous)
                if track is not None:
                    self.photo_of_track[track] = chosen
                job = replace(job, source=source)
            out.append(job)
        return out

    def _with_tones(self, frame: Frame, jobs: list[SwapJob]) -> list[SwapJob]:
        engine = self.models.engine
        if not isinstance(engine, ToneAwareEngine):
            return jobs
        out = []
        for job in jobs:
            tone = engine.measure_tone(frame.rgb, job.target)
            if tone is not None:
                tone = self.tones.smooth(job.target.track_id, tone, frame.index)
            out.append(replace(job, tone=tone))
        return out

    def __call__(self, batch: list[_Work]) -> list[Frame]:
        models, stats = self.models, self.stats
        work = [
            (frame, self._with_tones(frame, self._with_photos(jobs)))
            for frame, jobs, repeat in batch
            if jobs and not repeat
        ]
        results: dict[int, np.ndarray] = {}
        if work:
            with models.engine_lock:
                with stats.timed("swap"):
                    swapped = models.engine.swap([f.rgb for f, _ in work], [jobs for _, jobs in work])
                if models.restorer is not None:
                    with stats.timed("restore"):
                        faces = [[job.target for job in jobs] for _, jobs in work]
                        swapped = models.restorer.restore(swapped, faces)
            if self.keep:
                swapped = [
                    keep_regions(f.rgb, rgb, [job.target for job in jobs], self.keep)
                    for (f, jobs), rgb in zip(work, swapped, strict=True)
                ]
            changed = sum(
                sum(changed_faces(f.rgb, rgb, [job.target.box for job in jobs]))
                for (f, jobs), rgb in zip(work, swapped, strict=True)
            )
            stats.faces_swapped += changed
            stats.faces_unchanged += sum(len(jobs) for _, jobs in work) - changed
            results = {f.index: rgb for (f, _), rgb in zip(work, swapped, strict=True)}
        out = []
        for frame, jobs, repeat in batch:
            if frame.index in results:
                rgb = results[frame.index]
            elif jobs and repeat and self.last_output is not None:
                rgb = self.last_output  # identical input frame: identical output, processed once
            else:
                rgb = frame.rgb  # no selected face: passes through unchanged
            self.last_output = rgb
            out.append(frame.with_rgb(rgb))
        return out
