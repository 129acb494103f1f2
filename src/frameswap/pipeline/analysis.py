"""Pass one over a target: detect and track faces in every frame, then name each person by index.

Only face records are kept (boxes, keypoints, landmarks), never pixels, so memory stays small even
on long videos; the frames themselves are decoded again by the swap pass. Runs of identical
consecutive frames (GIF holds) are analysed once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from frameswap.errors import CancelledError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.track import FaceTracker
from frameswap.faces.types import Face
from frameswap.media.types import Frame
from frameswap.options import TrackerOptions
from frameswap.pipeline.stats import StageTimes


def frame_digest(rgb: np.ndarray) -> bytes:
    """A content hash of a frame's pixels, to spot runs of identical frames cheaply."""
    return hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).digest()


@dataclass
class TargetAnalysis:
    """Per frame: the tracked faces; whether the frame repeats the previous one; frame digests."""

    faces: list[list[Face]]
    repeats_previous: list[bool]
    digests: list[bytes]

    @property
    def frame_count(self) -> int:
        return len(self.faces)

    def track_ids(self) -> list[int]:
        seen: dict[int, None] = {}
        for frame_faces in self.faces:
            for face in frame_faces:
                if face.track_id is not None:
                    seen.setdefault(face.track_id, None)
        return list(seen)


def analyze_target(
    frames: Iterable[Frame],
    analyzer: FaceAnalyzer,
    *,
    tracker_options: TrackerOptions,
    batch_size: int,
    stats: StageTimes,
    model_lock: threading.Lock,
    cancel: threading.Event | None = None,
    on_frame: Callable[[int], None] | None = None,
) -> TargetAnalysis:
    """Detect faces in every frame (batched), track identities, and keep the records only."""
    tracker = FaceTracker(tracker_options)
    faces: list[list[Face]] = []
    repeats: list[bool] = []
    digests: list[bytes] = []
    pending: list[tuple[int, np.ndarray]] = []  # (frame index, rgb) of frames needing analysis
    last_digest: bytes | None = None

    def flush() -> None:
        if not pending:
            return
        images = [rgb for _, rgb in pending]
        with model_lock, stats.timed("detect"):
            detected = analyzer.analyze(images)
        with stats.timed("track"):
            for (index, _), frame_faces in zip(pending, detected, strict=True):
                tracked = tracker.update(frame_faces, index)
                faces[index] = [_lighten(f) for f in tracked]
        stats.frames_processed += len(pending)
        pending.clear()

    for frame in frames:
        if cancel is not None and cancel.is_set():
            raise CancelledError("cancelled")
        digest = frame_digest(frame.rgb)
        repeat = digest == last_digest
        last_digest = digest
        digests.append(digest)
        repeats.append(repeat)
        faces.append([])
        if not repeat:
            pending.append((frame.index, frame.rgb))
            if len(pending) >= batch_size:
                flush()
        if on_frame is not None:
            on_frame(frame.index)
    flush()
    # a repeated frame has the faces of the frame it repeats
    for index, repeat in enumerate(repeats):
        if repeat and index > 0:
            faces[index] = faces[index - 1]
    stats.frames = len(faces)
    return TargetAnalysis(faces=faces, repeats_previous=repeats, digests=digests)


def _lighten(face: Face) -> Face:
    """Drop what the swap pass does not need (the embedding) to keep long videos small."""
    return replace(face, embedding=None)


def identity_indexes(analysis: TargetAnalysis, reference_frame: int | None = None) -> dict[int, int]:
    """Map track id → face index, the hosted API's semantics carried over to animations.

    Index i is the i-th largest face in the reference frame (the first frame with a face unless the
    caller names one); people who first appear elsewhere get the next indexes in order of appearance.
    """
    if reference_frame is None:
        reference_frame = next((i for i, f in enumerate(analysis.faces) if f), 0)
    order: dict[int, int] = {}
    if 0 <= reference_frame < analysis.frame_count:
        for face in sorted(analysis.faces[reference_frame], key=lambda f: -f.area):
            if face.track_id is not None:
                order.setdefault(face.track_id, len(order))
    for track_id in analysis.track_ids():
        order.setdefault(track_id, len(order))
    return order


def faces_by_index(analysis: TargetAnalysis, order: dict[int, int]) -> list[tuple[int, Face, int]]:
    """For each index: (index, the face at its first sighting, frame of that sighting)."""
    first: dict[int, tuple[Face, int]] = {}
    for frame_index, frame_faces in enumerate(analysis.faces):
        for face in frame_faces:
            if face.track_id is not None and face.track_id not in first:
                first[face.track_id] = (face, frame_index)
    return sorted(
        ((order[tid], face, frame) for tid, (face, frame) in first.items()), key=lambda item: item[0]
    )


def count_frames_seen(analysis: TargetAnalysis) -> dict[int, int]:
    """How many frames each track id appears in."""
    counts: dict[int, int] = {}
    for frame_faces in analysis.faces:
        for face in frame_faces:
            if face.track_id is not None:
                counts[face.track_id] = counts.get(face.track_id, 0) + 1
    return counts


def reference_faces(analysis: TargetAnalysis, order: dict[int, int], frame: int) -> Sequence[Face]:
    """The faces of one frame, ordered by their index."""
    return sorted(analysis.faces[frame], key=lambda f: order.get(f.track_id or -1, 1 << 30))
