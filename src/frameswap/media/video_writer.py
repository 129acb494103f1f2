"""Video encoding through PyAV: original pts and time base per frame, audio copied when possible.

Frames are encoded as they arrive and the audio packets of the source are interleaved as the
video clock passes them, so neither the frames nor the audio are ever held whole in memory.

Why the XMP box is appended by hand: FFmpeg's MP4/MOV muxer writes no XMP, and no Python library
adds one to a finished file short of rewriting it. The XMP spec (part 3, 1.2.7) puts the packet
in a top-level ``uuid`` box with Adobe's XMP UUID; a top-level box after the others changes no
offset the muxer wrote (chunk offsets count from the file's start), so appending it is safe and
every ISO-BMFF reader that does not know it skips it. Matroska, WebM and AVI have no XMP place.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from frameswap.errors import EmptyMediaError, MediaEncodeError
from frameswap.media.types import Frame, MediaInfo
from frameswap.options import EncodeOptions

MUXERS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm", "avi": "avi"}
DEFAULT_CODECS = {"mp4": "libx264", "mov": "libx264", "mkv": "libx264", "webm": "libvpx-vp9", "avi": "mpeg4"}
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")  # Adobe's XMP box UUID (XMP spec part 3)
XMP_CONTAINERS = frozenset({"mp4", "mov"})


def codec_options(codec: str, quality: int) -> dict[str, str]:
    """Map the 0-100 quality to each encoder's own constant-quality knob."""
    if codec in ("libx264", "h264", "libx265"):
        return {"crf": str(round(44 - 0.3 * quality)), "preset": "fast"}
    if codec in ("libvpx-vp9", "vp9", "libvpx"):
        return {
            "crf": str(round(63 - 0.5 * quality)),
            "b": "0",
            "deadline": "good",
            "cpu-used": "4",
            "row-mt": "1",
        }
    return {}


def pad_even(rgb: np.ndarray) -> np.ndarray:
    """yuv420p needs even sizes: repeat the last row/column (one pixel, invisible) when odd."""
    h, w = rgb.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return rgb
    return np.pad(rgb, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


class _AudioCarrier:
    """Copies (or re-encodes) the source's audio into the output, interleaved by time."""

    def __init__(self, out: Any, audio_from: Any) -> None:
        import av

        self.in_c = audio_from.open_container()
        try:
            self.a_in = self.in_c.streams.audio[0]
            self.copy = self.a_in.codec_context.name in out.supported_codecs
            if self.copy:
                self.a_out = out.add_stream_from_template(self.a_in)
            else:
                codec = out.default_audio_codec
                if codec in ("opus", "libopus"):
                    codec = "libopus"
                rate = self.a_in.codec_context.sample_rate or 48000
                if codec == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                    rate = 48000
                self.a_out = out.add_stream(codec, rate=rate)
                self.a_out.layout = (
                    self.a_in.codec_context.layout.name if self.a_in.codec_context.layout else "stereo"
                )
        except BaseException:
            self.in_c.close()  # the caller never gets an object to close
            raise
        self._packets: Iterator[Any] = iter(self.in_c.demux(self.a_in))
        self._pending: Any = None
        self._av = av

    def _next(self) -> Any:
        if self._pending is None:
            self._pending = next(self._packets, None)
        return self._pending

    def mux_until(self, out: Any, seconds: float | None) -> None:
        """Mux source audio packets up to ``seconds`` (all remaining when None)."""
        while (packet := self._next()) is not None:
            if packet.dts is None and packet.size == 0:  # demuxer flush packet
                self._pending = None
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if seconds is not None and ts is not None and float(ts * packet.time_base) > seconds:
                return
            self._pending = None
            if self.copy:
                packet.stream = self.a_out
                out.mux(packet)
            else:
                for frame in packet.decode():
                    frame.pts = None
                    out.mux(self.a_out.encode(frame))
        if seconds is None and not self.copy:
            out.mux(self.a_out.encode(None))  # flush the audio encoder once, at the very end

    def close(self) -> None:
        self.in_c.close()


def _stream_time_base(info: MediaInfo, first: Frame) -> Fraction:
    if info.kind == "video" and info.time_base:
        return info.time_base
    return first.timing.time_base


def write_video(
    path: Path,
    frames: Iterable[Frame],
    info: MediaInfo,
    fmt: str,
    *,
    audio_from: Any = None,
    options: EncodeOptions = EncodeOptions(),
    xmp: bytes | None = None,
) -> int:
    """Encode ``frames`` to ``path`` in container ``fmt``; return the number of frames written.

    ``xmp``: a packet stored in a top-level ``uuid`` box for MP4/MOV (ignored by other containers).
    """
    import av

    codec = options.video_codec or DEFAULT_CODECS[fmt]
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise EmptyMediaError(f"{path.name}: no frames to write")
    try:
        # Keep timestamps as given: shifting "negative" ones (AAC priming) would move the video too.
        out = av.open(str(path), mode="w", format=MUXERS[fmt], options={"avoid_negative_ts": "disabled"})
    except av.error.FFmpegError as exc:
        raise MediaEncodeError(f"{path}: cannot create the {fmt} file ({exc})") from exc
    audio = None
    count = 0
    try:
        tb = _stream_time_base(info, first)
        h, w = pad_even(first.rgb).shape[:2]
        rate = (
            info.fps
            if info.fps
            else (
                1 / (first.timing.duration * first.timing.time_base)
                if first.timing.duration
                else Fraction(25)
            )
        )
        rate = Fraction(rate).limit_denominator(1001)
        if fmt == "avi":  # AVI has no per-frame timestamps: a constant rate is all it can store
            tb = 1 / rate
        stream = out.add_stream(codec, rate=rate, options=codec_options(codec, options.quality))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = tb
        if fmt == "avi":
            stream.codec_context.qmax = max(2, min(31, round(31 - 0.29 * options.quality)))
        if audio_from is not None and audio_from.info.has_audio and hasattr(audio_from, "open_container"):
            audio = _AudioCarrier(out, audio_from)
        last_pts = None
        for frame in _chain(first, it):
            vf = av.VideoFrame.from_ndarray(pad_even(frame.rgb), format="rgb24")
            ftb = frame.timing.time_base
            pts = frame.timing.pts if ftb == tb else round(frame.timing.pts * ftb / tb)
            if last_pts is not None and pts <= last_pts:
                pts = last_pts + 1  # encoders need strictly increasing pts
            vf.pts, vf.time_base, last_pts = pts, tb, pts
            out.mux(stream.encode(vf))
            count += 1
            if audio is not None:
                audio.mux_until(out, float(pts * tb) + 0.5)
        out.mux(stream.encode(None))
        if audio is not None:
            audio.mux_until(out, None)
    except av.error.FFmpegError as exc:
        raise MediaEncodeError(f"{path.name}: encoding {fmt} with {codec} failed ({exc})") from exc
    finally:
        if audio is not None:
            audio.close()
        out.close()
    if xmp is not None and fmt in XMP_CONTAINERS:
        with open(path, "ab") as fh:
            fh.write(struct.pack(">I", 8 + len(XMP_UUID) + len(xmp)) + b"uuid" + XMP_UUID + xmp)
    return count


def _chain(first: Frame, rest: Iterator[Frame]) -> Iterator[Frame]:
    yield first
    yield from rest
