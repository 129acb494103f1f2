"""The Pillow helpers the still and animated readers share: error mapping, lazy open, RGB/alpha split.

Why its own module: the animated (APNG/WebP) reader used to import them from the still reader,
tying two plugins together; both now import this leaf, which knows no reader.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image, UnidentifiedImageError

from frameswap.errors import CorruptMediaError, MediaError, MediaLimitError, UnsupportedMediaError
from frameswap.media.sources import ResolvedSource


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


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB array as PNG file bytes (lossless: a picture given as an array, kept as a file)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb), "RGB").save(buf, "PNG")
    return buf.getvalue()
