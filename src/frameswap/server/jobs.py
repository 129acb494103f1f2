"""A bounded pool of swap workers, off the event loop.

Why this shape: a swap is seconds of CPU/GPU work on shared models. Running it on the event loop
would freeze ``/health``; running each request in its own thread would pile up memory under load.
So a fixed number of worker threads take jobs from a queue, and a job is *admitted* only while
``running + waiting < workers + queue_size``: past that, :class:`QueueFullError` (HTTP 429) at once.

Each job's processing time is capped: a timer marks it timed out (HTTP 504) and sets its cancel
event, which the swapper checks between frames. Shutdown fails the waiting jobs and lets the
running ones finish. Async (v2) jobs are recorded durably by :mod:`frameswap.server.store`; the
pool only knows the jobs it is running or about to run (:meth:`JobManager.find`). A job also knows
when its timeout falls (:meth:`Job.remaining`), so work that blocks outside the swapper (fetching a
list of source URLs) can bound each wait by the time the job has left instead of its own timeout.
"""

from __future__ import annotations

import concurrent.futures
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from frameswap.server.errors import JobTimeoutError, QueueFullError, ShuttingDownError


@dataclass(frozen=True)
class JobOutcome:
    """A finished swap, ready to send: the file's bytes and what they are."""

    data: bytes
    content_type: str
    format: str
    frame_count: int


class Job:
    """One swap request. States: QUEUED → PROCESSING → COMPLETED | FAILED."""

    def __init__(
        self,
        work: Callable[[Job], JobOutcome],
        owner: str,
        wall: float,
        job_id: str | None = None,
        watch: Callable[[int, int], bool] | None = None,
    ) -> None:
        self.id = job_id or secrets.token_urlsafe(18)
        self.watch = watch  # told of progress; False means "stop" (the job was deleted elsewhere)
        self.owner = owner
        self.work = work
        self.created_at = wall
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.ends_at: float | None = None  # monotonic time of the job timeout, set when it starts
        self.status = "QUEUED"
        self.done = 0
        self.total = 0
        self.cancel = threading.Event()
        self.future: concurrent.futures.Future[JobOutcome] = concurrent.futures.Future()
        self._lock = threading.Lock()

    def report_progress(self, done: int, total: int) -> None:
        """Progress callback handed to the swapper (frames done, frames in all)."""
        self.done, self.total = int(done), int(total)
        if self.watch is not None and not self.watch(self.done, self.total):
            self.cancel.set()

    def remaining(self) -> float:
        """Seconds until the job timeout (the full timeout is not known before the job starts,
        so a job that has not started has ``inf``)."""
        return float("inf") if self.ends_at is None else self.ends_at - time.monotonic()

    def _start(self, wall: float, timeout_s: float) -> bool:
        with self._lock:
            if self.future.done():
                return False
            self.status = "PROCESSING"
            self.started_at = wall
            self.ends_at = time.monotonic() + timeout_s
            return True

    def settle(self, outcome: JobOutcome | None, error: BaseException | None, wall: float) -> bool:
        """Record the end, once: later calls (a swap that ends after its timeout) are ignored."""
        with self._lock:
            if self.future.done():
                return False
            self.status = "FAILED" if error is not None else "COMPLETED"
            self.finished_at = wall
            try:
                if error is not None:
                    self.cancel.set()
                    self.future.set_exception(error)
                else:
                    self.future.set_result(outcome)  # type: ignore[arg-type]
            except concurrent.futures.InvalidStateError:  # cancelled by its waiter meanwhile
                self.cancel.set()
                return False
            if self.status == "COMPLETED" and self.total:
                self.done = self.total
            return True


