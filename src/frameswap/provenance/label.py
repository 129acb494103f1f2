"""The visible label: a short text in the bottom-right corner of every frame.

Rendered once per frame size with Pillow (its bundled scalable font, so no font file is needed)
as white text on a translucent dark box, then composited ("over") onto each frame. Only the box's
pixels change; everything else is the frame as it was. The text is about 3.5 % of the frame's
height (10 px at least), so it stays small on a large video and legible on a small GIF; when the
frame is too narrow for it, the font shrinks, and below 6 px the label is cut at the frame's edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from frameswap.media.types import Frame

_BOX_OPACITY = 0.6
_MIN_FONT_PX = 6


@dataclass
class Label:
    """Stamps ``text`` (checked by ``DisclosureOptions``: one short line) onto frames; keeps the
    rendered patch for the last frame size it saw."""

    text: str
    _patch: tuple[tuple[int, int], np.ndarray] | None = field(default=None, repr=False)

    def patch(self, width: int, height: int) -> np.ndarray:
        """The label as straight-alpha RGBA float32 in [0, 1], at most ``width`` x ``height``."""
        if self._patch is None or self._patch[0] != (width, height):
            self._patch = ((width, height), _render(self.text, width, height))
        return self._patch[1]

    def stamp(self, frame: Frame) -> Frame:
        """The frame with the label composited into its bottom-right corner (alpha made opaque
        under the box, so the label shows on transparent frames too)."""
        h, w = frame.rgb.shape[:2]
        patch = self.patch(w, h)
        ph, pw = patch.shape[:2]
        margin = max(1, min(h, w) // 50)
        y0, x0 = max(0, h - ph - margin), max(0, w - pw - margin)
        region = (slice(y0, y0 + ph), slice(x0, x0 + pw))
        top_a = patch[..., 3:4]
        below = frame.rgb[region].astype(np.float32) / 255.0
        below_a = np.ones_like(top_a) if frame.alpha is None else frame.alpha[region][..., None] / 255.0
        out_a = top_a + below_a * (1.0 - top_a)
        mixed = (patch[..., :3] * top_a + below * below_a * (1.0 - top_a)) / np.maximum(out_a, 1e-6)
        rgb = frame.rgb.copy()
        rgb[region] = np.clip(np.rint(mixed * 255.0), 0, 255).astype(np.uint8)
        alpha = None
        if frame.alpha is not None:
            alpha = frame.alpha.copy()
            alpha[region] = np.clip(np.rint(out_a[..., 0] * 255.0), 0, 255).astype(np.uint8)
        return Frame(frame.index, rgb, frame.timing, alpha, frame.source_colors)


def _render(text: str, width: int, height: int) -> np.ndarray:
    size = max(10, round(height * 0.035))
    while True:
        font = ImageFont.load_default(size=size)
        left, top, right, bottom = (round(v) for v in font.getbbox(text))
        pad = max(2, size // 4)
        box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
        if (box_w <= width and box_h <= height) or size <= _MIN_FONT_PX:
            break
        size -= 1
    im = Image.new("RGBA", (box_w, box_h), (0, 0, 0, round(255 * _BOX_OPACITY)))
    ImageDraw.Draw(im).text((pad - left, pad - top), text, font=font, fill=(255, 255, 255, 255))
    patch = np.asarray(im, dtype=np.float32) / 255.0
    return patch[: min(box_h, height), : min(box_w, width)]
