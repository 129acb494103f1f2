"""Where the time goes: per-stage wall-clock seconds, collected across threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

STAGES = ("decode", "detect", "track", "swap", "restore", "encode", "wait")


@dataclass
class StageTimes:
    """Seconds spent per stage. Decode and encode run on their own threads, so the stages can add up
    to more than the wall-clock total; ``wait`` is the time the processing thread spent waiting for
    the decoder or the encoder."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    frames: int = 0
    frames_processed: int = 0  # frames that went through the models (identical runs processed once)
    faces_swapped: int = 0  # selected faces whose pixels the swap changed
    faces_unchanged: int = 0  # selected faces the engine left as they were (classic: profiles)
    detections: int = 0  # frames the full detector ran on (the others were followed or repeats)
    faces_embedded: int = 0  # faces that needed an identity embedding (position told the rest)
    wall_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def to_json(self) -> dict[str, object]:
        return {
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "frames": self.frames,
            "frames_processed": self.frames_processed,
            "faces_swapped": self.faces_swapped,
            "faces_unchanged": self.faces_unchanged,
            "detections": self.detections,
            "faces_embedded": self.faces_embedded,
            "wall_seconds": round(self.wall_seconds, 4),
        }
