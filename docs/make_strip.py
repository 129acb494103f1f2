"""Render the README's before/after strip: a few frames of a target, original above, swapped below.

    python docs/make_strip.py SOURCE TARGET docs/images/strip.png [--frames 0,4,8,12] [--height 150]

The swap runs through the public API with default options, so the strip shows what a user gets.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

import frameswap
from frameswap.media import open_media


def _frames(path: Path, wanted: list[int]) -> list[np.ndarray]:
    with open_media(path) as reader:
        return [f.rgb for f in reader.frames() if f.index in wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("target")
    parser.add_argument("out")
    parser.add_argument("--frames", default="0,3,6,9,12", help="frame numbers, comma-separated")
    parser.add_argument("--height", type=int, default=150, help="height of one tile in pixels")
    parser.add_argument("--index", default="0", help="input_faces_index")
    args = parser.parse_args()
    wanted = [int(x) for x in args.frames.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        swapped = Path(tmp) / ("out" + Path(args.target).suffix)
        frameswap.swap(args.source, args.target, swapped, input_faces_index=args.index)
        rows = [_frames(Path(args.target), wanted), _frames(swapped, wanted)]
    tiles = []
    for row in rows:
        scaled = [cv2.resize(f, (round(f.shape[1] * args.height / f.shape[0]), args.height),
                             interpolation=cv2.INTER_AREA) for f in row]
        gap = np.full((args.height, 4, 3), 255, np.uint8)
        tiles.append(np.hstack([x for f in scaled for x in (f, gap)][:-1]))
    strip = np.vstack([tiles[0], np.full((4, tiles[0].shape[1], 3), 255, np.uint8), tiles[1]])
    # JPEG at quality 85: half the default size, no visible difference at this scale
    jpeg = Path(args.out).suffix.lower() in (".jpg", ".jpeg")
    params = [cv2.IMWRITE_JPEG_QUALITY, 85] if jpeg else []
    cv2.imwrite(args.out, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), params)


if __name__ == "__main__":
    main()
