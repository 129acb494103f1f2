"""Header walks for APNG and animated WebP: frame count, exact delays and loop count, no pixels.

Pillow reports APNG delays as float milliseconds and WebP durations as differences of running
timestamps; reading the stored values ourselves keeps them exact and costs only a chunk walk.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from fractions import Fraction

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class AnimationHeader:
    """Canvas, per-frame delays (seconds, exact) and loop count of an APNG or animated WebP."""

    width: int
    height: int
    delays: tuple[Fraction, ...]
    loop: int | None
    has_alpha: bool


def is_webp(head: bytes) -> bool:
    return len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def is_png(head: bytes) -> bool:
    return head[:8] == PNG_SIGNATURE


def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk's payload, stopping quietly at a truncated chunk."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        start, end = pos + 8, pos + 8 + length
        if end > len(data):
            break
        out.append((ctype, start, end))
        if ctype == b"IEND":
            break
        pos = end + 4
    return out


def read_apng_header(data: bytes) -> AnimationHeader | None:
    """The APNG animation header, or None for a plain (single-image) PNG."""
    chunks = png_chunks(data)
    if not chunks or chunks[0][0] != b"IHDR" or chunks[0][2] - chunks[0][1] < 13:
        return None
    ihdr = data[chunks[0][1] : chunks[0][2]]
    width, height = struct.unpack(">II", ihdr[:8])
    color_type = ihdr[9]
    actl = next(((s, e) for t, s, e in chunks if t == b"acTL"), None)
    if actl is None or actl[1] - actl[0] < 8:
        return None
    _, num_plays = struct.unpack(">II", data[actl[0] : actl[0] + 8])
    delays = []
    for ctype, start, end in chunks:
        if ctype == b"fcTL" and end - start >= 26:
            num, den = struct.unpack(">HH", data[start + 20 : start + 24])
            delays.append(Fraction(num, den or 100))
    has_alpha = color_type in (4, 6) or any(t == b"tRNS" for t, _, _ in chunks)
    return AnimationHeader(width, height, tuple(delays), num_plays, has_alpha)


def webp_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        ctype = data[pos : pos + 4]
        (length,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        start, end = pos + 8, pos + 8 + length
        if end > len(data):
            break
        out.append((ctype, start, end))
        pos = end + (length & 1)
    return out


def read_webp_header(data: bytes) -> AnimationHeader | None:
    """The animated-WebP header, or None for a still WebP."""
    chunks = webp_chunks(data)
    vp8x = next(((s, e) for t, s, e in chunks if t == b"VP8X"), None)
    if vp8x is None or vp8x[1] - vp8x[0] < 10:
        return None
    flags = data[vp8x[0]]
    if not flags & 0x02:
        return None
    b = data[vp8x[0] + 4 : vp8x[0] + 10]
    width = 1 + (b[0] | b[1] << 8 | b[2] << 16)
    height = 1 + (b[3] | b[4] << 8 | b[5] << 16)
    loop = None
    delays = []
    for ctype, start, end in chunks:
        if ctype == b"ANIM" and end - start >= 6:
            (loop,) = struct.unpack("<H", data[start + 4 : start + 6])
        elif ctype == b"ANMF" and end - start >= 16:
            d = data[start + 12 : start + 15]
            delays.append(Fraction(d[0] | d[1] << 8 | d[2] << 16, 1000))
    return AnimationHeader(width, height, tuple(delays), loop, bool(flags & 0x10))