class JobManager:
    """Admission control, worker threads and the per-job timeout. It only holds the jobs it is
    running or about to run; the durable record of async jobs is the job store's.

    ``wall`` (epoch seconds) stamps ``started_at``/``finished_at``. Workers start on the first
    submission, so building the manager does no work.
    """

    def __init__(
        self,
        *,
        workers: int,
        queue_size: int,
        timeout_s: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self.timeout_s = timeout_s
        self._wall = wall
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._admitted = 0
        self._running = 0
        self._closing = False
        self._active: dict[str, Job] = {}  # admitted and not yet finished

    # -- submitting ------------------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        return self.workers + self.queue_size

    def submit(
        self,
        work: Callable[[Job], JobOutcome],
        *,
        owner: str = "",
        job_id: str | None = None,
        watch: Callable[[int, int], bool] | None = None,
    ) -> Job:
        """Admit a job or raise :class:`QueueFullError` at once. ``job_id`` names it (a stored v2
        job's id, so :meth:`find` can reach it); ``watch`` sees its progress (see :class:`Job`)."""
        with self._lock:
            if self._closing:
                raise ShuttingDownError("the server is shutting down and takes no new work")
            if self._admitted >= self.capacity:
                raise QueueFullError(
                    f"all {self.workers} workers are busy and {self.queue_size} requests are waiting"
                )
            job = Job(work, owner, self._wall(), job_id=job_id, watch=watch)
            self._active[job.id] = job
            job.future.add_done_callback(self._forgetter(job.id))
            self._admitted += 1
            self._start_workers_locked()
            # queued under the lock, so a concurrent shutdown cannot post its stop markers first
            self._queue.put(job)
        return job

    def find(self, job_id: str) -> Job | None:
        """The job of that id while this pool has it (waiting or running), else None."""
        with self._lock:
            return self._active.get(job_id)

    def _forgetter(self, job_id: str) -> Callable[[concurrent.futures.Future[JobOutcome]], None]:
        def forget(_: concurrent.futures.Future[JobOutcome]) -> None:
            with self._lock:
                self._active.pop(job_id, None)

        return forget

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "workers": self.workers,
                "running": self._running,
                "waiting": self._admitted - self._running,
                "capacity": self.capacity,
            }

    # -- working ---------------------------------------------------------------------------------

    def _start_workers_locked(self) -> None:
        while len(self._threads) < self.workers:
            thread = threading.Thread(
                target=self._worker, name=f"frameswap-worker-{len(self._threads)}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _time_out(self, job: Job) -> None:
        job.settle(
            None,
            JobTimeoutError(f"the swap ran past this server's {self.timeout_s:g} s job timeout"),
            self._wall(),
        )

    def _worker(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if not job._start(self._wall(), self.timeout_s):  # cancelled or failed while waiting
                job.work = None  # type: ignore[assignment]
                with self._lock:
                    self._admitted -= 1
                continue
            with self._lock:
                self._running += 1
            timer = threading.Timer(self.timeout_s, self._time_out, args=(job,))
            timer.daemon = True
            timer.start()
            try:
                outcome = job.work(job)
            except BaseException as exc:
                job.settle(None, exc, self._wall())
            else:
                job.settle(outcome, None, self._wall())
            finally:
                timer.cancel()
                job.work = None  # type: ignore[assignment]  # drop the request body held by the closure
                with self._lock:
                    self._running -= 1
                    self._admitted -= 1

    def cancel(self, job: Job, reason: BaseException) -> None:
        """Stop a job (its client went away): a waiting job is skipped, a running one asked to stop."""
        job.settle(None, reason, self._wall())

    def shutdown(self, *, wait: bool = True, timeout: float | None = None) -> None:
        """Take no new work, fail the waiting jobs, let the running ones finish (if ``wait``)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            threads = list(self._threads)
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:
                continue
            job.settle(
                None,
                ShuttingDownError("the server shut down before this job started"),
                self._wall(),
            )
            with self._lock:
                self._admitted -= 1
        for _ in threads:
            self._queue.put(None)
        if wait:
            for thread in threads:
                thread.join(timeout)
