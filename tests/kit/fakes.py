"""Model-free stand-ins: faces are solid squares whose green value is the person's identity.

The analyzer finds squares whose red channel is exactly ``FACE_RED``; the embedding encodes the
green value, so a tracker can tell people apart. The engine paints a swapped face with the source's
green value and a blue value of 255, which a test can read back pixel by pixel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from frameswap.engines.base import SwapJob
from frameswap.faces.types import Face, sort_large_to_small

FACE_RED = 200


def square_face(x1: float, y1: float, x2: float, y2: float, identity: int) -> Face:
    w, h = x2 - x1, y2 - y1
    kps = np.array(
        [[x1 + 0.3 * w, y1 + 0.4 * h], [x1 + 0.7 * w, y1 + 0.4 * h], [x1 + 0.5 * w, y1 + 0.6 * h],
         [x1 + 0.35 * w, y1 + 0.8 * h], [x1 + 0.65 * w, y1 + 0.8 * h]],
        dtype=np.float32,
    )
    emb = np.zeros(8, np.float32)
    emb[identity % 8] = 1.0
    emb[(identity // 8) % 8] += 0.5
    return Face(box=np.array([x1, y1, x2, y2], np.float32), score=1.0, kps=kps, embedding=emb)


class SquareAnalyzer:
    name = "squares"

    def __init__(self) -> None:
        self.calls = 0
        self.images = 0  # images detected
        self.described = 0  # images where known faces were refreshed (followed)
        self.embedded = 0  # faces given identity embeddings

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        self.calls += 1
        self.images += len(images)
        found = self._find(images)
        if embed:
            self.embedded += sum(len(f) for f in found)
            return found
        return [[replace(f, embedding=None) for f in faces] for faces in found]

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        """The identity read back from the square's green value, as a descriptor would."""
        out = []
        for rgb, known in zip(images, faces, strict=True):
            described = []
            for face in known:
                x1, y1, x2, y2 = (int(v) for v in face.box)
                identity = int(rgb[(y1 + y2) // 2, (x1 + x2) // 2, 1])
                described.append(replace(face, embedding=square_face(x1, y1, x2, y2, identity).embedding))
            self.embedded += len(known)
            out.append(described)
        return out

    def _find(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        out = []
        for rgb in images:
            mask = (rgb[:, :, 0] == FACE_RED).astype(np.uint8)
            n, _, boxes, _ = cv2.connectedComponentsWithStats(mask)
            faces = []
            for x, y, w, h, area in boxes[1:n]:
                if area < 16:
                    continue
                identity = int(rgb[y + h // 2, x + w // 2, 1])
                faces.append(square_face(x, y, x + w, y + h, identity))
            out.append(sort_large_to_small(faces))
        return out

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        """Each given face refreshed from the square nearest its box (as a landmark predictor
        would re-fit inside a predicted box); score 0 where no square is near."""
        self.described += len(images)
        out = []
        for found, known in zip(self._find(images), faces, strict=True):
            refreshed = []
            for face in known:
                centre = (face.box[:2] + face.box[2:]) / 2
                best = min(found, key=lambda f: np.linalg.norm((f.box[:2] + f.box[2:]) / 2 - centre),
                           default=None)
                if best is None:
                    refreshed.append(Face(face.box, 0.0, face.kps, None, None, face.track_id))
                else:
                    emb = best.embedding if embed else None
                    refreshed.append(Face(best.box, 1.0, best.kps, None, emb, face.track_id))
            out.append(refreshed)
        return out


class PaintEngine:
    """Paints each target box with (FACE_RED, source identity, 255)."""

    name = "paint"

    def __init__(self) -> None:
        self.calls = 0
        self.frames = 0

    def prepare_source(self, image: np.ndarray, face: Face) -> int:
        x1, y1, x2, y2 = (int(v) for v in face.box)
        return int(image[(y1 + y2) // 2, (x1 + x2) // 2, 1])

    def swap(self, frames: Sequence[np.ndarray], jobs: Sequence[Sequence[SwapJob]]) -> list[np.ndarray]:
        self.calls += 1
        self.frames += len(frames)
        out = []
        for rgb, frame_jobs in zip(frames, jobs, strict=True):
            rgb = rgb.copy()
            for job in frame_jobs:
                x1, y1, x2, y2 = (int(v) for v in job.target.box)
                rgb[y1:y2, x1:x2] = (FACE_RED, job.source, 255)
            out.append(rgb)
        return out


def draw(
    size: tuple[int, int], squares: Sequence[tuple[int, int, int, int]], background: int = 40
) -> np.ndarray:
    """An RGB frame with squares (x, y, side, identity) on a textured background."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    rgb = np.stack([(xx * 3 + background) % 150, (yy * 2) % 150, (xx + yy) % 150], axis=-1).astype(np.uint8)
    for x, y, side, identity in squares:
        rgb[y : y + side, x : x + side] = (FACE_RED, identity, 0)
    return rgb
