"""The ``inswapper`` engine: InsightFace ``inswapper_128`` with insightface's exact paste-back.

Per face, as insightface ``INSwapper.get(..., paste_back=True)`` (docs/models.md §1.5): align to
128 with the ArcFace template, run the model, then warp the result and an all-white mask back,
set mask > 20 to 255, erode by ``max(s//10, 10)``, blur by ``2*max(s//20, 5)+1`` (``s`` the mask's
extent), blend in float32 and truncate to uint8. Frames are RGB here and BGR in insightface: all
those steps are per channel, so RGB in gives insightface's BGR result channel-reversed.

Two departures, both invisible in the result (bit-exact with insightface in our oracle runs):

- Threshold, erosion, blur and blend run inside a region of interest (the face's warped crop
  plus the erosion and blur margins) instead of the full frame; only the two cheap warps stay
  full-size, because warpAffine's rounding depends on the output window (see ``plan_paste``).
- All faces of all frames go through the model in as few calls as the batch axis allows. Faces
  of one frame are applied in job order as if ``get()`` were called repeatedly: a face whose crop
  overlaps an earlier face's pasted area waits for a later round and is cropped from the updated
  frame, so overlapping faces give the same result as the sequential reference.

A face whose keypoints are degenerate or whose crop lands wholly outside the frame (where
insightface itself crashes on an empty mask) is skipped with a :class:`FaceSkippedWarning`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from frameswap.engines.base import FaceSkippedWarning, SwapJob
from frameswap.errors import FaceError, OptionsError
from frameswap.faces.geometry import estimate_norm, keypoints_degenerate
from frameswap.faces.types import Face
from frameswap.models.inswapper import InswapperModel, prepare_batch_dynamic
from frameswap.models.session import SessionOptions

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


@dataclass(frozen=True)
class InswapperSource:
    """A prepared source face: insightface's projected, L2-normalised latent (512,) float32."""

    latent: np.ndarray


@dataclass
class PastePlan:
    """Everything about one target face that does not depend on the model's output."""

    matrix: np.ndarray  # 2x3, frame → 128 crop
    roi: Box  # where the soft mask is non-zero: the only pixels paste-back changes
    reach: Box  # pixels this face reads (crop) or writes (blurred mask > 0)
    inverse: np.ndarray  # 2x3, crop → frame
    mask: np.ndarray  # (h, w, 1) float32 in [0, 1] over the ROI: insightface's soft mask


def _clip_box(x0: float, y0: float, x1: float, y1: float, width: int, height: int) -> Box:
    return (max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))


