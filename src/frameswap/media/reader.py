"""The reader interface and the plugin registry behind :func:`open_media`.

Like imageio v3: each reader family gets the source; one that cannot read it raises
:class:`UnsupportedMediaError` and the next family is tried. Limits are checked from headers
before any frame is decoded.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from frameswap.errors import MediaLimitError, UnsupportedMediaError
from frameswap.media.sources import Fetcher, ResolvedSource, Source, resolve_source
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
        from frameswap.errors import CorruptMediaError

        raise CorruptMediaError(f"{name}: invalid frame size {width}x{height}")
    if width * height > limits.max_pixels_per_frame:
        raise MediaLimitError(
            f"{name}: frame size {width}x{height} = {width * height} pixels is over the limit of "
            f"{limits.max_pixels_per_frame} pixels per frame"
        )
    if frame_count is not None and frame_count > limits.max_frames:
        raise MediaLimitError(f"{name}: {frame_count} frames is over the limit of {limits.max_frames} frames")


ReaderFactory = Callable[[ResolvedSource, MediaLimits], MediaReader]


def _plugins() -> tuple[ReaderFactory, ...]:
    # Imported here so that importing frameswap.media does not load PyAV until needed.
    from frameswap.media.animated import open_animated
    from frameswap.media.gif import open_gif
    from frameswap.media.still import open_still
    from frameswap.media.video import open_video

    return (open_gif, open_animated, open_still, open_video)


def open_media(
    source: Source,
    *,
    limits: MediaLimits = MediaLimits(),
    fetcher: Fetcher | None = None,
    name: str | None = None,
) -> MediaReader:
    """Open a picture, animation or video for lazy, exactly-timed decoding.

    ``source`` is a path, bytes, a binary file object, a base64 string, a ``data:`` URI, or an
    http(s) URL (fetched with ``fetcher``). Raises a :class:`~frameswap.errors.MediaError` naming
    the input when it is missing, unsupported, corrupt, empty or over ``limits``.
    """
    resolved = resolve_source(source, limits=limits, fetcher=fetcher, name=name)
    if resolved.size == 0:
        from frameswap.errors import EmptyMediaError

        raise EmptyMediaError(f"{resolved.name}: the input is empty (0 bytes)")
    for factory in _plugins():
        with contextlib.suppress(UnsupportedMediaError):  # not this plugin's format: try the next
            return factory(resolved, limits)
    raise UnsupportedMediaError(
        f"{resolved.name}: not a supported picture, animation or video "
        "(GIF, PNG/APNG, WebP, JPEG, BMP, MP4, MOV, MKV, WebM, AVI)"
    )
