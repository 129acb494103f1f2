"""The work one batch worker does, the same in a local process and in a Ray actor.

A worker holds one :class:`~frameswap.api.FaceSwapper`, so the models load once per process and
serve every file that process is given. ``SwapWorker.run`` never raises for a bad input: any error
becomes a ``failed`` record, so one corrupt file costs that file only, whichever executor ran it.

Local workers read the input from disk and write the output themselves (atomically, through
``FaceSwapper.swap``). Ray workers may run on other machines that do not see the driver's disk, so
they get the input's bytes and hand back the output's bytes for the driver to write; the encoder
is the same either way, so are the bytes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path

from frameswap.batching.report import ItemResult, error_code, error_message
from frameswap.errors import FrameswapError
from frameswap.media.writer import suffix_format
from frameswap.options import ProviderName, SwapOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSpec:
    """How every worker builds its swapper (picklable, so it travels to processes and actors)."""

    models_dir: Path | None = None
    providers: tuple[ProviderName, ...] = ("auto",)


@dataclass(frozen=True)
class Job:
    """One input to swap. ``target`` is a path (local) or the file's bytes (Ray); ``output`` is
    where a local worker writes, while ``output_name`` only tells a Ray worker the format."""

    input: str
    output_name: str
    target: Path | bytes
    output: Path | None = None


@dataclass(frozen=True)
class JobOutput:
    """A worker's answer: the record, and the encoded output when the driver is to write it."""

    result: ItemResult
    data: bytes | None = None


class SwapWorker:
    """A loaded swapper and the source photo, applied to one job at a time."""

    def __init__(self, spec: WorkerSpec, source: bytes, options: SwapOptions) -> None:
        from frameswap.api import FaceSwapper

        self.swapper = FaceSwapper(models_dir=spec.models_dir, providers=spec.providers)
        self.source = source
        self.options = options

    def run(self, job: Job) -> JobOutput:
        started = time.perf_counter()
        options = self.options
        if job.output is None and options.output_format is None:
            # bytes out: the format the output's extension names, as writing to that path would pick
            options = replace(options, output_format=suffix_format(job.output_name))
        try:
            swapped = self.swapper.swap(self.source, job.target, job.output, options=options)
        except Exception as exc:  # one bad input fails alone; the batch goes on
            if not isinstance(exc, FrameswapError):
                # not a bad input but a bug (or a full disk): the record keeps one line, the log
                # keeps the traceback, which is what finding the bug needs
                log.exception("%s: unexpected error while swapping", job.input)
            code, message = error_code(exc), error_message(exc)
            seconds = time.perf_counter() - started
            return JobOutput(ItemResult.failure(job.input, job.output_name, code, message, seconds))
        result = ItemResult(
            input=job.input,
            output=job.output_name,
            status="done",
            frames=swapped.frame_count,
            faces_swapped=swapped.stats.faces_swapped,
            seconds=time.perf_counter() - started,
        )
        return JobOutput(result, swapped.data)
