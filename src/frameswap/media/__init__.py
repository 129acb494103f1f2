"""Media: decode any supported input into timed frames, encode timed frames back.

``open_media`` gives a :class:`MediaReader` (``info`` at once, ``frames()`` decoded lazily);
``write_media`` streams frames to a file atomically with their original timing.
"""

from frameswap.media.base import MediaReader
from frameswap.media.reader import open_media
from frameswap.media.sources import Fetcher, Source
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.media.writer import (
    FORMATS,
    content_type_for,
    encode_bytes,
    format_for,
    write_media,
)

__all__ = [
    "FORMATS",
    "Fetcher",
    "Frame",
    "FrameTiming",
    "MediaInfo",
    "MediaReader",
    "Source",
    "content_type_for",
    "encode_bytes",
    "format_for",
    "open_media",
    "write_media",
]
