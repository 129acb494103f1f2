"""Pass one over a target: detect, follow and track faces in every frame; smooth their landmarks.

Only face records are kept (boxes, keypoints, landmarks), never pixels, so memory stays small even
on long videos; the frames themselves are decoded again by the swap pass. Runs of identical
consecutive frames (GIF holds) are analysed once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from frameswap.errors import CancelledError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.dlib_backend import keypoints_from_68
from frameswap.faces.follow import SequenceTracker
from frameswap.faces.smooth import LandmarkSmoother
from frameswap.faces.types import Face
from frameswap.media.types import Frame
from frameswap.options import TrackerOptions
from frameswap.pipeline.stats import StageTimes


def frame_digest(rgb: np.ndarray) -> bytes:
    """A content hash of a frame's pixels, to spot runs of identical frames cheaply."""
    return hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).digest()


@dataclass
class TargetAnalysis:
    """Per frame: the tracked faces, and whether the frame repeats the previous one."""

    faces: list[list[Face]]
    repeats_previous: list[bool]
    detections: int = 0  # full detector runs (the rest of the analysed frames were followed)

    @property
    def frame_count(self) -> int:
        return len(self.faces)


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
    """Detect (or follow) and track faces in every frame; keep the face records only."""
    stats = stats if stats is not None else StageTimes()
    model_lock = model_lock if model_lock is not None else threading.Lock()
    detector = SequenceTracker(analyzer, tracker_options, batch_size=batch_size)
    faces: list[list[Face]] = []
    repeats: list[bool] = []
    pending: list[tuple[int, np.ndarray]] = []
    last_digest: bytes | None = None

    def flush() -> None:
        if not pending:
            return
        with model_lock, stats.timed("detect"):
            tracked = detector.process(pending)
        for (index, _), frame_faces in zip(pending, tracked, strict=True):
            faces[index] = [replace(f, embedding=None) for f in frame_faces]  # keep records small
        stats.frames_processed += len(pending)
        pending.clear()

    for frame in frames:
        if cancel is not None and cancel.is_set():
            raise CancelledError("cancelled")
        digest = frame_digest(frame.rgb)
        repeat = digest == last_digest
        last_digest = digest
        repeats.append(repeat)
        faces.append([])
        if not repeat:
            pending.append((frame.index, frame.rgb))
            if len(pending) >= detector.batch_size:
                flush()
        if on_frame is not None:
            on_frame(frame.index)
    flush()
    for index, repeat in enumerate(repeats):
        if repeat and index > 0:
            faces[index] = faces[index - 1]  # a repeated frame has the faces of the one it repeats
    if smooth:
        with stats.timed("track"):
            faces = smooth_landmarks(faces, repeats)
    stats.frames = len(faces)
    return TargetAnalysis(faces=faces, repeats_previous=repeats, detections=detector.detections)


def smooth_landmarks(faces: list[list[Face]], repeats: list[bool]) -> list[list[Face]]:
    """One-Euro filter each tracked face's landmarks (or keypoints) over the clip, so that a
    swapped face does not jitter; done per clip here so engines stay free of per-clip state."""
    smoother = LandmarkSmoother()
    out: list[list[Face]] = []
    for index, frame_faces in enumerate(faces):
        if repeats[index] and index > 0:
            out.append(out[-1])
            continue
        smoothed = []
        for face in frame_faces:
            if face.track_id is None:
                smoothed.append(face)
            elif face.landmarks is not None:
                pts = smoother.smooth(face.track_id, face.landmarks, index).astype(np.float32)
                smoothed.append(replace(face, landmarks=pts, kps=keypoints_from_68(pts).astype(np.float32)))
            else:
                kps = smoother.smooth(face.track_id, face.kps, index).astype(np.float32)
                smoothed.append(replace(face, kps=kps))
        out.append(smoothed)
    return out
