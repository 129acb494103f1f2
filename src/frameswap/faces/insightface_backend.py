"""The ``insightface`` analyzer: SCRFD det_10g + ArcFace w600k_r50 (buffalo_l), our own batched code.

It reproduces insightface's ``FaceAnalysis`` (detection + recognition) to 1e-4 without importing
insightface, then orders faces large → small by box area (the hosted API's order; insightface
returns score order). ``landmarks`` is None: buffalo_l's 106/68-point models are not used, the
five SCRFD keypoints are what alignment needs (docs/models.md §6).

``describe`` (for frames where a tracker already knows the boxes) refreshes each face's keypoints
by running the detector on a padded crop around its box, at the scale a full-frame detection of
that image would use, and takes the detection that overlaps the given box best. Then the box,
score and keypoints are the refreshed ones; when nothing overlaps enough, the given face keeps its
box and keypoints. Embeddings are then recomputed for every face in one ArcFace run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from frameswap.errors import ModelNotFoundError, OptionsError
from frameswap.faces.geometry import iou_matrix, norm_crop
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.models.arcface import ArcFace
from frameswap.models.genderage import GenderAge
from frameswap.models.scrfd import SCRFD, Detections, check_rgb_image
from frameswap.models.session import SessionOptions
from frameswap.models.store import ModelStore

DETECTOR_NAME = "det_10g"
RECOGNIZER_NAME = "w600k_r50"
GENDERAGE_NAME = "genderage"


class InsightFaceAnalyzer:
    """Detect (SCRFD), align and embed (ArcFace). Images are RGB uint8 (H, W, 3)."""

    name = "insightface"

    def __init__(
        self,
        detector: SCRFD,
        recognizer: ArcFace,
        *,
        refresh_padding: float = 0.5,
        refresh_min_iou: float = 0.3,
        gender_model: GenderAge | Callable[[], GenderAge] | None = None,
    ) -> None:
        self.detector = detector
        self.recognizer = recognizer
        # the genderage model, or how to load it: only ``gender`` requests need it, so it is
        # loaded on the first of them (a missing file then names the command that fetches it)
        self._gender_model = gender_model
        self.refresh_padding = float(refresh_padding)
        self.refresh_min_iou = float(refresh_min_iou)

    @classmethod
    def from_paths(
        cls,
        det_path: str | Path,
        rec_path: str | Path,
        session_options: SessionOptions = SessionOptions(),
        det_size: tuple[int, int] = (640, 640),
        det_thresh: float = 0.5,
    ) -> InsightFaceAnalyzer:
        detector = SCRFD.from_path(det_path, session_options, det_size=det_size, det_thresh=det_thresh)
        return cls(detector, ArcFace.from_path(rec_path, session_options))

    @classmethod
    def from_store(
        cls,
        store: ModelStore,
        session_options: SessionOptions = SessionOptions(),
        det_size: tuple[int, int] = (640, 640),
        det_thresh: float = 0.5,
    ) -> InsightFaceAnalyzer:
        """Both files from the store; a missing one raises ModelNotFoundError naming the fetch command."""
        analyzer = cls.from_paths(
            store.path(DETECTOR_NAME), store.path(RECOGNIZER_NAME), session_options, det_size, det_thresh
        )
        analyzer._gender_model = lambda: GenderAge.from_path(store.path(GENDERAGE_NAME), session_options)
        return analyzer

    def genders(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[int]]:
        """Each face's gender by buffalo_l's genderage model: 0 female, 1 male (callers hold the
        analyzer's lock, which also covers loading the model on first use)."""
        model = self._gender_model
        if model is None:
            raise ModelNotFoundError("this insightface analyzer has no genderage model")
        if not isinstance(model, GenderAge):
            model = self._gender_model = model()
        boxes = [[face.box for face in per_image] for per_image in faces]
        return [[gender for gender, _ in per_image] for per_image in model.predict(list(images), boxes)]

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        """Faces of each image, large → small by box area, each with a raw 512-D embedding
        (``embed=False`` skips ArcFace: a tracker asks for embeddings only where it needs them)."""
        images = list(images)
        detections = self.detector.detect(images)
        faces = [sort_large_to_small(_faces_of(d)) for d in detections]
        return self._with_embeddings(images, faces) if embed else faces

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        """The given faces with their ArcFace embeddings (one batched run), order kept."""
        return self._with_embeddings(list(images), [list(f) for f in faces], keep_order=True)

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        """Refresh keypoints (local re-detection) and, with ``embed``, embeddings of known faces,
        order kept."""
        images = list(images)
        if len(images) != len(faces):
            raise OptionsError(f"describe got {len(images)} images but {len(faces)} face lists")
        refreshed: list[list[Face]] = []
        for image, given in zip(images, faces, strict=True):
            check_rgb_image(image)
            if not given:
                refreshed.append([])
                continue
            regions = np.stack([self._padded(face.box) for face in given])
            found = self.detector.detect_regions(image, regions)
            refreshed.append([self._refresh(face, dets) for face, dets in zip(given, found, strict=True)])
        return self._with_embeddings(images, refreshed, keep_order=True) if embed else refreshed

    # --- internals ----------------------------------------------------------------------------

    def _padded(self, box: np.ndarray) -> np.ndarray:
        x1, y1, x2, y2 = (float(v) for v in box)
        pad = self.refresh_padding * max(x2 - x1, y2 - y1, 1.0)
        return np.array([x1 - pad, y1 - pad, x2 + pad, y2 + pad], dtype=np.float64)

    def _refresh(self, face: Face, dets: Detections) -> Face:
        if len(dets) == 0:
            return face
        ious = iou_matrix(np.asarray(face.box, np.float64)[None], dets.boxes.astype(np.float64))[0]
        best = int(np.argmax(ious))
        if ious[best] < self.refresh_min_iou:
            return face
        return replace(face, box=dets.boxes[best].copy(), score=float(dets.scores[best]),
                       kps=dets.kps[best].copy())

    def _with_embeddings(
        self, images: list[np.ndarray], faces: list[list[Face]], keep_order: bool = False
    ) -> list[list[Face]]:
        kps = [np.stack([f.kps for f in fs]) if fs else np.zeros((0, 5, 2), np.float32) for fs in faces]
        embeddings = embed_faces(self.recognizer, images, kps)
        out = []
        for fs, embs in zip(faces, embeddings, strict=True):
            described = [replace(f, embedding=e.copy()) for f, e in zip(fs, embs, strict=True)]
            out.append(described if keep_order else sort_large_to_small(described))
        return out


def embed_faces(
    recognizer: ArcFace, images: Sequence[np.ndarray], kps: Sequence[np.ndarray]
) -> list[np.ndarray]:
    """ArcFace embeddings per image, (n_i, D) each, for keypoint sets ``kps[i]`` (n_i, 5, 2) of
    ``images[i]``: every face aligned to the model's template (``norm_crop``, as insightface),
    then all crops of all images in one batched run."""
    size = recognizer.input_size
    crops = [
        norm_crop(image, points, size)[0]
        for image, per_image in zip(images, kps, strict=True)
        for points in np.asarray(per_image, dtype=np.float32).reshape(-1, 5, 2)
    ]
    counts = [int(np.asarray(k).reshape(-1, 5, 2).shape[0]) for k in kps]
    stacked = np.stack(crops) if crops else np.zeros((0, size, size, 3), np.uint8)
    flat = recognizer.embed_crops(stacked)
    return list(np.split(flat, np.cumsum(counts)[:-1])) if counts else []


def _faces_of(dets: Detections) -> list[Face]:
    return [
        Face(box=dets.boxes[i].copy(), score=float(dets.scores[i]), kps=dets.kps[i].copy())
        for i in range(len(dets))
    ]
