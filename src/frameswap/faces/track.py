"""Stable identities across frames: a tracker fed with detections, never with pixels.

Per frame the tracker solves one global assignment (Hungarian) between its live tracks and the new
detections, on a cost that mixes box overlap (against a constant-velocity prediction, so two faces
that cross keep their own paths) and identity-embedding distance (so two faces that overlap or swap
size order keep their own identities). Detections left over are then matched on the embedding alone
against every unmatched track *and* a gallery of lost identities, which re-identifies a person who
left the frame for longer than ``max_missed_frames``. Whatever is still left starts a new track; ids
are handed out in order of appearance, so they double as "who came first".

Embeddings may be ArcFace (512-D, compared by cosine distance against ``TrackerOptions.
embedding_threshold``) or dlib descriptors (128-D, compared by Euclidean distance against dlib's
conventional 0.6: on dlib vectors, whose norm is about 1.45, two *different* people are often within
cosine distance 0.1, so one cosine threshold cannot serve both). Distances are expressed relative to
their threshold: 1.0 means "at the threshold" for either family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from frameswap.faces.geometry import iou_matrix
from frameswap.faces.types import Face
from frameswap.options import TrackerOptions

_INFEASIBLE = 1e6


@dataclass(frozen=True)
class AssociationTuning:
    """Second-order knobs of the association; the defaults suit both embedding families.

    Kept out of ``TrackerOptions`` because users rarely need them; pass one to ``FaceTracker`` to
    experiment.
    """

    dlib_euclidean_threshold: float = 0.6  # dlib's own same-person rule for its 128-D descriptors
    embedding_veto: float = 1.5  # relative distance above which overlap alone cannot match
    velocity_smoothing: float = 0.5  # weight of the newest per-frame motion in the velocity estimate
    max_predict_frames: int = 10  # extrapolate motion at most this many frames ahead
    embedding_momentum: float = 0.8  # weight of the past in a track's identity prototype
    gallery_size: int = 64  # lost identities remembered for re-identification


def _prepared_embedding(embedding: np.ndarray | None) -> np.ndarray | None:
    """The vector the distance works on: raw for dlib's 128-D, L2-normed for the others."""
    if embedding is None:
        return None
    vec = np.asarray(embedding, dtype=np.float64).ravel()
    if vec.size == 0 or not np.all(np.isfinite(vec)):
        return None
    if vec.size == 128:
        return vec
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else None


def relative_embedding_distance(
    a: np.ndarray | None, b: np.ndarray | None, options: TrackerOptions, tuning: AssociationTuning
) -> float | None:
    """Distance between two prepared embeddings divided by its family's threshold (None: not comparable)."""
    if a is None or b is None or a.shape != b.shape:
        return None
    if a.size == 128:
        return float(np.linalg.norm(a - b)) / tuning.dlib_euclidean_threshold
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return None
    cosine_distance = 1.0 - float(np.dot(a, b)) / (na * nb)
    return cosine_distance / max(options.embedding_threshold, 1e-6)


