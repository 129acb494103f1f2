"""Bounded-queue plumbing: a producer thread feeding an iterator, with errors and cancellation.

The decoder runs ahead of the processing by at most ``maxsize`` items and the encoder consumes
behind it the same way, so memory stays flat however long the input is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

from frameswap.errors import CancelledError

T = TypeVar("T")
_DONE = object()


def _put_unless(q: queue.Queue[object], item: object, stop: threading.Event) -> bool:
    """Put ``item`` on a bounded queue, waiting while it is full, unless ``stop`` gets set first
    (the other side is gone and would never make room); True when the item was queued."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Aborted(Exception):
    """Raised inside a consumer that :meth:`Consumer.abort` stops. Why not the caller's own
    exception: raised again in the consumer's thread, it would gain that thread's traceback, and
    the consumer (held by the frames of the caller's traceback) would hold it back: a cycle that
    kept a failed swap's frames (578 MB on the small-canvas GIF) until the garbage collector ran."""


class Prefetch(Generic[T]):
    """Iterate ``source`` on a background thread, at most ``maxsize`` items ahead.

    ``on_item_seconds`` receives the time each item took to produce (the decode stage);
    ``on_wait_seconds`` receives the time the consumer waited for an item.
    """

    def __init__(
        self,
        source: Iterable[T],
        *,
        maxsize: int = 8,
        cancel: threading.Event | None = None,
        on_item_seconds: Callable[[float], None] | None = None,
        on_wait_seconds: Callable[[float], None] | None = None,
        name: str = "frameswap-decode",
    ) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=maxsize)
        self._stop = threading.Event()
        self._cancel = cancel
        self._on_item = on_item_seconds
        self._on_wait = on_wait_seconds
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def _put(self, item: object) -> bool:
        return _put_unless(self._queue, item, self._stop)

    def _run(self) -> None:
        try:
            iterator = iter(self._source)
            while not self._stop.is_set():
                start = time.perf_counter()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                if self._on_item:
                    self._on_item(time.perf_counter() - start)
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            self._put(_Failure(exc))

    def __iter__(self) -> Iterator[T]:
        if not self._started:
            self._started = True
            self._thread.start()
        try:
            while True:
                if self._cancel is not None and self._cancel.is_set():
                    raise CancelledError("cancelled")
                start = time.perf_counter()
                try:
                    item = self._queue.get(timeout=0.1)
                except queue.Empty:
                    if self._on_wait:
                        self._on_wait(time.perf_counter() - start)
                    continue
                if self._on_wait:
                    self._on_wait(time.perf_counter() - start)
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        """Stop the producer (it exits at its next item) and wait briefly for it."""
        self._stop.set()
        if self._started:
            self._thread.join(timeout=5)


class Consumer(Generic[T]):
    """Run ``consume(iterator)`` on a background thread fed through a bounded queue.

    The writer (encoder) pulls frames from the queue while the processing thread pushes them;
    ``finish()`` joins and returns what ``consume`` returned, re-raising its error. A consumer
    that returns before the end (a still-image writer takes one frame) makes further ``put``
    calls no-ops instead of blocking; ``abort`` makes the consumer's iterator raise, even when
    the queue is full, so a writer always gets to discard its temporary file.
    """

    def __init__(
        self,
        consume: Callable[[Iterator[T]], object],
        *,
        maxsize: int = 8,
        name: str = "frameswap-encode",
        on_wait_seconds: Callable[[float], None] | None = None,
    ) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=maxsize)
        self._consume = consume
        self._result: object = None
        self._error: BaseException | None = None
        self._done = threading.Event()  # the consumer has returned or failed
        self._aborted = threading.Event()
        self._on_wait = on_wait_seconds
        self.starved_seconds = 0.0  # time the consumer waited for items (not its own work)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _items(self) -> Iterator[T]:
        while True:
            start = time.perf_counter()
            try:
                item = self._queue.get(timeout=0.1)
            except queue.Empty:
                item = None
            self.starved_seconds += time.perf_counter() - start
            if self._aborted.is_set():
                raise _Aborted("the producer failed")
            if item is None:
                continue
            if item is _DONE:
                return
            yield item  # type: ignore[misc]

    def _run(self) -> None:
        try:
            self._result = self._consume(self._items())
        except BaseException as exc:
            self._error = exc
        finally:
            self._done.set()

    def _offer(self, item: object) -> bool:
        """Queue ``item`` unless the consumer is done; False when it was not queued."""
        return _put_unless(self._queue, item, self._done)

    def put(self, item: T) -> None:
        """Hand one item to the consumer; raises the consumer's error if it failed."""
        start = time.perf_counter()
        self._offer(item)
        if self._error is not None:
            raise self._error
        if self._on_wait:
            self._on_wait(time.perf_counter() - start)

    def finish(self) -> object:
        """Signal the end, wait for the consumer and return its result, or raise its error.

        Either is handed over, not kept: an error kept here would hold its traceback's frames
        through this object, which those frames reference (a cycle only the garbage collector
        breaks)."""
        self._offer(_DONE)
        self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error
        result, self._result = self._result, None
        return result

    def abort(self) -> None:
        """Make the consumer fail (so a writer discards its temp file), wait, and drop what it
        raised: the caller raises its own error."""
        self._aborted.set()
        self._thread.join(timeout=30)
        self._error = None
