"""Streaming APNG and animated-WebP writers that keep every delay, frame by frame.

Pillow's multi-frame savers hold all frames in memory and merge identical consecutive frames
(libwebp's animation encoder does too), which changes the frame count and delays. Here Pillow
(libpng/libwebp) compresses each frame as a still, and we wrap the compressed data in the
animation chunks ourselves; the frame count lives in a header patched once at the end.

Since the chunks are ours, so is the XMP packet's place (Pillow's ``pnginfo``/``xmp`` arguments
only reach its own savers): an uncompressed ``iTXt`` chunk keyed ``XML:com.adobe.xmp`` before the
first image data in an APNG, and an ``XMP `` chunk after the frames in a WebP, flagged in ``VP8X``
(the places the PNG and WebP specifications give it).
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

from PIL import Image

from frameswap.errors import EmptyMediaError
from frameswap.media.chunks import PNG_SIGNATURE, png_chunks, webp_chunks
from frameswap.media.timing import DelayRounder
from frameswap.media.types import Frame


def frame_image(frame: Frame, with_alpha: bool) -> Image.Image:
    if with_alpha and frame.alpha is not None:
        import numpy as np

        return Image.fromarray(np.dstack([frame.rgb, frame.alpha]), "RGBA")
    return Image.fromarray(frame.rgb, "RGB")


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


XMP_PNG_KEYWORD = "XML:com.adobe.xmp"


def _xmp_itxt(packet: bytes) -> bytes:
    """The iTXt chunk of an XMP packet: keyword, no compression, empty language and translation."""
    return _png_chunk(b"iTXt", XMP_PNG_KEYWORD.encode("latin-1") + b"\x00\x00\x00\x00\x00" + packet)


class ApngStreamWriter:
    """APNG: IHDR from the first frame, acTL patched at close, fcTL + IDAT/fdAT per frame."""

    def __init__(
        self,
        fh: BinaryIO,
        width: int,
        height: int,
        *,
        loop: int | None,
        alpha: bool,
        compress_level: int = 3,
        xmp: bytes | None = None,
    ) -> None:
        self.fh, self.width, self.height = fh, width, height
        self.xmp = xmp
        self.loop, self.alpha, self.compress_level = loop, alpha, compress_level
        self.frame_count = 0
        self._seq = 0
        self._actl_pos = -1
        self._ms = DelayRounder(1000, 0xFFFF)

    def _delay(self, frame: Frame) -> tuple[int, int]:
        seconds = frame.timing.duration * frame.timing.time_base
        if seconds.numerator <= 0xFFFF and seconds.denominator <= 0xFFFF:
            self._ms.next(frame.timing.duration, frame.timing.time_base)  # keep the running total
            return seconds.numerator, seconds.denominator
        return self._ms.next(frame.timing.duration, frame.timing.time_base), 1000

    def write(self, frame: Frame) -> None:
        buf = io.BytesIO()
        frame_image(frame, self.alpha).save(buf, "PNG", compress_level=self.compress_level)
        data = buf.getvalue()
        chunks = png_chunks(data)
        idat = [data[s:e] for t, s, e in chunks if t == b"IDAT"]
        if self.frame_count == 0:
            ihdr = next(data[s:e] for t, s, e in chunks if t == b"IHDR")
            self.fh.write(PNG_SIGNATURE + _png_chunk(b"IHDR", ihdr))
            self._actl_pos = self.fh.tell()
            plays = _plays(self.loop)
            self.fh.write(_png_chunk(b"acTL", struct.pack(">II", 0, plays)))
            if self.xmp is not None:
                self.fh.write(_xmp_itxt(self.xmp))
        num, den = self._delay(frame)
        h, w = frame.rgb.shape[:2]
        fctl = struct.pack(">IIIIIHHBB", self._seq, w, h, 0, 0, num, den, 0, 0)
        self.fh.write(_png_chunk(b"fcTL", fctl))
        self._seq += 1
        for part in idat:
            if self.frame_count == 0:
                self.fh.write(_png_chunk(b"IDAT", part))
            else:
                self.fh.write(_png_chunk(b"fdAT", struct.pack(">I", self._seq) + part))
                self._seq += 1
        self.frame_count += 1

    def close(self) -> None:
        if self.frame_count == 0:
            raise EmptyMediaError("no frames to write to the APNG")
        self.fh.write(_png_chunk(b"IEND", b""))
        end = self.fh.tell()
        self.fh.seek(self._actl_pos)
        plays = _plays(self.loop)
        self.fh.write(_png_chunk(b"acTL", struct.pack(">II", self.frame_count, plays)))
        self.fh.seek(end)


def _riff_chunk(ctype: bytes, payload: bytes) -> bytes:
    return ctype + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


class WebpStreamWriter:
    """Animated WebP: VP8X + ANIM, then one ANMF (no blending, no disposal) per full frame."""

    def __init__(
        self,
        fh: BinaryIO,
        width: int,
        height: int,
        *,
        loop: int | None,
        alpha: bool,
        quality: int = 80,
        lossless: bool = False,
        xmp: bytes | None = None,
    ) -> None:
        self.fh, self.width, self.height = fh, width, height
        self.xmp = xmp
        self.loop, self.alpha, self.quality, self.lossless = loop, alpha, quality, lossless
        self.frame_count = 0
        self._ms = DelayRounder(1000, 0xFFFFFF)

    def _start(self) -> None:
        flags = 0x02 | (0x10 if self.alpha else 0) | (0x04 if self.xmp is not None else 0)
        vp8x = (
            struct.pack("<I", flags)
            + (self.width - 1).to_bytes(3, "little")
            + (self.height - 1).to_bytes(3, "little")
        )
        anim = struct.pack("<IH", 0, min(_plays(self.loop), 0xFFFF))
        self.fh.write(b"RIFF\x00\x00\x00\x00WEBP" + _riff_chunk(b"VP8X", vp8x) + _riff_chunk(b"ANIM", anim))

    def write(self, frame: Frame) -> None:
        if self.frame_count == 0:
            self._start()
        buf = io.BytesIO()
        frame_image(frame, self.alpha).save(
            buf, "WEBP", quality=self.quality, lossless=self.lossless, method=4, exact=True
        )
        data = buf.getvalue()
        payload = b"".join(
            _riff_chunk(t, data[s:e]) for t, s, e in webp_chunks(data) if t in (b"ALPH", b"VP8 ", b"VP8L")
        )
        h, w = frame.rgb.shape[:2]
        ms = self._ms.next(frame.timing.duration, frame.timing.time_base)
        header = (0).to_bytes(3, "little") * 2 + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
        header += ms.to_bytes(3, "little") + bytes([0x02])  # bit 1: do not blend
        self.fh.write(_riff_chunk(b"ANMF", header + payload))
        self.frame_count += 1

    def close(self) -> None:
        if self.frame_count == 0:
            raise EmptyMediaError("no frames to write to the WebP")
        if self.xmp is not None:
            self.fh.write(_riff_chunk(b"XMP ", self.xmp))
        end = self.fh.tell()
        self.fh.seek(4)
        self.fh.write(struct.pack("<I", end - 8))
        self.fh.seek(end)


def _plays(loop: int | None) -> int:
    """APNG/WebP always store a play count: a GIF without a loop extension plays once (1)."""
    return 1 if loop is None else loop
