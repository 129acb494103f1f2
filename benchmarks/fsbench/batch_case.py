"""The batch case: N copies of one benchmark input through ``frameswap.batch``, one after another
(one worker, in this process) and on the local process pool, as a ratio of wall times.

Both runs go through the product's own path (``batch(...)`` with ``force``), model loading
included: a user's batch pays it once per worker process, so a fair ratio counts it. On an idle
machine with C cores the ratio approaches C as N grows (each process swaps its own files; decode
and encode threads already overlap inside one swap, which caps what the pool can add). The outputs
of the two runs are compared byte for byte, so the figure is never bought with different work.

CPU seconds are reported beside the wall times (this process plus its finished children: the pool
workers are joined before the run returns), and from them the cores one serial swap already keeps
busy: a swap that keeps 1.6 of 2 cores busy leaves the pool at most 2 / 1.6 = 1.25x, and on a
machine that other work shares, the ratio says more about the neighbours than about the pool.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from frameswap.options import SwapOptions
from fsbench.cases import BenchCase


def run_batch_case(
    case: BenchCase,
    work_dir: Path,
    *,
    files: int,
    workers: int,
    options: SwapOptions,
    on_event: Callable[[str], None],
) -> dict[str, Any]:
    """Time ``files`` copies of ``case`` serially and on ``workers`` processes."""
    from frameswap.batching import batch

    folder = Path(work_dir) / "batch"
    shutil.rmtree(folder, ignore_errors=True)  # exactly ``files`` inputs, no outputs of an earlier run
    inputs = folder / "inputs"
    inputs.mkdir(parents=True)
    for i in range(files):
        shutil.copyfile(case.path, inputs / f"{case.name}_{i:03d}{case.path.suffix}")
    options = replace(options, engine="classic")
    runs, cpu = {}, {}
    for label, count in (("serial", 1), ("pool", workers)):
        on_event(f"batch/{case.name}: {files} files, {count} worker(s)")
        before = _cpu_seconds()
        runs[label] = batch(case.source, [inputs], folder / label, options=options, force=True, workers=count)
        cpu[label] = _cpu_seconds() - before
    names = sorted(p.relative_to(folder / "serial") for p in (folder / "serial").rglob("*") if p.is_file())
    equal = all((folder / "serial" / n).read_bytes() == (folder / "pool" / n).read_bytes() for n in names)
    serial, pool = runs["serial"].wall_seconds, runs["pool"].wall_seconds
    return {
        "case": f"batch/{case.name}",
        "files": files,
        "workers": runs["pool"].workers,
        "serial_seconds": round(serial, 3),
        "pool_seconds": round(pool, 3),
        "ratio": round(serial / pool, 3) if pool > 0 else None,
        "serial_cpu_seconds": round(cpu["serial"], 3),
        "pool_cpu_seconds": round(cpu["pool"], 3),
        "serial_cores_busy": round(cpu["serial"] / serial, 3) if serial > 0 else None,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "failed": len(runs["serial"].failed) + len(runs["pool"].failed),
        "outputs_equal": equal and len(names) == files,
    }


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have been waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
