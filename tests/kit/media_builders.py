"""Small media built from code, for tests and benchmarks (no files shipped, no network).

``hand_gif`` writes GIF bytes block by block with its own (uncompressed) LZW stream, so a test
controls every disposal method, transparency index and sub-rectangle independently of any GIF
encoder under test.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from frameswap.media.types import Frame, FrameTiming, MediaInfo

MS = Fraction(1, 1000)


@dataclass(frozen=True)
class GifFrameSpec:
    """One image block of a hand-built GIF."""

    indices: np.ndarray  # (h, w) palette indices
    x: int = 0
    y: int = 0
    delay_cs: int = 0
    disposal: int = 0
    transparent: int | None = None
    palette: np.ndarray | None = None  # local colour table (N, 3), N a power of two


def lzw_uncompressed(indices: np.ndarray) -> bytes:
    """A valid GIF LZW stream (code size 8) that never compresses: a clear code every 250 pixels.

    The decoder's table then never reaches 512 entries, so every code stays 9 bits wide.
    """
    flat = np.asarray(indices, dtype=np.uint16).ravel()
    codes: list[np.ndarray] = []
    for start in range(0, len(flat), 250):
        codes.append(np.array([256], dtype=np.uint16))
        codes.append(flat[start : start + 250])
    codes.append(np.array([257], dtype=np.uint16))
    all_codes = np.concatenate(codes)
    bits = ((all_codes[:, None] >> np.arange(9, dtype=np.uint16)) & 1).astype(np.uint8).ravel()
    packed = np.packbits(bits, bitorder="little").tobytes()
    blocks = b"".join(
        bytes([len(packed[i : i + 255])]) + packed[i : i + 255] for i in range(0, len(packed), 255)
    )
    return bytes([8]) + blocks + b"\x00"


def _table(palette: np.ndarray) -> tuple[int, bytes]:
    size_bits = max((len(palette) - 1).bit_length(), 1)
    table = np.zeros((1 << size_bits, 3), dtype=np.uint8)
    table[: len(palette)] = palette
    return size_bits - 1, table.tobytes()


def hand_gif(
    width: int,
    height: int,
    frames: Sequence[GifFrameSpec],
    *,
    global_palette: np.ndarray | None = None,
    loop: int | None = None,
    background: int = 0,
) -> bytes:
    """GIF89a bytes with exactly the given blocks (no optimisation, nothing merged)."""
    flags, gct = 0, b""
    if global_palette is not None:
        bits, gct = _table(np.asarray(global_palette, dtype=np.uint8))
        flags = 0x80 | bits
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, flags, background, 0), gct]
    if loop is not None:
        out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00")
    for f in frames:
        gflags = (f.disposal << 2) | (1 if f.transparent is not None else 0)
        out.append(b"\x21\xf9\x04" + struct.pack("<BHB", gflags, f.delay_cs, f.transparent or 0) + b"\x00")
        h, w = f.indices.shape
        lflags, lct = 0, b""
        if f.palette is not None:
            bits, lct = _table(np.asarray(f.palette, dtype=np.uint8))
            lflags = 0x80 | bits
        out.append(b"\x2c" + struct.pack("<HHHHB", f.x, f.y, w, h, lflags) + lct)
        out.append(lzw_uncompressed(f.indices))
    out.append(b"\x3b")
    return b"".join(out)


def photo(size: tuple[int, int] = (480, 270)) -> np.ndarray:
    """scikit-image's astronaut (a real face), resized to (width, height), RGB uint8."""
    from PIL import Image
    from skimage import data

    w, h = size
    return np.asarray(Image.fromarray(data.astronaut()).resize((w, h), Image.Resampling.BILINEAR))


def panning_frames(
    durations_ms: Sequence[int], size: tuple[int, int] = (160, 120), *, alpha: bool = False
) -> Iterator[Frame]:
    """Frames of a slow pan across the astronaut photo, with the given delays (time base 1 ms)."""
    w, h = size
    big = photo((w + 4 * len(durations_ms) + 8, h + 8))
    pts = 0
    for i, d in enumerate(durations_ms):
        rgb = np.ascontiguousarray(big[4 : 4 + h, 4 * i : 4 * i + w])
        a = None
        if alpha:
            a = np.full((h, w), 255, np.uint8)
            a[: h // 4, : w // 4] = 0
        yield Frame(i, rgb, FrameTiming(pts, d, MS), a)
        pts += d


def animation_info(
    durations_ms: Sequence[int],
    size: tuple[int, int],
    *,
    fmt: str = "gif",
    loop: int | None = 0,
    alpha: bool = False,
) -> MediaInfo:
    """The MediaInfo that goes with :func:`panning_frames`."""
    return MediaInfo(
        format=fmt,
        kind="animation",
        width=size[0],
        height=size[1],
        frame_count=len(durations_ms),
        durations_ms=tuple(float(d) for d in durations_ms),
        loop=loop,
        time_base=MS,
        has_alpha=alpha,
    )


def write_test_video(
    path: str | Path,
    pts: Sequence[int],
    *,
    time_base: Fraction = Fraction(1, 1000),
    size: tuple[int, int] = (64, 48),
    audio_seconds: float | None = 1.0,
    audio_codec: str = "aac",
    codec: str = "libx264",
    rotation: int = 0,
) -> Path:
    """A small video whose frames sit at exactly ``pts`` (variable frame rate), with a sine-tone track."""
    import av

    path = Path(path)
    w, h = size
    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=30, options={"preset": "ultrafast"} if codec == "libx264" else {})
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.codec_context.time_base = time_base
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if audio_seconds:
            a = out.add_stream(audio_codec, rate=48000)
            a.layout = "stereo"
        base = photo((w + len(pts) * 2 + 2, h))
        for i, p in enumerate(pts):
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(base[:, 2 * i : 2 * i + w]), format="rgb24"
            )
            frame.pts, frame.time_base = p, time_base
            out.mux(v.encode(frame))
        out.mux(v.encode(None))
        if a is not None and audio_seconds:
            n = int(48000 * audio_seconds)
            t = np.arange(n) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            samples = np.stack([tone, tone])
            for start in range(0, n, 1024):
                chunk = np.ascontiguousarray(samples[:, start : start + 1024])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, start
                out.mux(a.encode(af))
            out.mux(a.encode(None))
    return path
