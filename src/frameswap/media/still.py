"""Still pictures (PNG, JPEG, WebP, BMP) through Pillow, upright and limit-checked before decoding."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from frameswap.errors import CorruptMediaError, MediaError, MediaLimitError, UnsupportedMediaError
from frameswap.media.chunks import is_png, is_webp
from frameswap.media.reader import MediaReader, check_frame_limits
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.options import MediaLimits

STILL_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "BMP": "bmp", "MPO": "jpeg"}
_ROTATING_ORIENTATIONS = {5, 6, 7, 8}  # EXIF orientations that swap width and height
STILL_TIME_BASE = Fraction(1, 1000)


@contextmanager
def pillow_errors(name: str) -> Iterator[None]:
    """Turn whatever Pillow raises on bad data into our errors, naming the input."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except MediaError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaLimitError(f"{name}: refused as a decompression bomb ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaError(f"{name}: not a recognised image") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise CorruptMediaError(f"{name}: corrupt or truncated image data ({exc})") from exc
    except Exception as exc:  # struct.error, zlib.error...: any decoder failure is corrupt data
        raise CorruptMediaError(f"{name}: corrupt image data ({type(exc).__name__}: {exc})") from exc


def open_pillow(source: ResolvedSource) -> Image.Image:
    """Open lazily (header only) from the path or the bytes."""
    fp = source.path if source.path is not None else io.BytesIO(source.data or b"")
    return Image.open(fp)


def split_alpha(im: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """RGB uint8 C-contiguous pixels, and alpha when the picture has transparency."""
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        scale = 255.0 / 65535.0 if im.mode != "F" and arr.max() > 255 else 1.0
        im = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode in ("P", "L", "RGB") and "transparency" in im.info
    )
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"))
        return np.ascontiguousarray(rgba[..., :3]), np.ascontiguousarray(rgba[..., 3])
    return np.ascontiguousarray(np.asarray(im.convert("RGB"))), None


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
