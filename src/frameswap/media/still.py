"""Still pictures (PNG, JPEG, WebP, BMP) through Pillow, upright and limit-checked before decoding."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from PIL import ImageOps, UnidentifiedImageError

from frameswap.errors import CorruptMediaError, UnsupportedMediaError
from frameswap.media.base import MediaReader, check_frame_limits
from frameswap.media.chunks import is_png, is_webp
from frameswap.media.pillow_io import open_pillow, pillow_errors, split_alpha
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.options import MediaLimits

STILL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "BMP": "bmp", "MPO": "jpeg"}
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
STILL_TIME_BASE = Fraction(1, 1000)


class StillReader(MediaReader):
    """One picture as one frame (duration 0), EXIF orientation applied."""

    def frames(self) -> Iterator[Frame]:
        with pillow_errors(self.name):
            im = open_pillow(self.source)
            try:
                im = ImageOps.exif_transpose(im)
                rgb, alpha = split_alpha(im)
            finally:
                im.close()
        yield Frame(0, rgb, FrameTiming(0, 0, STILL_TIME_BASE), alpha if self.info.has_alpha else None)


_JPEG_OR_BMP = (b"\xff\xd8\xff", b"BM")


def open_still(source: ResolvedSource, limits: MediaLimits) -> StillReader:
    with pillow_errors(source.name):
        try:
            im = open_pillow(source)
        except UnidentifiedImageError as exc:
            head = source.head(16)
            if is_png(head) or is_webp(head) or head.startswith(_JPEG_OR_BMP):
                raise CorruptMediaError(f"{source.name}: corrupt or truncated picture") from exc
            raise
        try:
            fmt = STILL_FORMATS.get(im.format or "")
            if fmt is None:
                raise UnsupportedMediaError(f"{source.name}: {im.format} pictures are not supported")
            width, height = im.size
            if im.getexif().get(0x0112) in _ROTATING_ORIENTATIONS:
                width, height = height, width
            check_frame_limits(source.name, width, height, 1, limits)
            has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
        finally:
            im.close()
    info = MediaInfo(
        format=fmt,
        kind="image",
        width=width,
        height=height,
        frame_count=1,
        durations_ms=(0.0,),
        time_base=STILL_TIME_BASE,
        has_alpha=has_alpha,
    )
    return StillReader(source, info, limits)
