"""``batch(...)``: swap one source face into many files, locally or on Ray, with one report.

The driver decides everything that must not depend on where the work runs: which files, which
outputs, which are already done (an output newer than its input and the source is skipped, so a
re-run after a crash finishes the rest; ``force`` redoes them), the report and the summary. The
executors only turn items into results, so a batch gives the same files and the same report
whichever executor ran it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from frameswap.atomic import sweep_stale_parts
from frameswap.batching.discover import BatchItem, discover
from frameswap.batching.report import ItemResult, summary_table, write_report
from frameswap.batching.work import WorkerSpec
from frameswap.errors import MediaNotFoundError, OptionsError, OverwriteInputError
from frameswap.media.writer import same_file
from frameswap.options import ProviderName, SwapOptions


class Executor(Protocol):
    """Turns items into results, in the order they finish; the local pool and Ray both fit."""

    workers: int

    def run(self, items: Sequence[BatchItem]) -> Iterator[ItemResult]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BatchResult:
    """Every input's result in the batch's order, and the wall time of the whole run."""

    results: tuple[ItemResult, ...]
    wall_seconds: float
    workers: int
    report: Path | None = None
    swept: tuple[Path, ...] = ()  # half-written outputs of a killed earlier run, deleted at the start

    @property
    def failed(self) -> tuple[ItemResult, ...]:
        return tuple(r for r in self.results if r.status == "failed")

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    def summary(self) -> str:
        return summary_table(self.results, self.wall_seconds)


def is_fresh(item: BatchItem, source: Path) -> bool:
    """Whether the output exists and is newer than both its input and the source photo."""
    try:
        made = item.output.stat().st_mtime_ns
        return made >= item.input.stat().st_mtime_ns and made >= source.stat().st_mtime_ns
    except OSError:
        return False


def default_workers() -> int:
    """The cores this process may use (the CPU affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _check_report(report: Path, source: Path, items: Sequence[BatchItem]) -> None:
    """Refuse a report that would replace the source photo, an input or an output.

    Checked before any work, because the report is written last: finding out then would lose
    a file the batch was given (or one it just made) to the JSONL.
    """
    for item in items:
        if same_file(report, item.input):
            raise OverwriteInputError(f"{report}: the report would overwrite the input {item.input}")
        if same_file(report, item.output):
            raise OptionsError(f"{report}: the report would overwrite the output {item.output}")
    if same_file(report, source):
        raise OverwriteInputError(f"{report}: the report would overwrite the source photo {source}")


def _executor(
    spec: WorkerSpec,
    source: bytes,
    options: SwapOptions,
    *,
    ray: str | bool | None,
    workers: int | None,
    gpus_per_worker: float | None,
    items: int,
) -> Executor:
    if ray is not None and ray is not False:
        from frameswap.batching.ray_executor import RayExecutor

        address = None if ray is True else ray
        return RayExecutor(
            spec, source, options,
            address=address, workers=workers, gpus_per_worker=gpus_per_worker, items=items,
        )
    count = min(workers or default_workers(), items)
    if count <= 1:
        from frameswap.batching.local import SerialExecutor

        return SerialExecutor(spec, source, options)
    from frameswap.batching.local import LocalPoolExecutor

    return LocalPoolExecutor(spec, source, options, count)


def batch(
    source: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    options: SwapOptions | None = None,
    report: str | os.PathLike[str] | None = None,
    force: bool = False,
    ray: str | bool | None = None,
    workers: int | None = None,
    gpus_per_worker: float | None = None,
    models_dir: str | os.PathLike[str] | None = None,
    providers: Sequence[ProviderName] = ("auto",),
    progress: bool = False,
) -> BatchResult:
    """Swap the face(s) of ``source`` into every media file of ``inputs`` (files, folders, globs).

    Outputs go to ``out_dir`` under each input's relative path, in the input's format (or
    ``options.output_format``, which also sets the extension). ``ray``: ``None``/``False`` runs on a
    local process pool of ``workers`` processes (default: the cores; 1 runs in this process);
    ``True`` starts a local Ray, a string joins that Ray cluster (``"auto"``, ``"ray://host:10001"``).
    A failing input never stops the batch: its record says why. ``report``: a JSONL file written at
    the end, one line per input.
    """
    started = time.perf_counter()
    options = options or SwapOptions()
    if workers is not None and workers < 1:
        raise OptionsError(f"workers must be >= 1, got {workers}")
    source_path = Path(source)
    if not source_path.is_file():
        raise MediaNotFoundError(f"{source}: the source photo does not exist")
    items = discover(inputs, out_dir, options.output_format)
    if any(item.output.resolve() == source_path.resolve() for item in items):
        raise OptionsError(f"an output would overwrite the source photo {source}")
    if report is not None:
        _check_report(Path(report), source_path, items)
    # a run killed outright (SIGKILL, power loss) leaves its temporary files; this run removes them
    swept = tuple(p for folder in sorted({i.output.parent for i in items}) for p in sweep_stale_parts(folder))
    results: dict[BatchItem, ItemResult] = {}
    todo = []
    for item in items:
        if not force and is_fresh(item, source_path):
            results[item] = ItemResult(str(item.input), str(item.output), "skipped")
        else:
            todo.append(item)
    by_input = {str(item.input): item for item in todo}
    used = 0
    with tqdm(total=len(items), initial=len(results), unit="file", disable=not progress, leave=False) as bar:
        if todo:
            spec = WorkerSpec(models_dir=Path(models_dir) if models_dir else None, providers=tuple(providers))
            executor = _executor(
                spec,
                source_path.read_bytes(),
                options,
                ray=ray,
                workers=workers,
                gpus_per_worker=gpus_per_worker,
                items=len(todo),
            )
            used = executor.workers
            try:
                frames = failed = 0
                for result in executor.run(todo):
                    results[by_input[result.input]] = result
                    frames += result.frames or 0
                    failed += result.status == "failed"
                    bar.set_postfix(frames=frames, failed=failed, refresh=False)
                    bar.update(1)
            finally:
                executor.close()
    ordered = tuple(results[item] for item in items)
    written = write_report(report, ordered) if report is not None else None
    return BatchResult(ordered, time.perf_counter() - started, used, written, swept)
