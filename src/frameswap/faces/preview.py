"""A numbered preview of the indexed faces, so a user sees which index is whom."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from frameswap.atomic import atomic_output
from frameswap.errors import OptionsError

# Distinct, colour-blind-friendly hues (Okabe-Ito), cycled by index.
_PALETTE = (
    (230, 159, 0),
    (86, 180, 233),
    (0, 158, 115),
    (240, 228, 66),
    (0, 114, 178),
    (213, 94, 0),
    (204, 121, 167),
)


def draw_numbered_faces(image: np.ndarray, faces: Sequence[tuple[int, np.ndarray]]) -> np.ndarray:
    """A copy of ``image`` (RGB uint8) with each (index, box) drawn as a coloured box and its number.

    Line width and label size follow the image size so the numbers stay readable on small GIFs and
    on 4K frames alike.
    """
    out = np.ascontiguousarray(image[..., :3], dtype=np.uint8).copy()
    h, w = out.shape[:2]
    thick = max(1, round(min(h, w) / 300))
    scale = max(0.4, min(h, w) / 600)
    for index, box in faces:
        colour = _PALETTE[index % len(_PALETTE)]
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        x1, x2 = max(0, min(x1, w - 1)), max(0, min(x2, w - 1))
        y1, y2 = max(0, min(y1, h - 1)), max(0, min(y2, h - 1))
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, thick, cv2.LINE_AA)
        label = str(index)
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        pad = max(2, thick * 2)
        # label above the box, or inside its top when the box touches the top edge
        ty2 = y1 if y1 - th - base - 2 * pad >= 0 else min(h - 1, y1 + th + base + 2 * pad)
        ty1 = ty2 - th - base - 2 * pad
        cv2.rectangle(out, (x1, ty1), (min(w - 1, x1 + tw + 2 * pad), ty2), colour, -1)
        origin = (x1 + pad, ty2 - base - pad)
        cv2.putText(out, label, origin, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick, cv2.LINE_AA)
    return out


def compose_preview(
    reference: np.ndarray,
    faces: Sequence[tuple[int, np.ndarray]],
    later: Sequence[tuple[int, np.ndarray]] = (),
) -> np.ndarray:
    """The numbered reference frame, plus a strip of numbered crops of people who appear later.

    ``later`` holds (index, crop) pairs: those people are not in the reference frame, so they are
    shown as they look in their first frame, in a row under it.
    """
    top = draw_numbered_faces(reference, faces)
    if not later:
        return top
    width = top.shape[1]
    side = max(32, min(160, width // max(len(later), 1)))
    tiles = []
    for index, crop in later:
        tile = cv2.resize(np.ascontiguousarray(crop[..., :3]), (side, side), interpolation=cv2.INTER_AREA)
        tiles.append(draw_numbered_faces(tile, [(index, np.array([0, 0, side - 1, side - 1]))]))
    per_row = max(1, width // side)
    rows = []
    for start in range(0, len(tiles), per_row):
        row = np.zeros((side, width, 3), np.uint8)
        for k, tile in enumerate(tiles[start : start + per_row]):
            row[:, k * side : (k + 1) * side] = tile
        rows.append(row)
    return np.ascontiguousarray(np.vstack([top, *rows]))


def save_image_atomic(path: str | os.PathLike[str], image: np.ndarray) -> Path:
    """Write an RGB image in the format its extension names, atomically (temp file + rename)."""
    target = Path(path)
    fmt = Image.registered_extensions().get(target.suffix.lower())
    if fmt is None:
        raise OptionsError(f"{target}: unknown image extension {target.suffix!r} (use .png or .jpg)")
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OptionsError(f"{target}: the folder {directory} does not exist")
    with atomic_output(target) as tmp:
        Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(tmp, format=fmt)
    return target


def crop_face(image: np.ndarray, box: np.ndarray, margin: float = 0.2) -> np.ndarray:
    """The square region around a box (with ``margin`` of its side on each side), clipped to the image."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1 + 2 * margin)
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    left, top = max(0, round(cx - side / 2)), max(0, round(cy - side / 2))
    right, bottom = min(w, round(cx + side / 2)), min(h, round(cy + side / 2))
    if right <= left or bottom <= top:
        return np.zeros((1, 1, 3), np.uint8)
    return np.ascontiguousarray(image[top:bottom, left:right, :3])
