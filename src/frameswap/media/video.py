"""Video through PyAV: every frame keeps its own pts and the stream's time base.

Frame counts and per-frame durations come from a demux-only pass (packets, no decoding), so
variable frame rate survives and nothing is rounded through an integer fps. Rotation metadata
(the display matrix) is applied to the pixels so frames come out upright.

Bad bytes reach PyAV's Python layer too, not only FFmpeg: metadata that is not UTF-8 (read with
``metadata_errors="replace"``: a title is not worth refusing a video for), a stream whose codec
FFmpeg does not know (``codec_context`` is None). Whatever else PyAV raises on a hostile file
becomes a :class:`CorruptMediaError` (see :func:`_video_errors`), never a crash.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from itertools import pairwise
from typing import Any

import numpy as np

from frameswap.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaLimitError,
    UnsupportedMediaError,
)
from frameswap.media.base import MediaReader, check_frame_limits
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.options import MediaLimits

_VIDEO_MAGIC = (b"ftyp", b"\x1a\x45\xdf\xa3", b"RIFF")


def _container_format(av_name: str, head: bytes, video_codec: str) -> str:
    if "avi" in av_name.split(","):
        return "avi"
    if "matroska" in av_name:
        return "webm" if b"webm" in head[:64] else "mkv"
    if "mov" in av_name or "mp4" in av_name:
        return "mov" if head[8:12] == b"qt  " else "mp4"
    return av_name.split(",")[0]


def _open_container(source: ResolvedSource) -> Any:
    import av

    target = str(source.path) if source.path is not None else io.BytesIO(source.data or b"")
    return av.open(target, mode="r", metadata_errors="replace")


@contextmanager
def _video_errors(name: str) -> Iterator[None]:
    """Any exception PyAV raises on bad bytes (it is not only ``FFmpegError``) as a media error."""
    try:
        yield
    except (MediaError, MemoryError):
        raise
    except Exception as exc:
        raise CorruptMediaError(f"{name}: corrupt video ({type(exc).__name__}: {exc})") from exc


def _rotate(rgb: np.ndarray, rotation: int) -> np.ndarray:
    k = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


class VideoReader(MediaReader):
    """Lazily decoded video frames; at most two decoded frames are held at once."""

    def __init__(
        self, source: ResolvedSource, info: MediaInfo, limits: MediaLimits, rotation: int, last_duration: int
    ) -> None:
        super().__init__(source, info, limits)
        self.rotation = rotation
        self._last_duration = last_duration

    def open_container(self) -> Any:
        """A fresh PyAV input container on the same data (used to copy the audio stream)."""
        return _open_container(self.source)

    def frames(self) -> Iterator[Frame]:
        import av

        tb = self.info.time_base or Fraction(1, 1000)
        with _video_errors(self.name):
            container = _open_container(self.source)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            pending: tuple[int, np.ndarray] | None = None
            index = 0
            try:
                for vf in container.decode(stream):
                    pts = vf.pts if vf.pts is not None else (pending[0] + 1 if pending else 0)
                    rgb = _rotate(vf.to_ndarray(format="rgb24"), self.rotation)
                    if pending is not None:
                        yield Frame(index, pending[1], FrameTiming(pending[0], max(pts - pending[0], 0), tb))
                        index += 1
                        if index >= self.limits.max_frames:
                            raise MediaLimitError(f"{self.name}: more than {self.limits.max_frames} frames")
                    pending = (pts, rgb)
            except av.error.FFmpegError as exc:
                raise CorruptMediaError(f"{self.name}: video data cannot be decoded ({exc})") from exc
            except (MediaError, MemoryError, GeneratorExit):
                raise
            except Exception as exc:  # PyAV's Python layer on bad data
                raise CorruptMediaError(f"{self.name}: corrupt video ({type(exc).__name__}: {exc})") from exc
            if pending is not None:
                yield Frame(index, pending[1], FrameTiming(pending[0], self._last_duration, tb))
        finally:
            container.close()


def _demux_pass(container: Any, stream: Any, name: str, limits: MediaLimits) -> tuple[list[int], int]:
    """Presentation timestamps of every video packet (sorted) and the last packet's duration."""
    pts_list: list[int] = []
    last_duration = 0
    for packet in container.demux(stream):
        if packet.size == 0:
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None:
            ts = pts_list[-1] + 1 if pts_list else 0
        pts_list.append(ts)
        if packet.duration:
            last_duration = packet.duration
        if len(pts_list) > limits.max_frames:
            raise MediaLimitError(f"{name}: more than {limits.max_frames} frames (the limit)")
    pts_list.sort()
    return pts_list, last_duration


