"""The reader interface every format plugin implements, and the header-limit check they share.

Why its own module: the plugins (``gif``, ``still``, ``animated``, ``video``) subclass
:class:`MediaReader`, and :mod:`frameswap.media.reader` (the registry behind ``open_media``)
imports the plugins; with the interface here, neither imports the other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from frameswap.errors import CorruptMediaError, MediaLimitError
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, MediaInfo
from frameswap.options import MediaLimits


class MediaReader(ABC):
    """An opened input: ``info`` right away, frames decoded lazily by ``frames()``."""

    def __init__(self, source: ResolvedSource, info: MediaInfo, limits: MediaLimits) -> None:
        self.source = source
        self.info = info
        self.limits = limits

    @property
    def name(self) -> str:
        """The input's name, used in every error message."""
        return self.source.name

    @property
    def path(self) -> Path | None:
        """The file on disk when the input was a path (writers refuse to overwrite it)."""
        return self.source.path

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Decode frames one by one from the first; calling it again restarts."""

    def close(self) -> None:  # noqa: B027 - optional hook, most readers hold nothing open
        """Release decoder resources (nothing to do for most readers)."""

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        i = self.info
        return f"<{type(self).__name__} {self.name!r} {i.format} {i.width}x{i.height} x{i.frame_count}>"


def check_frame_limits(
    name: str, width: int, height: int, frame_count: int | None, limits: MediaLimits
) -> None:
    """Refuse an input whose header promises too many pixels per frame or too many frames."""
    if width <= 0 or height <= 0:
        raise CorruptMediaError(f"{name}: invalid frame size {width}x{height}")
    if width * height > limits.max_pixels_per_frame:
        raise MediaLimitError(
            f"{name}: frame size {width}x{height} = {width * height} pixels is over the limit of "
            f"{limits.max_pixels_per_frame} pixels per frame"
        )
    if frame_count is not None and frame_count > limits.max_frames:
        raise MediaLimitError(f"{name}: {frame_count} frames is over the limit of {limits.max_frames} frames")
    if frame_count is not None:
        check_pixel_frames(name, width, height, frame_count, limits)


def check_pixel_frames(name: str, width: int, height: int, frame_count: int, limits: MediaLimits) -> None:
    """Refuse an input whose frames x canvas pixels (the work of decoding it) is over the budget."""
    if width * height * frame_count > limits.max_pixel_frames:
        raise MediaLimitError(
            f"{name}: {frame_count} frames of {width}x{height} pixels is "
            f"{width * height * frame_count} pixel-frames, over the limit of {limits.max_pixel_frames}"
        )