def _boxes_touch(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _extent(where: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the rows and of the columns holding a True (sorted; empty when none)."""
    return np.flatnonzero(where.any(axis=1)), np.flatnonzero(where.any(axis=0))


def plan_paste(frame_shape: tuple[int, ...], kps: np.ndarray, size: int = 128) -> PastePlan | str:
    """The alignment and insightface's soft mask for one face, or the reason it must be skipped."""
    if keypoints_degenerate(kps):
        return "degenerate keypoints"
    matrix = estimate_norm(np.asarray(kps, dtype=np.float32), size)  # float32, as insightface
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix[:, :2])) < 1e-12:
        return "keypoints give no usable alignment"
    inverse = cv2.invertAffineTransform(matrix)
    corners = np.array([[0, 0, 1], [size, 0, 1], [0, size, 1], [size, size, 1]], dtype=np.float64)
    quad = corners @ inverse.T
    qx0, qy0 = np.floor(quad.min(axis=0)) - 1
    qx1, qy1 = np.ceil(quad.max(axis=0)) + 2
    height, width = frame_shape[:2]
    extent = int(math.sqrt(max(qx1 - qx0, 1.0) * max(qy1 - qy0, 1.0)))  # >= insightface's mask_size
    blur_max = max(extent // 20, 5)
    margin = max(extent // 10, 10) + 2 * blur_max + 4
    roi = _clip_box(qx0 - margin, qy0 - margin, qx1 + margin, qy1 + margin, width, height)
    x0, y0, x1, y1 = roi
    if x1 <= x0 or y1 <= y0:
        return "its crop lies outside the frame"
    # Start the ROI on a 64-column boundary: OpenCV's vectorised blur then sees every pixel in the
    # same SIMD lane as in a full-frame blur, which keeps the mask bit-exact with insightface's.
    x0 -= x0 % 64
    roi = (x0, y0, x1, y1)
    # The white mask is warped at full frame size, as insightface does: warpAffine's fixed-point
    # coordinates depend on the output window, and a window-sized warp can flip an edge pixel
    # across the > 20 threshold. A mostly-empty float warp is cheap (~0.5 ms at 1280x720).
    white = np.full((size, size), 255, dtype=np.float32)
    mask = cv2.warpAffine(white, inverse, (width, height), borderValue=0.0)[y0:y1, x0:x1].copy()
    mask[mask > 20] = 255
    rows, cols = _extent(mask == 255)
    if rows.size == 0:
        return "its crop lies outside the frame"
    mask_size = int(np.sqrt((rows[-1] - rows[0]) * (cols[-1] - cols[0])))
    k = max(mask_size // 10, 10)
    mask = cv2.erode(mask, np.ones((k, k), np.uint8), iterations=1)
    k = max(mask_size // 20, 5)
    mask = cv2.GaussianBlur(mask, (2 * k + 1, 2 * k + 1), 0)
    mask = mask / np.float32(255)
    reach = _clip_box(qx0 - k - 2, qy0 - k - 2, qx1 + k + 2, qy1 + k + 2, width, height)
    # Blend only where the mask is non-zero: elsewhere insightface's blend returns the frame
    # pixel exactly (0*fake + 1*frame), so the result is the same and the blend ~2x cheaper.
    rows, cols = _extent(mask > 0)
    if rows.size == 0:
        return "its crop lies outside the frame"
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    tight = (x0 + int(c0), y0 + int(r0), x0 + int(c1), y0 + int(r1))
    return PastePlan(matrix, tight, reach, inverse, np.ascontiguousarray(mask[r0:r1, c0:c1, None]))


def paste_back(frame: np.ndarray, fake: np.ndarray, plan: PastePlan) -> None:
    """Blend a (S, S, 3) uint8 model output into ``frame`` in place, as insightface does."""
    x0, y0, x1, y1 = plan.roi
    height, width = frame.shape[:2]
    # full-size warp, then the ROI: bit-exact with insightface (see plan_paste); a window-sized
    # warp differs by 1 grey level here and there, which faces pasted later can grow to 2
    warped = cv2.warpAffine(fake, plan.inverse, (width, height), borderValue=0.0)[y0:y1, x0:x1]
    # insightface: mask * fake + (1 - mask) * frame, in float32, truncated; the same IEEE
    # operations done in place to spare temporaries
    merged = warped.astype(np.float32)
    merged *= plan.mask
    kept = frame[y0:y1, x0:x1].astype(np.float32)
    kept *= 1 - plan.mask
    merged += kept
    frame[y0:y1, x0:x1] = merged.astype(np.uint8)


def schedule_rounds(reaches: Sequence[Box]) -> list[int]:
    """Round of each face of one frame: after every earlier face whose area it touches.

    Faces of one round never touch each other, so cropping them all before pasting any, and
    pasting them in any order, equals insightface's one-by-one ``get()`` calls.
    """
    rounds: list[int] = []
    for j, box in enumerate(reaches):
        earlier = [rounds[i] + 1 for i in range(j) if _boxes_touch(reaches[i], box)]
        rounds.append(max(earlier, default=0))
    return rounds


@dataclass
class _Task:
    frame: int
    plan: PastePlan
    latent: np.ndarray
    round: int


class InswapperEngine:
    """:class:`~frameswap.engines.base.SwapEngine` over ``inswapper_128.onnx``."""

    name = "inswapper"
    needs_source_embedding = True  # the latent is the ArcFace embedding through emap

    def __init__(self, model: InswapperModel) -> None:
        self.model = model

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        session_options: SessionOptions = SessionOptions(),
        *,
        batch_dynamic_copy: str | Path | None = None,
    ) -> InswapperEngine:
        """Load ``inswapper_128.onnx``.

        With ``batch_dynamic_copy``, a model whose batch axis is fixed at 1 is replaced by a
        batch-dynamic copy at that path, made on first use if the graph allows it (else the
        engine loops over faces with the original file).
        """
        model = InswapperModel.from_path(path, session_options)
        if batch_dynamic_copy is not None and not model.batched:
            copy = Path(batch_dynamic_copy)
            fresh = copy.is_file() and copy.stat().st_mtime >= Path(path).stat().st_mtime
            if fresh or prepare_batch_dynamic(path, copy, session_options):
                model = InswapperModel.from_path(copy, session_options)
        return cls(model)

    def prepare_source(self, image: np.ndarray, face: Face) -> InswapperSource:
        """The source latent, from the face's 512-D ArcFace embedding (the image is not needed)."""
        normed = face.normed_embedding
        if normed is None:
            raise FaceError(
                "the inswapper engine needs the source face's ArcFace embedding; "
                "analyse the source with the insightface analyzer"
            )
        return InswapperSource(self.model.project(normed))

    def prepare_photos(self, photos: Sequence[tuple[np.ndarray, Face]]) -> InswapperSource:
        """One latent for several photos of a person: the L2-normalised mean of their normalised
        ArcFace embeddings, projected as one embedding would be (what roop's and facefusion's
        "average face" feed to inswapper): each photo's lighting and expression average out."""
        normed = []
        for _, face in photos:
            vec = face.normed_embedding
            if vec is None:
                raise FaceError("the inswapper engine needs each identity photo's ArcFace embedding")
            normed.append(np.asarray(vec, np.float64))
        mean = np.mean(normed, axis=0)
        norm = float(np.linalg.norm(mean))
        if norm <= 0:
            raise FaceError("the identity photos' embeddings cancel out; use photos of one person")
        return InswapperSource(self.model.project((mean / norm).astype(np.float32)))

    def _plan_frame(self, index: int, frame: np.ndarray, jobs: Sequence[SwapJob]) -> list[_Task]:
        plans: list[tuple[PastePlan, np.ndarray]] = []
        for j, job in enumerate(jobs):
            plan = plan_paste(frame.shape, job.target.kps, self.model.input_size)
            if isinstance(plan, str):
                warnings.warn(f"frame {index}, face {j}: skipped, {plan}", FaceSkippedWarning, stacklevel=3)
                continue
            source = job.source
            latent = source.latent if isinstance(source, InswapperSource) else np.asarray(source)
            plans.append((plan, latent))
        rounds = schedule_rounds([p.reach for p, _ in plans])
        return [_Task(index, p, lat, r) for (p, lat), r in zip(plans, rounds, strict=True)]

    def swap(self, frames: Sequence[np.ndarray], jobs: Sequence[Sequence[SwapJob]]) -> list[np.ndarray]:
        """Swap every job of every frame; frames with no (usable) job are returned untouched."""
        if len(frames) != len(jobs):
            raise OptionsError(f"{len(frames)} frames but {len(jobs)} job lists")
        tasks: list[_Task] = []
        for i, (frame, frame_jobs) in enumerate(zip(frames, jobs, strict=True)):
            if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                raise OptionsError(f"frame {i} is not RGB uint8 (H, W, 3): {frame.dtype} {frame.shape}")
            tasks.extend(self._plan_frame(i, frame, frame_jobs))
        outputs = list(frames)
        for i in {t.frame for t in tasks}:
            outputs[i] = np.array(frames[i], copy=True, order="C")
        size = self.model.input_size
        for r in range(max((t.round for t in tasks), default=-1) + 1):
            todo = [t for t in tasks if t.round == r]
            crops = [
                cv2.warpAffine(outputs[t.frame], t.plan.matrix, (size, size), borderValue=0.0) for t in todo
            ]
            # RGB crops, no channel swap: the same floats as insightface's swapRB=True on BGR
            blobs = cv2.dnn.blobFromImages(crops, 1.0 / 255.0, (size, size), (0, 0, 0), swapRB=False)
            preds = self.model.run(blobs, np.stack([t.latent for t in todo]))
            for task, pred in zip(todo, preds, strict=True):
                fake = np.clip(255 * pred.transpose(1, 2, 0), 0, 255).astype(np.uint8)
                paste_back(outputs[task.frame], fake, task.plan)
        return outputs
