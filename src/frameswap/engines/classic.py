"""The embedded swap engine: landmark-mesh warp, colour transfer and blending, no model download.

For each target face (which must carry the 68 dlib landmarks):

1. Shape: the source's 68 points are similarity-aligned onto the target's pose (brows, nose,
   eyes) and mixed with the target's own points (``shape_weight`` of the source). The result is
   the destination mesh, so the new face keeps the source's proportions, not only its skin.
2. Texture: the source face is warped onto that mesh, piecewise affinely over a Delaunay mesh of
   the 68 points plus 10 forehead points.
3. Colour: the warped skin's Lab statistics are moved towards the target face's.
4. Outline: where the target's old face reaches beyond the new one, that band is inpainted from
   the surroundings, so the old jaw line and cheeks do not show next to a narrower new face.
5. Blend: the union of both outlines is blended into the frame by Poisson (``seamless``) or
   Laplacian-pyramid (``multiband``) blending; the chosen default is the one that measured best.

Only pixels inside the union of the outlines (slightly dilated) can change; everything else is
copied bit-exactly. The engine keeps no state between frames: on animations the pipeline smooths
each tracked face's landmarks (One-Euro filter) before they reach it, so the face does not jitter
and one engine can serve concurrent clips.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.spatial import QhullError

from frameswap.engines.base import SwapJob
from frameswap.errors import NoFaceError, OptionsError
from frameswap.faces.align import keypoints_degenerate
from frameswap.faces.blend import BlendMode, color_transfer_lab, composite, feather, multiband, seamless
from frameswap.faces.dlib_backend import keypoints_from_68
from frameswap.faces.mesh import align_shape, extend_68, outline_polygon, triangulate, warp_mesh
from frameswap.faces.types import Face


@dataclass(frozen=True)
class ClassicOptions:
    """Knobs of the classic engine (defaults are the measured best on t1 + astronaut).

    ``shape_weight``: 0 keeps the target's face shape, 1 takes the source's (aligned to the pose).
    ``color_strength``: how far the source skin moves towards the target's colour (0..1).
    ``blend``: ``seamless`` (Poisson) or ``multiband`` (Laplacian pyramid).
    ``feather``: width of the soft edge, as a fraction of the face width.
    ``hide_outline``: inpaint the band where the target's old face reaches beyond the new one.
    """

    shape_weight: float = 0.8
    color_strength: float = 0.7
    blend: BlendMode = "seamless"
    feather: float = 0.06
    hide_outline: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.shape_weight <= 1.0:
            raise OptionsError(f"classic shape_weight must be in [0, 1], got {self.shape_weight}")
        if not 0.0 <= self.color_strength <= 1.0:
            raise OptionsError(f"classic color_strength must be in [0, 1], got {self.color_strength}")
        if self.blend not in ("seamless", "multiband"):
            raise OptionsError(f"classic blend must be 'seamless' or 'multiband', got {self.blend!r}")
        if not 0.0 <= self.feather <= 0.5:
            raise OptionsError(f"classic feather must be in [0, 0.5], got {self.feather}")


@dataclass(frozen=True)
class ClassicSource:
    """A prepared source: the face's surroundings as texture and its 68 landmarks in that crop."""

    texture: np.ndarray  # RGB uint8 crop around the source face
    landmarks: np.ndarray  # (68, 2) float64, crop coordinates
    extended: np.ndarray  # (78, 2) float64: with forehead points, crop coordinates


def _landmarks_of(face: Face, what: str) -> np.ndarray:
    pts = None if face.landmarks is None else np.asarray(face.landmarks, dtype=np.float64)
    if pts is None or pts.shape != (68, 2) or not np.all(np.isfinite(pts)):
        raise NoFaceError(
            f"classic engine: the {what} face has no 68-point landmarks (analyse it with the dlib analyzer)"
        )
    return pts


