"""Run a batch on this machine: one after another in this process, or on a pool of processes.

Why not ``concurrent.futures.ProcessPoolExecutor``: its workers keep the loaded models only in a
module global set by an initializer, and one worker that dies (a decoder crashing on a hostile
file) breaks the whole pool and fails every file still queued, with no way to tell which one did
it. Here each worker process owns a pipe and runs one job at a time, so the driver always knows
which job a dead worker held: that file alone is reported failed and a fresh worker takes its
place. The models live in a local variable of the worker's loop, loaded once per process.
"""

from __future__ import annotations

import multiprocessing
import signal
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from frameswap.batching.discover import BatchItem
from frameswap.batching.report import ItemResult
from frameswap.batching.work import Job, JobOutput, SwapWorker, WorkerSpec
from frameswap.options import SwapOptions


def local_job(item: BatchItem) -> Job:
    """A job that reads the input and writes the output on this machine's disk."""
    return Job(input=str(item.input), output_name=str(item.output), target=item.input, output=item.output)


class SerialExecutor:
    """Every file in this process, one after another (``workers=1``): no process start-up at all."""

    def __init__(self, spec: WorkerSpec, source: bytes, options: SwapOptions) -> None:
        self.workers = 1
        self._worker = SwapWorker(spec, source, options)

    def run(self, items: Sequence[BatchItem]) -> Iterator[ItemResult]:
        for item in items:
            yield self._worker.run(local_job(item)).result

    def close(self) -> None:
        """Nothing to release: the models go with the executor."""


def _serve(conn: Connection, spec: WorkerSpec, source: bytes, options: SwapOptions) -> None:
    """A worker process: load the models once, then run the jobs the driver sends until ``None``.

    Ctrl-C is the driver's to handle (it stops the workers); SIGTERM exits through ``finally``
    blocks, so an output being written is removed rather than left half-written.
    """
    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cv2.setNumThreads(1)  # the pool is the parallelism; see frameswap.cli._single_threaded_opencv
    worker = SwapWorker(spec, source, options)
    while (job := conn.recv()) is not None:
        conn.send(worker.run(job))


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    item: BatchItem | None = None


class LocalPoolExecutor:
    """``workers`` processes (spawned: forking a process that holds threads and ONNX sessions is
    unsafe), each with its own loaded models; results come back in the order they finish."""

    def __init__(self, spec: WorkerSpec, source: bytes, options: SwapOptions, workers: int) -> None:
        self.workers = workers
        self._args = (spec, source, options)
        self._context = multiprocessing.get_context("spawn")
        self._slots = [self._start() for _ in range(workers)]

    def _start(self) -> _Slot:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, *self._args), daemon=True)
        process.start()
        theirs.close()
        return _Slot(process, ours)

    def run(self, items: Sequence[BatchItem]) -> Iterator[ItemResult]:
        pending = deque(items)
        while pending or any(slot.item is not None for slot in self._slots):
            for index, slot in enumerate(self._slots):
                if slot.item is None and pending:
                    item = pending.popleft()
                    try:
                        slot.conn.send(local_job(item))
                    except OSError:  # the worker died while idle (the OOM killer): start another
                        slot.process.join()
                        slot.conn.close()
                        slot = self._slots[index] = self._start()
                        slot.conn.send(local_job(item))
                    slot.item = item
            busy = [slot for slot in self._slots if slot.item is not None]
            ready = set(wait([s.conn for s in busy] + [s.process.sentinel for s in busy]))
            for index, slot in enumerate(self._slots):
                if slot.item is None or not (slot.conn in ready or slot.process.sentinel in ready):
                    continue
                yield self._collect(index, slot, slot.item)

    def _collect(self, index: int, slot: _Slot, item: BatchItem) -> ItemResult:
        try:
            output: JobOutput = slot.conn.recv()
        except (EOFError, OSError):  # the worker died on this file: it alone fails, a new worker comes
            slot.process.join()
            slot.conn.close()
            self._slots[index] = self._start()
            message = f"the worker process died (exit code {slot.process.exitcode}) on this file"
            return ItemResult.failure(item.input, item.output, "worker_crashed", message)
        slot.item = None
        return output.result

    def close(self) -> None:
        """Stop every worker: politely when idle, by SIGTERM when a job is still running."""
        for slot in self._slots:
            try:
                if slot.item is None:
                    slot.conn.send(None)
                else:
                    slot.process.terminate()
            except OSError:
                slot.process.terminate()
        for slot in self._slots:
            slot.process.join(10)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()
            slot.conn.close()
