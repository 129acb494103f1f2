"""The one function every front calls: swap faces from a source photo into a target, end to end.

Two passes over the target, each streaming through bounded queues:

1. decode thread → batched detect → track → per-frame face records (no pixels kept);
   the indexes are then resolved against the whole clip, so an out-of-range index fails before
   anything is written;
2. decode thread → batched swap → restore → encode thread writing the original timing.

Frames with no selected face pass through unchanged; runs of identical frames are processed once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from frameswap.engines.base import SwapEngine, SwapJob
from frameswap.errors import NoFaceError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.select import IdentityIndex, SwapTarget, select_targets
from frameswap.faces.types import sort_large_to_small
from frameswap.media import encode_bytes, format_for, open_media, write_media
from frameswap.media.types import Frame, MediaInfo
from frameswap.options import SwapOptions
from frameswap.pipeline.analysis import TargetAnalysis, analyze_target
from frameswap.pipeline.stats import StageTimes
from frameswap.pipeline.threads import Consumer, Prefetch

Fetcher = Callable[[str], bytes]
ProgressCallback = Callable[[int, int], None]
QUEUE_FRAMES = 8


@dataclass
class Models:
    """The loaded models one swap uses. ``lock`` serialises model calls between threads."""

    analyzer: FaceAnalyzer
    engine: SwapEngine
    restorer: Any | None = None  # frameswap.engines.restoration.FaceRestorer
    lock: threading.Lock | None = None

    def __post_init__(self) -> None:
        if self.lock is None:
            self.lock = threading.Lock()


@dataclass
class SwapOutcome:
    """What a swap produced: a file path or bytes, its format, and where the time went."""

    path: Path | None
    data: bytes | None
    format: str
    info: MediaInfo
    stats: StageTimes
    indexes_found: int


def analyze_source(models: Models, source: object, options: SwapOptions, fetcher: Fetcher | None):
    """The source photo's first frame and its faces, large to small; NoFaceError when none."""
    with open_media(source, limits=options.limits, fetcher=fetcher, name="source") as reader:
        first = next(iter(reader.frames()))
    assert models.lock is not None
    with models.lock:
        faces = sort_large_to_small(models.analyzer.analyze([first.rgb])[0])
    if not faces:
        raise NoFaceError("no face found in the source image; use a photo with a clear, frontal face")
    return first.rgb, faces