def open_video(source: ResolvedSource, limits: MediaLimits) -> VideoReader:
    """Open a video, read its header and packet timestamps; decode only the first frame (rotation)."""
    with _video_errors(source.name):
        return _open_video(source, limits)


def _open_video(source: ResolvedSource, limits: MediaLimits) -> VideoReader:
    import av

    head = source.head(64)
    try:
        container = _open_container(source)
    except av.error.FFmpegError as exc:
        if any(m in head[:16] for m in _VIDEO_MAGIC):
            raise CorruptMediaError(f"{source.name}: corrupt or truncated video ({exc})") from exc
        raise UnsupportedMediaError(f"{source.name}: not a recognised video ({exc})") from exc
    try:
        if container.format.name.endswith("_pipe") or container.format.name.startswith("image2"):
            raise UnsupportedMediaError(f"{source.name}: a still image, not a video")
        if not container.streams.video:
            raise UnsupportedMediaError(f"{source.name}: no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        if ctx is None:
            raise UnsupportedMediaError(f"{source.name}: the video codec is unknown to FFmpeg")
        check_frame_limits(source.name, ctx.width, ctx.height, stream.frames or None, limits)
        fmt = _container_format(container.format.name, head, ctx.name)
        audio = container.streams.audio[0] if container.streams.audio else None
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 1000)
        try:
            first = next(container.decode(stream), None)
            rotation = int(first.rotation) if first is not None else 0
        except av.error.FFmpegError as exc:
            raise CorruptMediaError(f"{source.name}: video data cannot be decoded ({exc})") from exc
        if first is None:
            raise EmptyMediaError(f"{source.name}: video has no frames")
        container.close()
        container = _open_container(source)
        stream = container.streams.video[0]
        pts_list, last_duration = _demux_pass(container, stream, source.name, limits)
    except av.error.FFmpegError as exc:
        raise CorruptMediaError(f"{source.name}: corrupt or truncated video ({exc})") from exc
    finally:
        container.close()
    if not pts_list:
        raise EmptyMediaError(f"{source.name}: video has no frames")
    check_frame_limits(source.name, ctx.width, ctx.height, len(pts_list), limits)
    diffs = [b - a for a, b in pairwise(pts_list)]
    if not last_duration:
        last_duration = int(np.median(diffs)) if diffs else 0
    durations = [*diffs, last_duration]
    width, height = ctx.width, ctx.height
    if round(rotation / 90) % 2:
        width, height = height, width
    # Mean rate from the timestamps themselves (containers' own average_rate can be far off).
    span = pts_list[-1] - pts_list[0]
    fps = Fraction(len(pts_list) - 1) / (span * tb) if span > 0 else stream.average_rate
    info = MediaInfo(
        format=fmt,
        kind="video",
        width=width,
        height=height,
        frame_count=len(pts_list),
        durations_ms=tuple(float(d * tb * 1000) for d in durations),
        fps=Fraction(fps) if fps else None,
        time_base=tb,
        has_audio=audio is not None,
        audio_codec=audio.codec_context.name if audio is not None else None,
    )
    return VideoReader(source, info, limits, rotation, last_duration)
