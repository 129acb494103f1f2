"""What happened to each input: one record per file, the JSONL report, and the closing summary.

The records are plain data (no exception objects) so they cross process and Ray boundaries as
they are; an error is kept as its stable code and message, which is all a report reader needs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from frameswap.atomic import atomic_output
from frameswap.errors import FrameswapError

Status = Literal["done", "skipped", "failed"]


def error_code(exc: BaseException) -> str:
    """A stable snake_case code for an error: its frameswap class name without ``Error``
    (``CorruptMediaError`` -> ``corrupt_media``); ``internal`` for anything frameswap did not
    raise on purpose (a bug, a full disk), whose message then names the exception type."""
    if not isinstance(exc, FrameswapError):
        return "internal"
    name = type(exc).__name__.removesuffix("Error") or "frameswap"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def error_message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, FrameswapError) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class ItemResult:
    """The outcome of one input (a line of the report)."""

    input: str
    output: str
    status: Status
    frames: int | None = None
    faces_swapped: int | None = None
    seconds: float = 0.0
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def failure(
        cls, input: object, output: object, code: str, message: str, seconds: float = 0.0
    ) -> ItemResult:
        return cls(str(input), str(output), "failed", seconds=seconds, error_code=code, error_message=message)

    def to_json(self) -> dict[str, object]:
        record = asdict(self)
        record["seconds"] = round(self.seconds, 3)
        if self.status != "failed":
            del record["error_code"], record["error_message"]
        return record


def write_report(path: str | os.PathLike[str], results: Sequence[ItemResult]) -> Path:
    """The JSONL report, one line per input in the batch's order, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text("".join(json.dumps(r.to_json()) + "\n" for r in results), encoding="utf-8")
    return path


def summary_table(results: Sequence[ItemResult], wall_seconds: float) -> str:
    """The table printed when a batch ends: counts, frames, faces, time; then each failure."""
    rows = [("status", "files", "frames", "faces swapped", "seconds")]
    for status in ("done", "skipped", "failed"):
        group = [r for r in results if r.status == status]
        rows.append((
            status,
            str(len(group)),
            str(sum(r.frames or 0 for r in group)),
            str(sum(r.faces_swapped or 0 for r in group)),
            f"{sum(r.seconds for r in group):.1f}",
        ))
    rows.append(("total", str(len(results)), "", "", f"{wall_seconds:.1f} wall"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    def line(row: tuple[str, ...]) -> str:
        cells = [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
        return "  ".join([row[0].ljust(widths[0]), *cells])

    lines = [line(row) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        lines.append("")
        lines.append("failed:")
        lines.extend(f"  {r.input}: [{r.error_code}] {r.error_message}" for r in failed)
    return "\n".join(lines)