def solve_assignment(cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one pairs (row, col), skipping infeasible cells.

    Uses scipy's Hungarian solver when scipy is importable (it is, through scikit-image), else a
    greedy pass over the cells in increasing cost, which is exact whenever the cheap pairs do not
    compete.
    """
    if cost.size == 0:
        return []
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:  # pragma: no cover - scipy ships with scikit-image
        pairs: list[tuple[int, int]] = []
        used_r: set[int] = set()
        used_c: set[int] = set()
        for flat in np.argsort(cost, axis=None, kind="stable"):
            r, c = divmod(int(flat), cost.shape[1])
            if cost[r, c] >= _INFEASIBLE:
                break
            if r not in used_r and c not in used_c:
                pairs.append((r, c))
                used_r.add(r)
                used_c.add(c)
        return pairs
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE]


@dataclass
class _Track:
    """One identity: its latest observation, motion and appearance prototype."""

    track_id: int
    face: Face
    box: np.ndarray  # last observed box, float64
    last_frame: int
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4))
    moves: int = 0  # spatial matches folded into the velocity so far
    prototype: np.ndarray | None = None

    def predicted_box(self, frame_index: int, max_frames: int) -> np.ndarray:
        steps = min(max(frame_index - self.last_frame, 0), max_frames)
        return self.box + self.velocity * steps


class FaceTracker:
    """Gives each detected face a track id that stays with the person across frames.

    Feed ``update`` the detections of consecutive frames (any order of faces, any frame gaps); it
    returns the same faces with ``track_id`` set. ``reset`` forgets everything (a new clip).
    """

    def __init__(self, options: TrackerOptions | None = None, tuning: AssociationTuning | None = None):
        self.options = options or TrackerOptions()
        self.tuning = tuning or AssociationTuning()
        self._active: list[_Track] = []
        self._gallery: list[_Track] = []
        self._next_id = 0
        self._last_frame: int | None = None

    def reset(self) -> None:
        """Forget every track and restart ids at 0."""
        self._active = []
        self._gallery = []
        self._next_id = 0
        self._last_frame = None

    # --- queries used by the follower ---------------------------------------------------------

    def predict(self, frame_index: int, max_missed: int = 0) -> list[Face]:
        """Faces expected at ``frame_index``: tracks seen on the last frame (or, with
        ``max_missed``, up to that many frames before it), moved by their velocity.

        Box, keypoints and landmarks move together, so a backend that refines a face from its
        box and previous landmarks starts from a consistent guess.
        """
        if self._last_frame is None:
            return []
        out = []
        for track in self._active:
            if self._last_frame - track.last_frame > max_missed:
                continue
            box = track.predicted_box(frame_index, self.tuning.max_predict_frames)
            shift = (box - track.box)[:2].astype(np.float32)
            moved = track.face.moved(float(shift[0]), float(shift[1]))
            out.append(replace(moved, box=box.astype(np.float32), track_id=track.track_id))
        return out

    def _distance(self, prototype: np.ndarray | None, embedding: np.ndarray | None) -> float | None:
        return relative_embedding_distance(prototype, embedding, self.options, self.tuning)

    def identity_distance(self, track_id: int, face: Face) -> float | None:
        """How far ``face``'s embedding is from the track's identity, relative to the threshold."""
        for track in self._active:
            if track.track_id == track_id:
                return self._distance(track.prototype, _prepared_embedding(face.embedding))
        return None

    def without_identity(self) -> list[int]:
        """Ids of the tracks (live and remembered) that have no identity embedding yet."""
        return [t.track_id for t in (*self._active, *self._gallery) if t.prototype is None]

    def set_identity(self, track_id: int, embedding: np.ndarray) -> None:
        """Give a track the identity embedding it lacked (computed later, from its last look)."""
        vec = _prepared_embedding(embedding)
        for track in (*self._active, *self._gallery):
            if track.track_id == track_id and track.prototype is None:
                track.prototype = vec

    def track_ids(self) -> list[int]:
        """Ids of the tracks live or remembered: the people a new face could be."""
        return [t.track_id for t in (*self._active, *self._gallery)]

    # --- the per-frame update -----------------------------------------------------------------

    def update(self, faces: Sequence[Face], frame_index: int) -> list[Face]:
        """The same faces, in the same order, each with the ``track_id`` of the person it shows."""
        embeddings = [_prepared_embedding(f.embedding) for f in faces]
        boxes = np.array([np.asarray(f.box, dtype=np.float64).ravel()[:4] for f in faces]).reshape(-1, 4)
        assigned: dict[int, _Track] = {}

        # 1. overlap with the predicted box, embedding as a tie-breaker (and veto when far off)
        tracks = list(self._active)
        if tracks and len(faces):
            predicted = np.array(
                [t.predicted_box(frame_index, self.tuning.max_predict_frames) for t in tracks]
            )
            ious = iou_matrix(predicted, boxes)
            cost = np.full(ious.shape, _INFEASIBLE)
            for r, track in enumerate(tracks):
                for c in range(len(faces)):
                    if ious[r, c] < max(self.options.iou_threshold, 1e-9):
                        continue
                    rel = self._distance(track.prototype, embeddings[c])
                    if rel is not None and rel > self.tuning.embedding_veto:
                        continue
                    cost[r, c] = (1.0 - ious[r, c]) + (0.0 if rel is None else min(rel, 2.0))
            for r, c in solve_assignment(cost):
                assigned[c] = tracks[r]
                self._observe(tracks[r], faces[c], boxes[c], embeddings[c], frame_index, moved=True)

        # 2. identity alone: unmatched live tracks and the gallery of lost people
        matched_ids = {t.track_id for t in assigned.values()}
        candidates = [t for t in self._active if t.track_id not in matched_ids and t.prototype is not None]
        candidates += self._gallery
        free = [c for c in range(len(faces)) if c not in assigned and embeddings[c] is not None]
        if candidates and free:
            cost = np.full((len(candidates), len(free)), _INFEASIBLE)
            for r, track in enumerate(candidates):
                for j, c in enumerate(free):
                    rel = self._distance(track.prototype, embeddings[c])
                    if rel is not None and rel <= 1.0:
                        cost[r, j] = rel
            for r, j in solve_assignment(cost):
                track, c = candidates[r], free[j]
                assigned[c] = track
                if track in self._gallery:
                    self._gallery.remove(track)
                    self._active.append(track)
                self._observe(track, faces[c], boxes[c], embeddings[c], frame_index, moved=False)

        # 3. new people, ids in order of appearance (detection order within a frame)
        for c, face in enumerate(faces):
            if c not in assigned:
                track = _Track(self._next_id, face, boxes[c].copy(), frame_index, prototype=embeddings[c])
                self._next_id += 1
                self._active.append(track)
                assigned[c] = track

        self._retire(frame_index)
        self._last_frame = frame_index
        return [face.with_track(assigned[c].track_id) for c, face in enumerate(faces)]

    def annotate(self, faces: Sequence[Face]) -> None:
        """Swap in a richer record of this frame's observation of each face's track (landmarks
        fitted after the association), so the next prediction moves those landmarks too."""
        live = {t.track_id: t for t in self._active}
        for face in faces:
            track = live.get(face.track_id) if face.track_id is not None else None
            if track is not None and track.last_frame == self._last_frame:
                track.face = face

    def update_followed(self, faces: Sequence[Face], frame_index: int) -> list[Face]:
        """Fold in faces found by following their own track (each carries its ``track_id``):
        no association, the track simply moves on. Faces whose track is gone are dropped."""
        live = {t.track_id: t for t in self._active}
        out = []
        for face in faces:
            track = live.get(face.track_id) if face.track_id is not None else None
            if track is None:
                continue
            box = np.asarray(face.box, dtype=np.float64).ravel()[:4]
            self._observe(track, face, box, None, frame_index, moved=True)
            out.append(face)
        return out

    def _observe(
        self,
        track: _Track,
        face: Face,
        box: np.ndarray,
        embedding: np.ndarray | None,
        frame_index: int,
        *,
        moved: bool,
    ) -> None:
        """Fold one observation into the track (motion only from spatial matches)."""
        steps = frame_index - track.last_frame
        if moved and steps > 0:
            a = 1.0 if track.moves == 0 else self.tuning.velocity_smoothing
            track.velocity = a * (box - track.box) / steps + (1 - a) * track.velocity
            track.moves += 1
        else:
            track.velocity = np.zeros(4)
            track.moves = 0
        track.box = box.copy()
        track.face = face
        track.last_frame = frame_index
        if embedding is not None:
            if track.prototype is None or track.prototype.shape != embedding.shape:
                track.prototype = embedding
            else:
                m = self.tuning.embedding_momentum
                track.prototype = m * track.prototype + (1 - m) * embedding

    def _retire(self, frame_index: int) -> None:
        """Tracks missed too long leave the live set; those with an identity go to the gallery."""
        keep = []
        for track in self._active:
            if frame_index - track.last_frame > self.options.max_missed_frames:
                if track.prototype is not None:
                    self._gallery.append(track)
            else:
                keep.append(track)
        self._active = keep
        if len(self._gallery) > self.tuning.gallery_size:
            self._gallery = self._gallery[-self.tuning.gallery_size :]
