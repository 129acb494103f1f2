"""Run a batch on Ray: a pool of actors, each holding loaded models, fed one file at a time.

Actors rather than plain tasks so the models load once per worker, not once per file. The driver
reads each input and ships its bytes; the actor swaps and ships the encoded output back, which the
driver writes atomically: the cluster's machines need no shared disk, and the results and the
report are gathered where the batch was started. Inputs are read only when an actor is free, so at
most one input and one output per actor are in flight.

An actor that dies on a file (a crash in a decoder) fails that file only, and a new actor takes its
place, as in the local pool; Ray does not retry the call (actor calls are not retried by default).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from frameswap.atomic import atomic_output
from frameswap.batching.discover import BatchItem
from frameswap.batching.report import ItemResult, error_code, error_message
from frameswap.batching.work import Job, JobOutput, SwapWorker, WorkerSpec
from frameswap.cluster.ray_runtime import ray_connection, worker_count, worker_resources
from frameswap.options import SwapOptions


class RayExecutor:
    """``workers`` actors (default: as many as the cluster's CPUs, or GPU shares, allow)."""

    def __init__(
        self,
        spec: WorkerSpec,
        source: bytes,
        options: SwapOptions,
        *,
        address: str | None,
        workers: int | None,
        gpus_per_worker: float | None,
        items: int,
    ) -> None:
        with ExitStack() as stack:
            self._ray = stack.enter_context(ray_connection(address))
            resources = worker_resources(self._ray, gpus_per_worker)
            self.workers = workers or worker_count(self._ray, resources, cap=items)
            actor_class = self._ray.remote(**resources)(SwapWorker)
            source_ref = self._ray.put(source)  # one copy in the object store for every actor
            self._new_actor = lambda: actor_class.remote(spec, source_ref, options)
            self._actors = [self._new_actor() for _ in range(self.workers)]
            self._stack = stack.pop_all()  # set up: Ray stays connected until close()

    def run(self, items: Sequence[BatchItem]) -> Iterator[ItemResult]:
        ray = self._ray
        pending = deque(items)
        idle = list(self._actors)
        running: dict[Any, tuple[Any, BatchItem]] = {}
        while pending or running:
            while idle and pending:
                item = pending.popleft()
                try:
                    data = item.input.read_bytes()
                except OSError as exc:
                    yield ItemResult.failure(item.input, item.output, "media_not_found", str(exc))
                    continue
                actor = idle.pop()
                job = Job(input=str(item.input), output_name=str(item.output), target=data)
                running[actor.run.remote(job)] = (actor, item)
            if not running:
                continue
            (ref,), _ = ray.wait(list(running), num_returns=1)
            actor, item = running.pop(ref)
            try:
                output: JobOutput = ray.get(ref)
            except ray.exceptions.RayError as exc:  # the actor died on this file: a new one replaces it
                self._actors.remove(actor)
                ray.kill(actor)
                actor = self._new_actor()
                self._actors.append(actor)
                message = f"the Ray worker died on this file ({type(exc).__name__})"
                output = JobOutput(ItemResult.failure(item.input, item.output, "worker_crashed", message))
            idle.append(actor)
            yield self._write(output, item)

    def _write(self, output: JobOutput, item: BatchItem) -> ItemResult:
        if output.data is None:
            return output.result
        try:
            item.output.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(item.output) as tmp:
                tmp.write_bytes(output.data)
        except OSError as exc:
            return ItemResult.failure(item.input, item.output, error_code(exc), error_message(exc))
        return output.result

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._stack.close()
