"""Faces of a target, frame after frame: detect (or follow), track, smooth.

``ClipAnalyzer`` is the one analysis step both pipeline paths use: fed batches of frames in clip
order, it analyses runs of identical consecutive frames (GIF holds) once, tracks identities, and
One-Euro filters each tracked face's landmarks so a swapped face does not jitter (a causal filter,
so streaming gives the same result as a pass over the whole clip). ``analyze_target`` runs it over
a whole clip and keeps only the face records, never pixels, so memory stays small on long videos.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np

from frameswap.errors import CancelledError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.follow import Focus, SequenceTracker
from frameswap.faces.geometry import keypoints_from_68
from frameswap.faces.smooth import LandmarkSmoother
from frameswap.faces.types import Face
from frameswap.media.types import Frame
from frameswap.options import TrackerOptions
from frameswap.pipeline.stats import StageTimes


def frame_digest(rgb: np.ndarray) -> bytes:
    """A content hash of a frame's pixels, to spot runs of identical frames cheaply."""
    return hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).digest()


@dataclass
class AnalysedFrame:
    """One frame's tracked faces, and whether its pixels repeat the previous frame's."""

    faces: list[Face]
    repeats_previous: bool


class ClipAnalyzer:
    """Detect/follow, track and smooth the faces of a clip's frames, fed in order in batches."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        options: TrackerOptions,
        *,
        stats: StageTimes | None = None,
        model_lock: threading.Lock | None = None,
        smooth: bool = True,
        focus: Focus | None = None,
    ) -> None:
        self.sequence = SequenceTracker(analyzer, options, focus=focus)
        self.focus = focus
        self.smoother = LandmarkSmoother() if smooth else None
        self.stats = stats if stats is not None else StageTimes()
        self.lock = model_lock if model_lock is not None else threading.Lock()
        self._last_digest: bytes | None = None
        self._last_faces: list[Face] = []
        # The tracker's clock counts changed frames only: a run of identical frames is no motion,
        # so predicting across it by frame numbers would overshoot every moving face.
        self._changed_frames = 0

    def analyze(self, frames: Sequence[Frame]) -> list[AnalysedFrame]:
        """The faces of each frame; frames repeating their predecessor are not analysed again."""
        repeats = []
        for frame in frames:
            digest = frame_digest(frame.rgb)
            repeats.append(digest == self._last_digest)
            self._last_digest = digest
        unique = []
        for frame, repeat in zip(frames, repeats, strict=True):
            if not repeat:
                unique.append((self._changed_frames, frame.rgb))
                self._changed_frames += 1
        tracked: list[list[Face]] = []
        if unique:
            with self.lock, self.stats.timed("detect"):
                tracked = self.sequence.process(unique)
            self.stats.frames_processed += len(unique)
            self.stats.detections = self.sequence.detections
            self.stats.faces_embedded = self.sequence.embedded_faces
        results = iter(tracked)
        out = []
        with self.stats.timed("track"):
            for frame, repeat in zip(frames, repeats, strict=True):
                if not repeat:
                    self._last_faces = [self._smoothed(f, frame.index) for f in next(results)]
                out.append(AnalysedFrame(self._last_faces, repeat))
        self.stats.frames += len(frames)
        return out

    def _smoothed(self, face: Face, frame_index: int) -> Face:
        """The face without its embedding (not needed past tracking), landmarks filtered."""
        face = replace(face, embedding=None)
        if self.smoother is None or face.track_id is None:
            return face
        if self.focus is not None and not self.focus.wants(face.track_id):
            return face  # not used: as detected (with landmarks on some frames only)
        if face.landmarks is not None:
            pts = self.smoother.smooth(face.track_id, face.landmarks, frame_index).astype(np.float32)
            return replace(face, landmarks=pts, kps=keypoints_from_68(pts).astype(np.float32))
        kps = self.smoother.smooth(face.track_id, face.kps, frame_index).astype(np.float32)
        return replace(face, kps=kps)


@dataclass
class TargetAnalysis:
    """Per frame of a whole clip: the tracked faces, and whether the frame repeats the previous."""

    faces: list[list[Face]]
    repeats_previous: list[bool]

    @property
    def frame_count(self) -> int:
        return len(self.faces)


def batched(
    frames: Iterable[Frame], size: int, cancel: threading.Event | None = None
) -> Iterator[list[Frame]]:
    """Lists of up to ``size`` consecutive frames; raises CancelledError once ``cancel`` is set."""
    batch: list[Frame] = []
    for frame in frames:
        if cancel is not None and cancel.is_set():
            raise CancelledError("cancelled")
        batch.append(frame)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyze_target(
    frames: Iterable[Frame],
    analyzer: FaceAnalyzer,
    *,
    tracker_options: TrackerOptions,
    batch_size: int,
    stats: StageTimes | None = None,
    model_lock: threading.Lock | None = None,
    cancel: threading.Event | None = None,
    on_frame: Callable[[int], None] | None = None,
    smooth: bool = True,
) -> TargetAnalysis:
    """Detect (or follow) and track faces in every frame of a clip; keep the face records only."""
    clip = ClipAnalyzer(analyzer, tracker_options, stats=stats, model_lock=model_lock, smooth=smooth)
    faces: list[list[Face]] = []
    repeats: list[bool] = []
    for batch in batched(frames, batch_size, cancel):
        for frame, result in zip(batch, clip.analyze(batch), strict=True):
            faces.append(result.faces)
            repeats.append(result.repeats_previous)
            if on_frame is not None:
                on_frame(frame.index)
    return TargetAnalysis(faces=faces, repeats_previous=repeats)
