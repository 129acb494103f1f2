"""The embedded swap engine: landmark-mesh warp of the inner face, skin-based colour, feathered paste.

For each target face (which must carry the 68 dlib landmarks):

1. Shape: the source's eyes, nose and mouth are similarity-aligned onto the target's pose and
   mixed with the target's own points (``shape_weight`` of the source), the jaw line by half as
   much; the brows stay the target's, so the new brows land on the target's (never two pairs),
   and the region painted is cut to the target's own, so nothing outside its contour changes.
   The expression stays the target's (``shape``): the new lips and lids part as far as the
   target's, and the target's own eyes and open mouth are moved into them, so a face talks,
   blinks and looks around as the target does.
2. Region: only the inner face is used on both sides (``regions``): brows to between mouth and
   chin, cheeks inside the jaw line; on the source, what is not its skin (a microphone, a hand,
   glasses) is left out; on the target, what covers its face (hair, glasses, a hand of another
   colour) is kept. Both are blobs that cross the region's edge, as anything held in front of a
   face does; a patch that skin surrounds (a side-lit eye socket) is the face's own.
3. Texture: the source face is warped onto the destination mesh piecewise-affinely, from a copy
   shrunk to the scale it is drawn at (``mesh.minified``: a bilinear warp that shrinks aliases).
4. Colour, light and focus: the target's skin tone from skin pixels only (smoothed per tracked
   face by the pipeline, see ``measure_tone``) with the photo's contrast scaled as a change of
   light scales it (``blend.transfer_color``), the target's low-frequency lighting inside the
   face, and its sharpness read on the features' edges (a sharp face on a blurred frame is
   blurred to match; skin texture is not read as sharpness).
5. Turned heads: past ``yaw_full`` degrees the whole face fades out, gone at ``yaw_zero``: a
   frontal face is never pasted on a profile. The turn is the larger of the landmarks' yaw and
   the detector's reading (``Face.detector_turn``, smoothed per track): dlib's landmarks cannot
   see a profile (they read 20-35 degrees on heads at 80). Below it the face is drawn whole. A
   fade of the far half from 30 degrees (a ramp across the nose line) was dropped: on t1's heads
   turned 45 degrees it showed half the original's mouth beside the new one, and it kept the
   original's far eye, so those heads read as the original (the 1280x720 bench clip's turned
   faces: 28 of 48 closer to the source with it, 47 of 48 without).
6. Paste: an alpha that ramps up inside the region (``feather``).

All of it happens at a bounded face size (``work_size`` pixels across the jaw): a close-up costs
what a small face costs, and only the final resize and paste run at the frame's resolution. Only
pixels under the alpha can change; everything else is copied bit-exactly. The engine keeps no
state between frames: the pipeline smooths landmarks and tone per tracked face, so one engine
serves concurrent clips.
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
from frameswap.engines.classic.blend import (
    composite,
    feather,
    match_shading,
    match_sharpness,
    transfer_color,
)
from frameswap.engines.classic.glasses import GLASSES_ALPHA, WEARS_GLASSES, glasses_rims, glasses_score
from frameswap.engines.classic.mesh import extend_68, face_topology, minified, warp_mesh, without_flat
from frameswap.engines.classic.photos import PhotoSet
from frameswap.engines.classic.pose import yaw_degrees, yaw_weight
from frameswap.engines.classic.regions import (
    JAW,
    SkinModel,
    feature_mask,
    fit_skin,
    not_skin,
    region_mask,
    region_polygon,
)
from frameswap.engines.classic.shape import destination, keep_interiors
from frameswap.errors import NoFaceError, OptionsError
from frameswap.faces.geometry import keypoints_degenerate, keypoints_from_68
from frameswap.faces.types import Face

SOURCE_WIDTH = 320  # the source texture is kept at most this wide across the jaw
# where ``measure_tone``'s figures hold the glasses score (after the skin's Lab mean and std) and
# the detector's reading of the head's turn (NaN on frames where the face was not detected)
_GLASSES_FIGURE = 6
_TURN_FIGURE = 7


@dataclass(frozen=True)
class ClassicOptions:
    """Knobs of the classic engine (defaults measured on t1 + astronaut and the shared real media).

    ``shape_weight``: 0 keeps the target's eyes/nose/mouth layout, 1 takes the source's (how
    far the lips and eyes are open is always the target's).
    ``color_strength``: how far the new face moves to the target's skin tone (0..1).
    ``shading``: how much of the target's low-frequency lighting goes onto the new face (0..1).
    ``feather``: width of the soft edge, as a fraction of the face width.
    ``work_size``: face width (px) the warp and blend run at; larger faces are scaled up after.
    ``occlusion``: leave out non-skin on the source, keep non-skin over the target.
    ``skin_threshold``: normalised Lab distance beyond which a pixel is not skin.
    ``yaw_full`` / ``yaw_zero``: degrees of head yaw where fading starts / the face is left alone.
    """

    shape_weight: float = 0.8
    color_strength: float = 1.0
    shading: float = 0.7
    feather: float = 0.08
    work_size: int = 192
    occlusion: bool = True
    skin_threshold: float = 3.5
    # The detector's readings of every face in the shared clips and GIFs, t1 and the samples (1069
    # detections) thin out between 60 and 65: three-quarter heads and t1's standing man (about 60
    # degrees) read up to 60, profiles 65-90 (Hamilton's, Obama's in its audience shot, sky_where's).
    # The landmarks' yaw seldom passes 50 whatever the head does. The fade spans that gap: a face
    # faded half way shows both mouths, which looks worse than either face, so few heads may sit
    # in it (measured: fading from 50 left t1's man a ghost in most frames of the bench clips).
    yaw_full: float = 60.0
    yaw_zero: float = 65.0

    def __post_init__(self) -> None:
        for name in ("shape_weight", "color_strength", "shading"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise OptionsError(f"classic {name} must be in [0, 1], got {value}")
        if not 0.0 <= self.feather <= 0.5:
            raise OptionsError(f"classic feather must be in [0, 0.5], got {self.feather}")
        if not 32 <= self.work_size <= 1024:
            raise OptionsError(f"classic work_size must be in [32, 1024], got {self.work_size}")
        if self.skin_threshold <= 0:
            raise OptionsError(f"classic skin_threshold must be positive, got {self.skin_threshold}")
        if not 0.0 <= self.yaw_full < self.yaw_zero <= 90.0:
            raise OptionsError("classic yaw_full must be below yaw_zero, both in [0, 90] degrees")


@dataclass(frozen=True)
class ClassicSource:
    """A prepared source: texture crop, landmarks in it, where it may be used, its skin model."""

    texture: np.ndarray  # RGBA uint8 crop around the source face (face at most SOURCE_WIDTH wide);
    # A is 255 where the source's pixels are its face's skin or features (warped with the colours)
    landmarks: np.ndarray  # (68, 2) float64, crop coordinates
    extended: np.ndarray  # (78, 2) float64: with forehead points, crop coordinates
    skin: SkinModel


def _landmarks_of(face: Face, what: str) -> np.ndarray:
    pts = None if face.landmarks is None else np.asarray(face.landmarks, dtype=np.float64)
    if pts is None or pts.shape != (68, 2) or not np.all(np.isfinite(pts)):
        raise NoFaceError(
            f"classic engine: the {what} face has no 68-point landmarks (analyse it with the dlib analyzer)"
        )
    return pts


def _face_width(points: np.ndarray) -> float:
    return max(float(np.ptp(points[JAW, 0])), 1.0)


@dataclass
class ClassicEngine:
    """``SwapEngine`` without models: inner-face mesh warp, skin-based colour, feathered paste.

    Stateless between calls, so frames (and concurrent clips) are independent: the frames of a
    batch are swapped on ``workers`` threads (OpenCV releases the GIL).
    """

    options: ClassicOptions = field(default_factory=ClassicOptions)
    workers: int = 2
    name: str = field(default="classic", init=False)
    needs_source_embedding: bool = field(default=False, init=False)
    # ``measure_tone``'s figures: skin Lab mean and std follow the light within a few frames; the
    # glasses score moves slower, so a few frames of a rim lost in a reflection (or of brows and
    # creases that look like one) do not make glasses blink on or off; the turn follows a head
    # turning away within two detections, and one noisy reading moves it by half its error
    tone_alpha: tuple[float, ...] = field(
        default=(0.3,) * _GLASSES_FIGURE + (GLASSES_ALPHA, 0.5), init=False
    )

    def prepare_source(self, image: np.ndarray, face: Face) -> ClassicSource:
        """Crop (and bound the size of) the source face; find what of it is usable skin."""
        pts = _landmarks_of(face, "source")
        ext = extend_68(pts)
        h, w = image.shape[:2]
        size = float(np.ptp(ext, axis=0).max())
        x0 = max(0, int(ext[:, 0].min() - 0.25 * size))
        y0 = max(0, int(ext[:, 1].min() - 0.25 * size))
        x1 = min(w, int(ext[:, 0].max() + 0.25 * size) + 1)
        y1 = min(h, int(ext[:, 1].max() + 0.25 * size) + 1)
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        pts, ext = pts - (x0, y0), ext - (x0, y0)
        scale = min(1.0, SOURCE_WIDTH / _face_width(pts))
        if scale < 1.0:
            size_wh = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            crop = cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA)
            pts, ext = pts * scale, ext * scale
        shape = crop.shape[:2]
        lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB)
        region = region_mask(pts, shape)
        features = feature_mask(pts, shape)
        skin = fit_skin(lab, region & ~features)
        if skin is None:
            raise NoFaceError("classic engine: the source face is too small to use (under ~10 px)")
        valid = region
        if self.options.occlusion:
            foreign = not_skin(lab, region, features, skin, self.options.skin_threshold, _face_width(pts))
            valid = region & ~foreign
        return ClassicSource(np.dstack([crop, valid]), pts, ext, skin)

    def prepare_photos(self, photos: Sequence[tuple[np.ndarray, Face]]) -> PhotoSet:
        """Several photos of one person: each target face takes the one posed most like it."""
        sources = [self.prepare_source(image, face) for image, face in photos]
        return PhotoSet.from_photos(sources, [face for _, face in photos])

    def measure_tone(self, frame: np.ndarray, face: Face) -> np.ndarray | None:
        """The target face's looks for the pipeline to smooth per track: skin statistics (Lab
        mean, then std), ``glasses_score`` and the detector's turn (NaN when the face was not
        detected on this frame); None when the face has no usable landmarks or skin."""
        if face.landmarks is None:
            return None
        pts = np.asarray(face.landmarks, dtype=np.float64)
        face_w = _face_width(pts)
        roi, box, to_small = self._roi(frame, region_polygon(pts), face_w)
        if roi is None:
            return None
        local = (pts - box[:2]) * to_small
        shape = roi.shape[:2]
        region, features = region_mask(local, shape), feature_mask(local, shape)
        lab = cv2.cvtColor(roi, cv2.COLOR_RGB2LAB)
        skin = fit_skin(lab, region & ~features)
        if skin is None:
            return None
        glasses = glasses_score(lab, region, features, local, face_w * float(to_small[0]))
        turn = np.nan if face.detector_turn is None else face.detector_turn
        return np.append(skin.as_array(), np.array([glasses, turn], dtype=np.float32))

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
            result, _ = self.swap_face(result, job.target, job.source, tone=job.tone)
        return result if frame_jobs else frame.copy()

    def _roi(
        self, frame: np.ndarray, polygon: np.ndarray, face_w: float
    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """The frame region around ``polygon`` scaled to the working size, its box in the frame and
        the (x, y) factors from frame to working coordinates (1 when not scaled)."""
        h, w = frame.shape[:2]
        x0, y0 = max(0, int(polygon[:, 0].min()) - 3), max(0, int(polygon[:, 1].min()) - 3)
        x1, y1 = min(w, int(polygon[:, 0].max()) + 4), min(h, int(polygon[:, 1].max()) + 4)
        box = np.array([x0, y0, x1, y1], dtype=np.int64)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None, box, np.ones(2)
        roi = frame[y0:y1, x0:x1]
        scale = min(1.0, self.options.work_size / face_w)
        if scale < 1.0:
            size = (max(8, round((x1 - x0) * scale)), max(8, round((y1 - y0) * scale)))
            roi = cv2.resize(roi, size, interpolation=cv2.INTER_AREA)
        # the factors actually used, after rounding the working size
        return roi, box, np.array([roi.shape[1] / (x1 - x0), roi.shape[0] / (y1 - y0)])

    def swap_face(
        self, frame: np.ndarray, target: Face, source: ClassicSource, tone: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """One face: returns the new frame and the bool mask of pixels that may have changed.

        ``tone``: the target's looks smoothed over time (``measure_tone``: skin statistics, how
        surely it wears glasses, the detector's turn); measured on this frame when None. Every
        pixel outside the returned mask equals the input's.
        """
        opts = self.options
        target_pts = _landmarks_of(target, "target")
        h, w = frame.shape[:2]
        untouched = frame.copy(), np.zeros((h, w), dtype=bool)
        if keypoints_degenerate(keypoints_from_68(target_pts)):
            warnings.warn("classic engine: skipped a target face with degenerate landmarks", stacklevel=2)
            return untouched
        yaw = yaw_degrees(target_pts)
        turn = target.detector_turn
        if tone is not None and len(tone) > _TURN_FIGURE:
            turn = float(tone[_TURN_FIGURE])
        weight = yaw_weight(max(abs(yaw), turn if turn is not None and np.isfinite(turn) else 0.0),
                            opts.yaw_full, opts.yaw_zero)
        if weight <= 0.0:
            return untouched  # a profile: a frontal face must not be pasted on it
        dest = destination(source.landmarks, target_pts, opts.shape_weight)
        face_w = _face_width(target_pts)
        small, box, to_small = self._roi(frame, region_polygon(dest), face_w)
        if small is None:
            return untouched
        shape = small.shape[:2]
        local = (dest - box[:2]) * to_small
        target_local = (target_pts - box[:2]) * to_small
        mesh = extend_68(local)
        try:
            tris = without_flat(mesh, face_topology(mesh))
        except QhullError:
            tris = np.zeros((0, 3), np.int32)
        if not len(tris):
            warnings.warn("classic engine: skipped a target face whose mesh is flat", stacklevel=2)
            return untouched

        # texture and its validity through the mesh, in one remap
        texture, texture_pts = minified(source.texture, source.extended, mesh)
        patch, covered, (px0, py0, px1, py1) = warp_mesh(texture, texture_pts, mesh, tris, shape)
        warped = np.zeros((*shape, 4), np.uint8)
        if covered.size:
            warped[py0:py1, px0:px1] = patch
            warped[py0:py1, px0:px1, 3] &= covered
        region = region_mask(local, shape) & region_mask(target_local, shape)
        features = feature_mask(target_local, shape) | feature_mask(local, shape)
        lab_t = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
        target_skin = SkinModel.from_array(tone) if tone is not None else None
        if target_skin is None:
            target_skin = fit_skin(lab_t, region & ~features)
        if target_skin is None:
            return untouched
        paint = region & (warped[..., 3] > 127).astype(np.uint8) * 255
        small_w = face_w * float(to_small[0])
        if opts.occlusion:
            paint &= ~not_skin(lab_t, region, features, target_skin, opts.skin_threshold, small_w)
            if tone is not None and len(tone) > _GLASSES_FIGURE:
                glasses = float(tone[_GLASSES_FIGURE])
            else:
                glasses = glasses_score(lab_t, region, features, target_local, small_w)
            if glasses >= WEARS_GLASSES:
                paint &= ~glasses_rims(lab_t, region, features, target_local, small_w)
        if int(np.count_nonzero(paint)) < 16:
            return untouched

        # colour: the target's tone from skin statistics, its lighting at low frequency
        lab_s = cv2.cvtColor(np.ascontiguousarray(warped[..., :3]), cv2.COLOR_RGB2LAB).astype(np.float32)
        lab_s = transfer_color(lab_s, source.skin, target_skin, opts.color_strength)
        if opts.shading > 0:
            skin_now = (paint > 0) & (features == 0)
            lit = match_shading(lab_s[..., 0], skin_now, lab_t[..., 0], skin_now, 0.12 * small_w)
            lab_s[..., 0] += opts.shading * lit
        face = cv2.cvtColor(np.clip(lab_s + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
        face = match_sharpness(face, small, (paint > 0) & (features > 0))
        face = keep_interiors(face, small, source.landmarks, target_local, local, small_w)

        alpha: np.ndarray = feather(paint, opts.feather * small_w) * weight

        # back to the frame's resolution: only the resize and the paste scale with the face
        x0, y0, x1, y1 = (int(v) for v in box)
        roi = frame[y0:y1, x0:x1]
        if face.shape[:2] != roi.shape[:2]:
            size = (x1 - x0, y1 - y0)
            face = cv2.resize(face, size, interpolation=cv2.INTER_LINEAR)
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)
        alpha[alpha < 1.0 / 255] = 0.0
        out = frame.copy()
        out[y0:y1, x0:x1] = composite(roi, face, alpha)
        changed = np.zeros((h, w), dtype=bool)
        changed[y0:y1, x0:x1] = alpha > 0
        return out, changed