def run_swap(
    models: Models,
    source: object,
    target: object,
    destination: Path | None,
    options: SwapOptions,
    *,
    fetcher: Fetcher | None = None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SwapOutcome:
    """Swap faces from ``source`` into ``target``; write ``destination`` or return bytes."""
    started = time.perf_counter()
    stats = StageTimes()
    lock = models.lock
    assert lock is not None
    source_rgb, source_faces = analyze_source(models, source, options, fetcher)

    with open_media(target, limits=options.limits, fetcher=fetcher, name="target") as reader:
        info = reader.info
        fmt = format_for(destination, info, options.output_format)
        total = info.frame_count
        done = 0

        def tick(_: int) -> None:
            nonlocal done
            done += 1
            if on_progress is not None:
                on_progress(done, 2 * total)

        with tqdm(total=total, desc="analysing", unit="frame", disable=not progress, leave=False) as bar:
            analysis = analyze_target(
                _decoded(reader, stats, cancel),
                models.analyzer,
                tracker_options=options.tracker,
                batch_size=options.batch_size,
                stats=stats,
                model_lock=lock,
                cancel=cancel,
                on_frame=lambda i: (bar.update(1), tick(i)),
            )
        targets = select_targets(
            analysis.faces,
            options.input_faces_index,
            options.source_faces_index,
            len(source_faces),
            options.reference_frame,
        )
        people = len(IdentityIndex.from_tracks(analysis.faces, options.reference_frame).faces)
        used = sorted({t.source_index for frame_targets in targets for t in frame_targets})
        with lock:
            prepared = {s: models.engine.prepare_source(source_rgb, source_faces[s]) for s in used}

        def encode(frames: Iterator[Frame]) -> Path | bytes:
            if destination is None:
                return encode_bytes(frames, info, format=fmt, audio_from=reader, options=options.encode)
            return write_media(
                destination, frames, info, audio_from=reader, options=options.encode, format=fmt
            )

        writer = Consumer(encode, maxsize=QUEUE_FRAMES, on_wait_seconds=lambda s: stats.add("wait", s))
        encode_started = time.perf_counter()
        try:
            with tqdm(total=total, desc="swapping", unit="frame", disable=not progress, leave=False) as bar:
                swapped = _swapped(reader, analysis, targets, prepared, models, options, stats, cancel)
                for frame in swapped:
                    writer.put(frame)
                    bar.update(1)
                    tick(frame.index)
        except BaseException as exc:
            writer.abort(exc)
            raise
        result = writer.finish()
        # the encoder's own work: its thread's lifetime less the time it sat waiting for frames
        stats.add("encode", time.perf_counter() - encode_started - writer.starved_seconds)
    stats.wall_seconds = time.perf_counter() - started
    return SwapOutcome(
        path=result if isinstance(result, Path) else None,
        data=result if isinstance(result, bytes) else None,
        format=fmt,
        info=info,
        stats=stats,
        indexes_found=people,
    )


def _decoded(reader, stats: StageTimes, cancel: threading.Event | None) -> Iterator[Frame]:
    """The reader's frames, decoded on a background thread a bounded number ahead."""
    return iter(
        Prefetch(
            reader.frames(),
            maxsize=QUEUE_FRAMES,
            cancel=cancel,
            on_item_seconds=lambda s: stats.add("decode", s),
            on_wait_seconds=lambda s: stats.add("wait", s),
        )
    )


def _swapped(
    reader,
    analysis: TargetAnalysis,
    targets: list[list[SwapTarget]],
    sources: dict[int, Any],
    models: Models,
    options: SwapOptions,
    stats: StageTimes,
    cancel: threading.Event | None,
) -> Iterator[Frame]:
    """Frames with their selected faces swapped (and restored), in order, in batches."""
    lock = models.lock
    assert lock is not None
    batch: list[tuple[Frame, list[SwapJob]]] = []
    last_output: np.ndarray | None = None

    def process(batch: list[tuple[Frame, list[SwapJob]]]) -> list[Frame]:
        nonlocal last_output
        out: list[Frame] = []
        work = [(f, jobs) for f, jobs in batch if jobs and not analysis.repeats_previous[f.index]]
        results: dict[int, np.ndarray] = {}
        if work:
            with lock:
                with stats.timed("swap"):
                    swapped = models.engine.swap([f.rgb for f, _ in work], [jobs for _, jobs in work])
                if models.restorer is not None:
                    with stats.timed("restore"):
                        swapped = models.restorer.restore(
                            swapped, [[job.target for job in jobs] for _, jobs in work]
                        )
            stats.faces_swapped += sum(len(jobs) for _, jobs in work)
            results = {f.index: rgb for (f, _), rgb in zip(work, swapped, strict=True)}
        for frame, jobs in batch:
            if frame.index in results:
                rgb = results[frame.index]
            elif jobs and analysis.repeats_previous[frame.index] and last_output is not None:
                rgb = last_output  # identical input frame: identical output, processed once
            else:
                rgb = frame.rgb  # no selected face: passes through unchanged
            last_output = rgb
            out.append(frame.with_rgb(rgb))
        return out

    for frame in _decoded(reader, stats, cancel):
        jobs = [SwapJob(target=t.face, source=sources[t.source_index]) for t in targets[frame.index]]
        batch.append((frame, jobs))
        if len(batch) >= options.batch_size:
            yield from process(batch)
            batch = []
    if batch:
        yield from process(batch)
