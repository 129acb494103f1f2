"""Animated GIF reading with exact delays and spec-exact compositing.

Why not ``PIL.Image.seek``: Pillow composites GIFs its own way (a frame whose disposal is
"unspecified" inherits the previous frame's disposal, frames larger than the canvas grow it), so
we walk the block structure ourselves (cheap: no pixels), use Pillow's C LZW decoder for each
frame's indices, and composite with numpy following the GIF89a spec:

* disposal 0/1 leave the frame in place, 2 clears its rectangle, 3 restores what was there before;
* "clear" means transparent when the GIF uses transparency anywhere, else the background colour
  (browsers clear to transparent; with no alpha in the output the background colour is the
  spec's own answer);
* a frame reaching outside the canvas is clipped to it;
* a frame's delay is kept exactly as stored: ``duration`` in ms (centiseconds x 10) with
  ``time_base = 1/1000``, so 0 and 10 ms delays survive untouched;
* each frame also carries its colours as indices (``Frame.source_colors``) when the composited
  picture has at most 256 of them, so a GIF written back keeps untouched pixels bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from PIL import Image

from frameswap.errors import CorruptMediaError, EmptyMediaError, MediaLimitError, UnsupportedMediaError
from frameswap.media.base import MediaReader, check_frame_limits, check_pixel_frames
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, FrameTiming, MediaInfo, SourceColors
from frameswap.options import MediaLimits

GIF_TIME_BASE = Fraction(1, 1000)
_GREY_PALETTE = np.repeat(np.arange(256, dtype=np.uint8)[:, None], 3, axis=1)


@dataclass(frozen=True)
class GifFrameRecord:
    """One image block: where it sits, how it is shown, and where its LZW data lies."""

    x: int
    y: int
    width: int
    height: int
    interlace: bool
    palette: np.ndarray | None  # local colour table (N, 3)
    delay_cs: int
    disposal: int
    transparent: int | None
    min_code_size: int
    data_start: int  # first sub-block length byte
    data_end: int  # just after the 0 terminator


@dataclass(frozen=True)
class GifScan:
    """The whole file's structure, found without decoding a pixel."""

    width: int
    height: int
    palette: np.ndarray | None  # global colour table
    background: int
    loop: int | None
    frames: tuple[GifFrameRecord, ...]

    @property
    def has_transparency(self) -> bool:
        return any(f.transparent is not None for f in self.frames)


