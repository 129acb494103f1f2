"""What a swap produced: the one result type the pipeline returns and every front reads.

One record, built where the facts are known (the pipeline), so the API, the CLI, the server and
the benchmarks cannot disagree on a name or a count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from frameswap.media import content_type_for
from frameswap.media.types import MediaInfo
from frameswap.pipeline.stats import StageTimes


@dataclass(frozen=True)
class SwapResult:
    """The output (a path, or bytes when no output path was given) and how it was made.

    ``info`` describes the target as read; ``faces_found`` counts the people indexed in it (the
    numbers ``input_faces_index`` may use; a person who was not asked for and comes back after
    leaving the picture may be counted twice, see ``frameswap.faces.follow``); ``engine`` is the
    engine that ran (``auto`` resolved).
    """

    path: Path | None
    data: bytes | None
    format: str
    info: MediaInfo
    stats: StageTimes
    engine: str
    faces_found: int

    @property
    def content_type(self) -> str:
        """The output's MIME type (``image/gif``, ``video/mp4``...)."""
        return content_type_for(self.format)

    @property
    def frame_count(self) -> int:
        """Frames of the target (each one swapped or passed through)."""
        return self.info.frame_count
