"""``write_media``: pick the format, stream the frames to a temp file, then rename it into place."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from frameswap.atomic import atomic_output, locked_temp_dir
from frameswap.errors import EmptyMediaError, OverwriteInputError, UnsupportedMediaError
from frameswap.media.types import Frame, MediaInfo
from frameswap.options import EncodeOptions

FORMATS: tuple[str, ...] = ("gif", "png", "apng", "webp", "jpeg", "bmp", "mp4", "mov", "mkv", "webm", "avi")
VIDEO_FORMATS = frozenset({"mp4", "mov", "mkv", "webm", "avi"})
ANIMATED_FORMATS = frozenset({"gif", "apng", "webp"}) | VIDEO_FORMATS

_CONTENT_TYPES = {
    "gif": "image/gif",
    "png": "image/png",
    "apng": "image/apng",
    "webp": "image/webp",
    "jpeg": "image/jpeg",
    "bmp": "image/bmp",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "mkv": "video/x-matroska",
    "webm": "video/webm",
    "avi": "video/x-msvideo",
}
_EXTENSIONS = {"jpg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "m4v": "mp4", "qt": "mov"}
SUFFIXES = {"jpeg": ".jpg", "apng": ".png"}


def content_type_for(format: str) -> str:
    """The MIME type of a format name (``"gif"`` -> ``"image/gif"``)."""
    try:
        return _CONTENT_TYPES[format.lower()]
    except KeyError as exc:
        raise UnsupportedMediaError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}") from exc


def format_for(destination: str | Path | None, info: MediaInfo, format: str | None = None) -> str:
    """Output format: ``format``, else the extension, else the input's; .png of an animation is APNG."""
    animated = info.frame_count > 1
    if format is None and destination is not None:
        ext = Path(destination).suffix.lower().lstrip(".")
        if ext:
            format = _EXTENSIONS.get(ext, ext)
            if format not in FORMATS:
                raise UnsupportedMediaError(
                    f"{destination}: cannot write .{ext} files; use one of: {', '.join(FORMATS)}"
                )
    fmt = (format or info.format).lower()
    fmt = _EXTENSIONS.get(fmt, fmt)
    if fmt not in FORMATS:
        raise UnsupportedMediaError(f"cannot write format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if fmt == "png" and animated:
        return "apng"
    return fmt


def same_file(a: Path, b: Path | None) -> bool:
    """Whether ``a`` and ``b`` name the same file (``b`` None: no)."""
    if b is None:
        return False
    try:
        return a.resolve() == b.resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def write_media(
    destination: str | Path,
    frames: Iterable[Frame],
    info: MediaInfo,
    *,
    audio_from: Any = None,
    options: EncodeOptions = EncodeOptions(),
    format: str | None = None,
    xmp: bytes | None = None,
) -> Path:
    """Encode ``frames`` (consumed lazily) to ``destination`` atomically, keeping each frame's timing.

    Refuses to write onto the input file (``audio_from.path``). Animations written to a still
    format keep their first frame; a still written to GIF is a one-frame GIF. ``xmp``, a complete
    XMP packet, is stored where the format has a place for one (every format but BMP, MKV, WebM
    and AVI); the pixels are the same with or without it.
    """
    dest = Path(destination)
    fmt = format_for(dest, info, format)
    if audio_from is not None and same_file(dest, getattr(audio_from, "path", None)):
        raise OverwriteInputError(f"{dest}: refusing to overwrite the input file; choose another output path")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(dest) as tmp:
        if fmt in VIDEO_FORMATS:
            from frameswap.media.video_writer import write_video

            write_video(tmp, frames, info, fmt, audio_from=audio_from, options=options, xmp=xmp)
        else:
            with open(tmp, "w+b") as fh:
                _write_image(fh, frames, info, fmt, options, xmp)
    return dest


def _write_image(
    fh: Any, frames: Iterable[Frame], info: MediaInfo, fmt: str, options: EncodeOptions, xmp: bytes | None
) -> None:
    it: Iterator[Frame] = iter(frames)
    first = next(it, None)
    if first is None:
        raise EmptyMediaError("no frames to write")
    h, w = first.rgb.shape[:2]
    alpha = info.has_alpha and first.alpha is not None
    if fmt in ("gif", "apng") or (fmt == "webp" and info.frame_count > 1):
        writer = _animation_writer(fh, fmt, w, h, info, alpha, options, xmp)
        writer.write(first)
        for frame in it:
            writer.write(frame)
        writer.close()
        return
    from frameswap.media.anim_writers import frame_image

    im = frame_image(first, alpha and fmt in ("png", "webp"))
    if fmt == "jpeg":
        im.save(fh, "JPEG", quality=max(1, min(95, options.quality)), optimize=True, **_xmp_args(xmp))
    elif fmt == "webp":
        im.save(fh, "WEBP", quality=options.quality, **_xmp_args(xmp))
    elif fmt == "png" and xmp is not None:
        from PIL.PngImagePlugin import PngInfo

        from frameswap.media.anim_writers import XMP_PNG_KEYWORD

        text = PngInfo()
        text.add_itxt(XMP_PNG_KEYWORD, xmp.decode("utf-8"), zip=False)
        im.save(fh, "PNG", pnginfo=text)
    else:
        im.save(fh, fmt.upper())


def _xmp_args(xmp: bytes | None) -> dict[str, bytes]:
    """Pillow's JPEG (APP1) and WebP (``XMP `` chunk) savers store a packet given as ``xmp``."""
    return {} if xmp is None else {"xmp": xmp}


def _animation_writer(
    fh: Any, fmt: str, w: int, h: int, info: MediaInfo, alpha: bool, options: EncodeOptions, xmp: bytes | None
) -> Any:
    if fmt == "gif":
        from frameswap.media.gif_writer import GifStreamWriter

        return GifStreamWriter(
            fh, w, h, loop=info.loop, transparent=alpha, colors=options.gif_colors, xmp=xmp
        )
    from frameswap.media.anim_writers import ApngStreamWriter, WebpStreamWriter

    if fmt == "apng":
        return ApngStreamWriter(fh, w, h, loop=info.loop, alpha=alpha, xmp=xmp)
    lossless = options.quality >= 100
    return WebpStreamWriter(
        fh, w, h, loop=info.loop, alpha=alpha, quality=options.quality, lossless=lossless, xmp=xmp
    )


def encode_bytes(
    frames: Iterable[Frame],
    info: MediaInfo,
    *,
    format: str,
    audio_from: Any = None,
    options: EncodeOptions = EncodeOptions(),
    xmp: bytes | None = None,
) -> bytes:
    """Encode to bytes in ``format`` (through a temp file: muxers need to seek)."""
    fmt = format_for(None, info, format)
    with locked_temp_dir() as tmp:  # a killed process's directory is swept at the next server start
        path = tmp / f"out{SUFFIXES.get(fmt, '.' + fmt)}"
        write_media(path, frames, info, audio_from=audio_from, options=options, format=fmt, xmp=xmp)
        return path.read_bytes()
