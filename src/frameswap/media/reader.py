"""The plugin registry behind :func:`open_media` (the reader interface is in ``media.base``).

Like imageio v3: each reader family gets the source; one that cannot read it raises
:class:`UnsupportedMediaError` and the next family is tried. Limits are checked from headers
before any frame is decoded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from frameswap.errors import EmptyMediaError, UnsupportedMediaError
from frameswap.media.base import MediaReader
from frameswap.media.sources import Fetcher, ResolvedSource, Source, resolve_source
from frameswap.options import MediaLimits

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
        raise EmptyMediaError(f"{resolved.name}: the input is empty (0 bytes)")
    for factory in _plugins():
        with contextlib.suppress(UnsupportedMediaError):  # not this plugin's format: try the next
            return factory(resolved, limits)
    raise UnsupportedMediaError(
        f"{resolved.name}: not a supported picture, animation or video "
        "(GIF, PNG/APNG, WebP, JPEG, BMP, MP4, MOV, MKV, WebM, AVI)"
    )
