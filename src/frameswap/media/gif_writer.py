"""Streaming GIF writer that writes exactly the delays, loop and transparency it is given.

Why not ``Image.save(save_all=True)``: Pillow holds every frame in memory, merges identical
consecutive frames (adding their delays) and always has an opinion on the loop extension. We
let Pillow do what it is good at (quantising, LZW-compressing one block) and assemble the file
ourselves, frame by frame: the exact delay, NETSCAPE loop only when the input had one, and one
local palette per image block (see :mod:`frameswap.media.gif_palette` for why pixels the
pipeline did not touch keep their input colour bit for bit).

Why frame differencing: real GIFs store each frame as the rectangle that changed, with the
unchanged pixels inside it transparent ("leave as is", disposal 1); writing full opaque frames
instead made files 2-2.5x larger. The writer keeps a model of what a decoder shows after each
frame and writes only the bounding box of the pixels that differ from it. Every frame is kept,
even one identical to the last (a 1x1 transparent block): frame counts and delays survive.

Why one frame of look-ahead: a pixel can only become transparent again if the frame before it
is disposed of ("restore to background", disposal 2), and a frame's disposal is written before
its pixels. So each frame is written when the next one arrives, with disposal 2 over a rectangle
that also covers the pixels the next frame makes transparent.

Why an XMP block written by hand: GIF's only place for XMP is the "XMP DataXMP" application
extension of the XMP spec (part 3, 1.1.2), which no Python library writes into a stream. The
packet is stored raw, not in sub-blocks, followed by a 258-byte "magic trailer" that walks any
GIF decoder's sub-block reader to the terminator whatever byte it lands on; so decoders that do not
know XMP skip it and the frames are byte for byte what they would be without it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image

from frameswap.errors import EmptyMediaError, MediaEncodeError
from frameswap.media.gif_palette import (
    DEFAULT_GIF_PALETTE,
    GifPalettePolicy,
    IndexedBlock,
    index_block,
    pack_rgb,
)
from frameswap.media.timing import DelayRounder
from frameswap.media.types import Frame

_ALPHA_THRESHOLD = 128
_ENCODE_BUFFER = 1 << 16
# Each block starts its palette-width search where the last one ended (each width tried costs a
# dithering pass); every this many blocks it starts narrow again, so a face that needed a wider
# palette once does not keep paying for it (roop_target with a blurred face: 1.27x the input -> 1.20x).
_NARROW_AGAIN_EVERY = 8


@dataclass
class _Screen:
    """What a decoder shows after the frames written so far (packed 0xRRGGBB colours)."""

    shown: np.ndarray  # (H, W) uint32, the colour on screen
    drawn_for: np.ndarray  # (H, W) uint32, the colour that pixel was asked to show
    opaque: np.ndarray  # (H, W) bool, False where the screen is transparent (or not drawn yet)

    @classmethod
    def blank(cls, width: int, height: int) -> _Screen:
        return cls(
            np.zeros((height, width), np.uint32),
            np.zeros((height, width), np.uint32),
            np.zeros((height, width), bool),
        )


def lzw_blocks(indices: np.ndarray, code_size: int) -> bytes:
    """GIF LZW data sub-blocks (terminator included) for one block's indices, by Pillow's C encoder."""
    h, w = indices.shape
    im = Image.fromarray(np.ascontiguousarray(indices, dtype=np.uint8), "P")
    encoder = Image._getencoder("P", "gif", ("P", code_size, 0))
    chunks = []
    try:
        encoder.setimage(im.im, (0, 0, w, h))
        while True:
            _, err, data = encoder.encode(_ENCODE_BUFFER)
            chunks.append(data)
            if err:
                break
    finally:
        encoder.cleanup()
    if err < 0:
        raise MediaEncodeError(f"GIF LZW encoder failed (error {err})")
    return b"".join(chunks) + b"\x00"


# 0x01, 0xFF, 0xFE, ..., 0x01, 0x00, then the block terminator: wherever a decoder reading the raw
# packet as sub-blocks lands in this ramp, the length byte it reads takes it to the final zero.
_XMP_MAGIC_TRAILER = b"\x01" + bytes(range(255, -1, -1)) + b"\x00"


def xmp_application_extension(packet: bytes) -> bytes:
    """The GIF application extension carrying an XMP packet (raw UTF-8, then the magic trailer)."""
    if b"\x00" in packet:
        raise MediaEncodeError("an XMP packet for a GIF must not contain NUL bytes")
    return b"\x21\xff\x0bXMP DataXMP" + packet + _XMP_MAGIC_TRAILER


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the True pixels, None when there are none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


class GifStreamWriter:
    """Write frames to an open binary file one at a time (holding at most one frame back)."""

    def __init__(
        self,
        fh: BinaryIO,
        width: int,
        height: int,
        *,
        loop: int | None,
        transparent: bool,
        colors: int = 256,
        policy: GifPalettePolicy = DEFAULT_GIF_PALETTE,
        xmp: bytes | None = None,
    ) -> None:
        """``xmp``: an XMP packet written once, after the header (see the module docstring)."""
        self.fh, self.width, self.height = fh, width, height
        self.xmp = xmp
        self.loop, self.transparent = loop, transparent
        self.colors, self.policy = colors, policy
        self._started = False
        self._delays = DelayRounder(100, 0xFFFF)  # GIF delays are centiseconds
        self._screen = _Screen.blank(width, height)
        self._pending: Frame | None = None
        self._widen = 0  # palette bits the last block's new pixels needed (see gif_palette.index_block)
        self.frame_count = 0

    def _header(self) -> None:
        self.fh.write(b"GIF89a" + struct.pack("<HHBBB", self.width, self.height, 0, 0, 0))
        if self.loop is not None:
            self.fh.write(
                b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", min(self.loop, 0xFFFF)) + b"\x00"
            )
        if self.xmp is not None:
            self.fh.write(xmp_application_extension(self.xmp))
        self._started = True

    def _opaque(self, frame: Frame) -> np.ndarray | None:
        """Where the frame must be opaque; None when it is opaque everywhere."""
        if not self.transparent or frame.alpha is None:
            return None
        return frame.alpha >= _ALPHA_THRESHOLD

    def write(self, frame: Frame) -> None:
        h, w = frame.rgb.shape[:2]
        if (w, h) != (self.width, self.height):
            raise MediaEncodeError(f"frame {frame.index} is {w}x{h}, the GIF is {self.width}x{self.height}")
        if self._pending is not None:
            self._emit(self._pending, self._opaque(frame))
        self._pending = frame

    def close(self) -> None:
        if self._pending is not None:
            self._emit(self._pending, None)
            self._pending = None
        if self.frame_count == 0:
            raise EmptyMediaError("no frames to write to the GIF")
        self.fh.write(b"\x3b")

    def _emit(self, frame: Frame, next_opaque: np.ndarray | None) -> None:
        """Write ``frame`` as the box that differs from the screen (``next_opaque``: the next one's)."""
        if not self._started:
            self._header()
        screen, first = self._screen, self.frame_count == 0
        target = pack_rgb(frame.rgb)
        opaque = self._opaque(frame)
        exact = self._exact(frame, target, opaque)
        keep = screen.opaque & (screen.shown == target)
        if exact is not None:
            keep |= screen.opaque & (screen.drawn_for == target) & ~exact
        else:
            keep |= screen.opaque & (screen.drawn_for == target)
        hole = np.zeros_like(keep) if opaque is None else ~opaque
        if opaque is not None:
            keep &= opaque
            if (hole & screen.opaque).any():
                raise MediaEncodeError(f"frame {frame.index}: GIF writer lost track of transparency")
        todo = ~(keep | hole)
        dispose = False
        if next_opaque is not None:  # pixels shown now that the next frame makes transparent
            must_clear = ~next_opaque if opaque is None else opaque & ~next_opaque
            dispose = bool(must_clear.any())
            todo |= must_clear
        box = (0, 0, self.width, self.height) if first else (_bounding_box(todo) or (0, 0, 1, 1))
        x0, y0, x1, y1 = box
        region = (slice(y0, y1), slice(x0, x1))
        colors = frame.source_colors if exact is not None else None
        block = index_block(
            frame.rgb[region],
            None if colors is None else colors.indices[region],
            None if colors is None else colors.palette,
            np.zeros((y1 - y0, x1 - x0), bool) if exact is None else exact[region],
            keep[region],
            hole[region],
            colors=self.colors,
            force_transparent=self.transparent,
            policy=self.policy,
            widen=self._widen if self.frame_count % _NARROW_AGAIN_EVERY else 0,
        )
        self._widen = block.widened
        self._write_block(frame, box, block, 2 if dispose else 1)
        t = block.transparent
        shown = pack_rgb(block.palette)[block.indices]
        if t is None:  # every pixel of the block drawn (plain copies: masked ones cost 3x more)
            screen.shown[region] = shown
            screen.drawn_for[region] = target[region]
            screen.opaque[region] = True
        else:
            drawn = block.indices != t
            np.copyto(screen.shown[region], shown, where=drawn)
            np.copyto(screen.drawn_for[region], target[region], where=drawn)
            screen.opaque[region] |= drawn
        if dispose:
            screen.opaque[region] = False

    def _exact(self, frame: Frame, target: np.ndarray, opaque: np.ndarray | None) -> np.ndarray | None:
        """Pixels that still show the input's own colour (None when the frame has no input colours)."""
        colors = frame.source_colors
        if colors is None or colors.indices.shape != target.shape:
            return None
        exact = pack_rgb(colors.palette)[colors.indices] == target
        return exact if opaque is None else exact & opaque

    def _write_block(
        self, frame: Frame, box: tuple[int, int, int, int], block: IndexedBlock, disposal: int
    ) -> None:
        x0, y0, x1, y1 = box
        delay_cs = self._delays.next(frame.timing.duration, frame.timing.time_base)
        t = block.transparent
        flags = (disposal << 2) | (1 if t is not None else 0)
        self.fh.write(b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay_cs, t or 0) + b"\x00")
        size_bits = max((len(block.palette) - 1).bit_length(), 1)
        table = np.zeros((1 << size_bits, 3), dtype=np.uint8)
        table[: len(block.palette)] = block.palette
        self.fh.write(b"\x2c" + struct.pack("<HHHHB", x0, y0, x1 - x0, y1 - y0, 0x80 | (size_bits - 1)))
        self.fh.write(table.tobytes())
        code_size = max(size_bits, 2)
        self.fh.write(bytes([code_size]) + lzw_blocks(block.indices, code_size))
        self.frame_count += 1
