"""Peak memory of the benchmark process, sampled on a thread while a case runs.

``tracemalloc`` only sees Python allocations, not numpy-free C buffers, onnxruntime arenas or
codec frames, so the resident set size (psutil) is sampled instead, every few milliseconds.
"""

from __future__ import annotations

import threading
from types import TracebackType

_MB = 1024 * 1024


class PeakRss:
    """``with PeakRss() as peak: ...`` then ``peak.peak_mb`` (and ``peak.start_mb``)."""

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _rss(self) -> float:
        return self._process.memory_info().rss / _MB

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak_mb = max(self.peak_mb, self._rss())

    def __enter__(self) -> PeakRss:
        import psutil

        self._process = psutil.Process()
        self.start_mb = self.peak_mb = self._rss()
        self._thread = threading.Thread(target=self._run, name="frameswap-bench-rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss())