@dataclass
class ClassicEngine:
    """``SwapEngine`` without models: mesh warp + colour transfer + seamless/multi-band blending.

    Stateless between calls, so frames (and concurrent clips) are independent: the frames of a
    batch are swapped on ``workers`` threads (OpenCV releases the GIL).
    """

    options: ClassicOptions = field(default_factory=ClassicOptions)
    workers: int = 2
    name: str = field(default="classic", init=False)
    needs_source_embedding: bool = field(default=False, init=False)

    def prepare_source(self, image: np.ndarray, face: Face) -> ClassicSource:
        """Keep a crop around the source face (with margin for the forehead) and its landmarks."""
        pts = _landmarks_of(face, "source")
        ext = extend_68(pts)
        h, w = image.shape[:2]
        size = float(np.ptp(ext, axis=0).max())
        x0 = max(0, int(ext[:, 0].min() - 0.25 * size))
        y0 = max(0, int(ext[:, 1].min() - 0.25 * size))
        x1 = min(w, int(ext[:, 0].max() + 0.25 * size) + 1)
        y1 = min(h, int(ext[:, 1].max() + 0.25 * size) + 1)
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        return ClassicSource(crop, pts - (x0, y0), ext - (x0, y0))

    def swap(self, frames: Sequence[np.ndarray], jobs: Sequence[Sequence[SwapJob]]) -> list[np.ndarray]:
        """Swap every job of every frame, in order; a frame without jobs comes back unchanged."""
        if len(frames) != len(jobs):
            raise OptionsError(f"classic swap: {len(frames)} frames but {len(jobs)} job lists")
        if self.workers < 2 or len(frames) < 2:
            return [self._swap_frame(frame, job_list) for frame, job_list in zip(frames, jobs, strict=True)]
        with ThreadPoolExecutor(min(self.workers, len(frames)), thread_name_prefix="frameswap-swap") as pool:
            return list(pool.map(self._swap_frame, frames, jobs))

    def _swap_frame(self, frame: np.ndarray, frame_jobs: Sequence[SwapJob]) -> np.ndarray:
        result = frame
        for job in frame_jobs:
            result, _ = self.swap_face(result, job.target, job.source)
        return result if frame_jobs else frame.copy()

    def swap_face(
        self, frame: np.ndarray, target: Face, source: ClassicSource
    ) -> tuple[np.ndarray, np.ndarray]:
        """One face: returns the new frame and the bool mask of pixels that may have changed.

        Every pixel outside the returned mask equals the input's.
        """
        opts = self.options
        target_pts = _landmarks_of(target, "target")
        if keypoints_degenerate(keypoints_from_68(target_pts)):
            warnings.warn("classic engine: skipped a target face with degenerate landmarks", stacklevel=2)
            return frame.copy(), np.zeros(frame.shape[:2], dtype=bool)
        aligned = align_shape(source.landmarks, target_pts)
        dest = target_pts + opts.shape_weight * (aligned - target_pts)
        dest_ext, old_ext = extend_68(dest), extend_68(target_pts)

        h, w = frame.shape[:2]
        face_w = float(np.ptp(old_ext[:, 0]))
        grow = max(2, round(0.03 * face_w))  # covers the old outline's own edge pixels
        both = np.vstack([dest_ext, old_ext])
        pad = grow + 4
        x0, y0 = max(0, int(both[:, 0].min()) - pad), max(0, int(both[:, 1].min()) - pad)
        x1, y1 = min(w, int(both[:, 0].max()) + pad + 1), min(h, int(both[:, 1].max()) + pad + 1)
        full_mask = np.zeros((h, w), dtype=bool)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return frame.copy(), full_mask
        roi = frame[y0:y1, x0:x1]
        rh, rw = roi.shape[:2]
        origin = np.array([x0, y0], dtype=np.float64)

        # 2. texture through the mesh (ROI-local destination coordinates)
        try:
            tris = triangulate(dest_ext)
        except QhullError:
            warnings.warn("classic engine: skipped a target face whose mesh is flat", stacklevel=2)
            return frame.copy(), full_mask
        patch, covered, (px0, py0, px1, py1) = warp_mesh(
            source.texture, source.extended, dest_ext - origin, tris, (rh, rw)
        )
        warped = roi.copy()
        new_mask = np.zeros((rh, rw), dtype=np.uint8)
        if covered.size:
            warped[py0:py1, px0:px1] = patch
            new_mask[py0:py1, px0:px1] = covered
        # Masks stop at the brows: above them a source photo often shows hair, not forehead; the
        # forehead points only keep the warp continuous up to the mask's edge.
        inner = cv2.fillPoly(np.zeros((rh, rw), np.uint8), [outline_polygon(dest - origin)], 255)
        new_mask &= inner
        old_mask = cv2.fillPoly(np.zeros((rh, rw), np.uint8), [outline_polygon(target_pts - origin)], 255)
        if new_mask.sum() < 255 * 16:
            return frame.copy(), full_mask

        # 3. colour
        warped = color_transfer_lab(warped, new_mask, roi, old_mask, opts.color_strength)
        comp = roi.copy()
        comp[new_mask > 0] = warped[new_mask > 0]

        # 4. hide the old outline where the new face is smaller
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
        union = cv2.dilate(old_mask, kernel) if opts.hide_outline else np.zeros_like(old_mask)
        union = np.maximum(union, new_mask)
        band = (union > 0) & (new_mask == 0)
        if opts.hide_outline and band.any():
            # Fill the band from the new face's edge only (everything off the new face counts as
            # unknown), so it continues the new skin instead of smearing hair/background inwards.
            unknown = (new_mask == 0).astype(np.uint8)
            skin = cv2.inpaint(comp, unknown, max(3, grow), cv2.INPAINT_TELEA)
            comp[band] = skin[band]

        # 5. blend into the frame; alpha is 0 outside ``union`` so the rest stays exact
        radius = max(1, round(opts.feather * face_w))
        if opts.blend == "seamless":
            blended = seamless(roi, comp, union)
            alpha = feather(union, max(1, radius // 3))
        else:
            blended = multiband(roi, comp, feather(union, radius))
            alpha = feather(union, 1)
        out = frame.copy()
        out[y0:y1, x0:x1] = composite(roi, blended, alpha)
        full_mask[y0:y1, x0:x1] = alpha > 0
        return out, full_mask
