"""Frames, their exact timing, and what a reader knows about a whole input.

Timing is data on each frame, exact end to end: an integer ``pts`` and ``duration`` counted in a
``time_base`` (a Fraction of a second). GIF frames use a 1/100 s or 1/1000 s time base so their
stored delays survive untouched; video frames keep the container's own time base.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

MediaKind = Literal["image", "animation", "video"]


@dataclass(frozen=True)
class FrameTiming:
    """When a frame is shown and for how long, in ``time_base`` units."""

    pts: int
    duration: int
    time_base: Fraction

    @property
    def duration_ms(self) -> float:
        """Duration in milliseconds (exact for GIF, float for other time bases)."""
        return float(self.duration * self.time_base * 1000)

    @property
    def start_seconds(self) -> float:
        return float(self.pts * self.time_base)


@dataclass(frozen=True, eq=False)
class SourceColors:
    """The decoded input frame as indices into at most 256 colours: what a palette encoder can reuse.

    Why a frame carries it: a GIF written back as GIF should keep every pixel nobody touched
    bit for bit, and re-quantising a whole frame changes most of them (a fresh palette rarely
    contains the input's exact colours). With the input's own colours at hand, the GIF writer
    gives each pixel that still matches ``palette[indices]`` its exact colour and quantises
    only the rest. It describes the *input*: after :meth:`Frame.with_rgb` some pixels no longer
    match, which is why the writer checks every pixel instead of trusting it.
    """

    indices: np.ndarray  # (H, W) uint8
    palette: np.ndarray  # (N, 3) uint8, N <= 256, distinct colours


@dataclass(frozen=True, eq=False)
class Frame:
    """One full decoded frame: RGB pixels, optional alpha, and its timing."""

    index: int
    rgb: np.ndarray  # (H, W, 3) uint8, C-contiguous
    timing: FrameTiming
    alpha: np.ndarray | None = None  # (H, W) uint8 where the input has transparency
    source_colors: SourceColors | None = None  # set by readers of palette formats (GIF)

    def with_rgb(self, rgb: np.ndarray) -> Frame:
        """The same frame (timing, alpha, the input's colours) with new pixels."""
        return Frame(self.index, rgb, self.timing, self.alpha, self.source_colors)


@dataclass(frozen=True)
class MediaInfo:
    """What is known about an input before (or without) decoding every frame."""

    format: str  # "gif", "png", "apng", "webp", "jpeg", "bmp", "mp4", "mov", "mkv", "webm", "avi"
    kind: MediaKind
    width: int
    height: int
    frame_count: int
    durations_ms: tuple[float, ...]
    loop: int | None = None  # 0: forever, N: N loops, None: absent
    fps: Fraction | None = None  # average rate, for display only: timing lives on each frame
    time_base: Fraction | None = None
    has_audio: bool = False
    audio_codec: str | None = None
    has_alpha: bool = False

    def to_json(self) -> dict[str, object]:
        """The JSON contract of ``frameswap info --json`` (other tools read these keys)."""
        return {
            "format": self.format,
            "kind": self.kind,
            "width": self.width,
            "height": self.height,
            "frame_count": self.frame_count,
            "durations_ms": [round(d, 3) for d in self.durations_ms],
            "loop": self.loop,
            "fps": None if self.fps is None else float(self.fps),
            "time_base": None if self.time_base is None else str(self.time_base),
            "has_audio": self.has_audio,
            "audio_codec": self.audio_codec,
            "has_alpha": self.has_alpha,
        }