class _Cursor:
    """Bounds-checked reads over the file bytes; running off the end is a truncated file."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.pos, self.name = data, 0, name

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise CorruptMediaError(
                f"{self.name}: GIF is truncated (needs {end} bytes, has {len(self.data)})"
            )
        out = self.data[self.pos : end]
        self.pos = end
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        b = self.take(2)
        return b[0] | (b[1] << 8)

    def sub_blocks(self) -> Iterator[bytes]:
        while True:
            size = self.u8()
            if size == 0:
                return
            yield self.take(size)

    def skip_sub_blocks(self) -> None:
        """Past a run of sub-blocks to just after its terminator (a frame's LZW data is thousands
        of them: jumping by their length bytes costs a tenth of slicing each one out)."""
        data, pos, end = self.data, self.pos, len(self.data)
        while pos < end:
            size = data[pos]
            pos += 1 + size
            if size == 0:
                self.pos = pos
                return
        raise CorruptMediaError(f"{self.name}: GIF is truncated (a block runs past the end of the file)")


def _palette(cur: _Cursor, flags: int) -> np.ndarray | None:
    if not flags & 0x80:
        return None
    n = 2 << (flags & 7)
    return np.frombuffer(cur.take(3 * n), dtype=np.uint8).reshape(n, 3)


def is_gif(head: bytes) -> bool:
    return head[:6] in (b"GIF87a", b"GIF89a")


def scan_gif(data: bytes, name: str, limits: MediaLimits) -> GifScan:
    """Walk the GIF block structure: canvas, palettes, loop, and per-frame delay/disposal/rectangles."""
    if not is_gif(data):
        raise UnsupportedMediaError(f"{name}: not a GIF")
    cur = _Cursor(data, name)
    cur.take(6)
    width, height, flags, background = cur.u16(), cur.u16(), cur.u8(), cur.u8()
    cur.u8()  # pixel aspect ratio
    check_frame_limits(name, width, height, None, limits)
    gct = _palette(cur, flags)
    loop: int | None = None
    frames: list[GifFrameRecord] = []
    gce: tuple[int, int, int | None] = (0, 0, None)  # delay_cs, disposal, transparent
    while cur.pos < len(data):
        kind = cur.u8()
        if kind == 0x3B:  # trailer
            break
        if kind == 0x21:
            label = cur.u8()
            blocks = cur.sub_blocks()
            first = next(blocks, None)
            if label == 0xF9 and first is not None and len(first) >= 4:
                transparent = first[3] if first[0] & 1 else None
                gce = (first[1] | (first[2] << 8), (first[0] >> 2) & 7, transparent)
                for _ in blocks:
                    pass
            elif label == 0xFF and first is not None and first[:11] in (b"NETSCAPE2.0", b"ANIMEXTS1.0"):
                for block in blocks:
                    if len(block) >= 3 and block[0] == 1:
                        loop = block[1] | (block[2] << 8)
            else:
                for _ in blocks:
                    pass
        elif kind == 0x2C:
            x, y, w, h, fl = cur.u16(), cur.u16(), cur.u16(), cur.u16(), cur.u8()
            if w * h > limits.max_pixels_per_frame:
                raise MediaLimitError(
                    f"{name}: frame {len(frames)} is {w}x{h} pixels, over the limit of "
                    f"{limits.max_pixels_per_frame} pixels per frame"
                )
            lct = _palette(cur, fl)
            code_size = cur.u8()
            if not 1 <= code_size <= 11:
                raise CorruptMediaError(f"{name}: frame {len(frames)} has invalid LZW code size {code_size}")
            start = cur.pos
            cur.skip_sub_blocks()
            frames.append(GifFrameRecord(x, y, w, h, bool(fl & 0x40), lct, *gce, code_size, start, cur.pos))
            gce = (0, 0, None)
            if len(frames) > limits.max_frames:
                raise MediaLimitError(f"{name}: more than {limits.max_frames} frames (the limit)")
            # every frame is composited on the whole canvas: refuse from the headers, before decoding
            check_pixel_frames(name, width, height, len(frames), limits)
        else:
            if frames:  # junk after complete frames: browsers stop here too
                break
            raise CorruptMediaError(f"{name}: unexpected byte 0x{kind:02x} at offset {cur.pos - 1}")
    if not frames:
        raise EmptyMediaError(f"{name}: GIF has no frames")
    return GifScan(width, height, gct, background, loop, tuple(frames))


def decode_indices(data: bytes, rec: GifFrameRecord, name: str, index: int) -> np.ndarray:
    """One frame's palette indices (h, w) through Pillow's C LZW decoder."""
    if rec.width == 0 or rec.height == 0:
        return np.zeros((rec.height, rec.width), dtype=np.uint8)
    fill = rec.transparent if rec.transparent is not None else 0
    im = Image.new("P", (rec.width, rec.height), fill)
    try:
        decoder = Image._getdecoder("P", "gif", (rec.min_code_size, rec.interlace, -1))
        decoder.setimage(im.im, (0, 0, rec.width, rec.height))
        _, err = decoder.decode(data[rec.data_start : rec.data_end])
        decoder.cleanup()
    except (OSError, ValueError, MemoryError) as exc:
        raise CorruptMediaError(f"{name}: frame {index} cannot be decoded ({exc})") from exc
    if err < 0:
        raise CorruptMediaError(f"{name}: frame {index} has corrupt LZW image data (error {err})")
    # A short LZW stream (err == 0, wants more) leaves the rest at the fill index, as browsers do.
    return np.asarray(im)


class _ColourCanvas:
    """The composited picture as numbers into every colour it has held.

    Why numbers and not RGB: a frame's distinct colours are then one ``bincount`` instead of a
    sort of every pixel, cheap enough to hand every frame its own palette (:class:`SourceColors`)
    so a GIF writer can keep untouched pixels exact. Colours no longer on the canvas are dropped
    now and then (``compact``) so the numbers stay 16-bit however many local palettes go by.
    """

    _COMPACT_AT = 8192  # numbered colours; each frame adds at most 256

    def __init__(self, height: int, width: int, background: np.ndarray) -> None:
        self._numbers: dict[bytes, int] = {}
        self.colours = np.zeros((0, 3), dtype=np.uint8)
        self.background = int(self.number(background.reshape(1, 3))[0])
        self.ids = np.full((height, width), self.background, dtype=np.uint16)

    def number(self, palette: np.ndarray) -> np.ndarray:
        """The number of each palette entry, numbering colours not seen before."""
        raw = np.ascontiguousarray(palette, dtype=np.uint8).tobytes()
        out = np.empty(len(palette), dtype=np.uint16)
        fresh: list[bytes] = []
        for i in range(len(palette)):
            key = raw[3 * i : 3 * i + 3]
            n = self._numbers.get(key)
            if n is None:
                n = self._numbers[key] = len(self._numbers)
                fresh.append(key)
            out[i] = n
        if fresh:
            new = np.frombuffer(b"".join(fresh), dtype=np.uint8).reshape(-1, 3)
            self.colours = np.concatenate([self.colours, new])
        return out

    def compact(self) -> None:
        """Forget colours no pixel shows any more (keeping the background) once there are many."""
        if len(self.colours) < self._COMPACT_AT:
            return
        present = np.bincount(self.ids.ravel(), minlength=len(self.colours)) > 0
        present[self.background] = True
        keep = np.flatnonzero(present)
        renumber = np.zeros(len(self.colours), dtype=np.uint16)
        renumber[keep] = np.arange(len(keep), dtype=np.uint16)
        self.ids = renumber[self.ids]
        self.colours = self.colours[keep]
        self.background = int(renumber[self.background])
        self._numbers = {c.tobytes(): n for n, c in enumerate(self.colours)}

    def picture(self) -> tuple[np.ndarray, SourceColors | None]:
        """The RGB picture, and its colours as indices when there are at most 256 of them."""
        present = np.flatnonzero(np.bincount(self.ids.ravel(), minlength=len(self.colours)))
        if len(present) > 256:
            return np.take(self.colours, self.ids, axis=0), None
        renumber = np.zeros(len(self.colours), dtype=np.uint8)
        renumber[present] = np.arange(len(present), dtype=np.uint8)
        indices = np.take(renumber, self.ids)
        palette = self.colours[present]
        return np.take(palette, indices, axis=0), SourceColors(indices, palette)


class GifReader(MediaReader):
    """Frames of a GIF, composited one by one on a canvas that is the only state kept."""

    def __init__(self, source: ResolvedSource, data: bytes, scan: GifScan, limits: MediaLimits) -> None:
        self._data, self.scan = data, scan
        durations = tuple(float(f.delay_cs * 10) for f in scan.frames)
        info = MediaInfo(
            format="gif",
            kind="animation" if len(scan.frames) > 1 else "image",
            width=scan.width,
            height=scan.height,
            frame_count=len(scan.frames),
            durations_ms=durations,
            loop=scan.loop,
            time_base=GIF_TIME_BASE,
            has_alpha=scan.has_transparency,
        )
        super().__init__(source, info, limits)

    def _background(self) -> np.ndarray:
        pal = self.scan.palette
        if pal is not None and self.scan.background < len(pal):
            return pal[self.scan.background]
        return np.zeros(3, dtype=np.uint8)

    def frames(self) -> Iterator[Frame]:
        scan, name = self.scan, self.name
        clear_alpha = 0 if scan.has_transparency else 255
        canvas = _ColourCanvas(scan.height, scan.width, self._background())
        alpha = np.full((scan.height, scan.width), clear_alpha, dtype=np.uint8)
        pts = 0
        for i, rec in enumerate(scan.frames):
            canvas.compact()
            x0, y0 = min(rec.x, scan.width), min(rec.y, scan.height)
            x1, y1 = min(rec.x + rec.width, scan.width), min(rec.y + rec.height, scan.height)
            saved = None
            if rec.disposal == 3:
                saved = canvas.ids[y0:y1, x0:x1].copy(), alpha[y0:y1, x0:x1].copy()
            idx = decode_indices(self._data, rec, name, i)[: y1 - y0, : x1 - x0]
            palette = rec.palette if rec.palette is not None else scan.palette
            if palette is None:
                palette = _GREY_PALETTE
            lut = np.zeros((256, 3), dtype=np.uint8)
            lut[: min(256, len(palette))] = palette[:256]
            numbers = canvas.number(lut)[idx]
            if rec.transparent is None:  # every pixel drawn: plain copies (masked ones cost 3x more)
                canvas.ids[y0:y1, x0:x1] = numbers
                alpha[y0:y1, x0:x1] = 255
            else:
                drawn = idx != rec.transparent
                np.copyto(canvas.ids[y0:y1, x0:x1], numbers, where=drawn)
                alpha[y0:y1, x0:x1][drawn] = 255
            rgb, colors = canvas.picture()
            duration = rec.delay_cs * 10
            yield Frame(
                index=i,
                rgb=rgb,
                timing=FrameTiming(pts=pts, duration=duration, time_base=GIF_TIME_BASE),
                alpha=alpha.copy() if scan.has_transparency else None,
                source_colors=colors,
            )
            pts += duration
            if rec.disposal == 2:
                canvas.ids[y0:y1, x0:x1] = canvas.background
                alpha[y0:y1, x0:x1] = clear_alpha
            elif saved is not None:
                canvas.ids[y0:y1, x0:x1], alpha[y0:y1, x0:x1] = saved


def open_gif(source: ResolvedSource, limits: MediaLimits) -> GifReader:
    """Open a GIF (UnsupportedMediaError if it is not one, so the next reader is tried)."""
    if not is_gif(source.head(6)):
        raise UnsupportedMediaError(f"{source.name}: not a GIF")
    data = source.read_bytes()
    return GifReader(source, data, scan_gif(data, source.name, limits), limits)
