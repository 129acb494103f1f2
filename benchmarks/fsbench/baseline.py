"""The two references every case is measured against, in the same run.

- The floor: decode and encode alone (``open_media`` → ``write_media``), no face touched. What a
  swap costs over this is what the face work costs.
- The naive baseline: how the open tools run a clip (roop, Deep-Live-Cam and friends): decode the
  whole clip into a list, then for every frame detect faces and swap the chosen ones one face at a
  time, with no tracking, no batching, no identical-frame dedupe and no threads, then encode.
  It uses the very same analyzer and engine objects as our pipeline, so the ratio isolates the
  pipeline's design and not a model difference.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from frameswap.engines.base import SwapJob
from frameswap.errors import NoFaceError
from frameswap.faces.types import sort_large_to_small
from frameswap.options import SwapOptions


@dataclass
class NaiveResult:
    """Wall seconds of one naive run and its split by stage."""

    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    faces_swapped: int = 0


def _output_format(destination: Path, info: Any) -> str:
    """The format the pipeline writes for this destination (its extension, else the input's)."""
    from frameswap.media import format_for

    return format_for(destination, info)


def run_floor(target: Path, destination: Path, options: SwapOptions) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) to decode ``target`` and encode it again to
    ``destination`` (same format): the work every swap of it does besides the faces."""
    from frameswap.media import open_media, write_media

    start, cpu = time.perf_counter(), time.process_time()
    with open_media(target, limits=options.limits) as reader:
        write_media(
            destination, reader.frames(), reader.info, audio_from=reader, options=options.encode,
            format=_output_format(destination, reader.info),
        )
    return time.perf_counter() - start, time.process_time() - cpu


def _indexes(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def run_naive(analyzer: Any, engine: Any, source: Path, target: Path, destination: Path,
              options: SwapOptions) -> NaiveResult:
    """One naive swap (see the module docstring); the output is written like the pipeline's."""
    from frameswap.media import open_media, write_media

    stages = dict.fromkeys(("decode", "detect", "swap", "encode"), 0.0)
    start = time.perf_counter()
    with open_media(source, limits=options.limits) as reader:
        source_rgb = next(iter(reader.frames())).rgb
    source_faces = sort_large_to_small(analyzer.analyze([source_rgb])[0])
    if not source_faces:
        raise NoFaceError(f"{source}: no face in the source")
    prepared = engine.prepare_source(source_rgb, source_faces[_indexes(options.source_faces_index)[0]])
    wanted = _indexes(options.input_faces_index)
    swapped = 0
    with open_media(target, limits=options.limits) as reader:
        t = time.perf_counter()
        frames = list(reader.frames())  # everything in memory, as the open tools do
        stages["decode"] = time.perf_counter() - t
        out = []
        for frame in frames:
            t = time.perf_counter()
            faces = sort_large_to_small(analyzer.analyze([frame.rgb])[0])
            stages["detect"] += time.perf_counter() - t
            t = time.perf_counter()
            rgb = frame.rgb
            for index in wanted:
                if index < len(faces):
                    rgb = engine.swap([rgb], [[SwapJob(target=faces[index], source=prepared)]])[0]
                    swapped += 1
            stages["swap"] += time.perf_counter() - t
            out.append(frame.with_rgb(rgb))
        t = time.perf_counter()
        write_media(destination, iter(out), reader.info, audio_from=reader, options=options.encode,
                    format=_output_format(destination, reader.info))
        stages["encode"] = time.perf_counter() - t
    return NaiveResult(time.perf_counter() - start, stages, swapped)
