"""Detect on some frames, follow faces in between: fewer full detections for the same identities.

Full detection (a detector over the whole frame, then landmarks) is the expensive step, and an
identity embedding costs more still on the CPU; ``IdentifyingDetector`` computes embeddings only
for faces that position cannot place (``IdentityPolicy``). Between detection frames the follower
asks the analyzer to ``describe`` the faces the tracker predicts (last box moved by the track's
velocity) without embeddings: the backend refreshes the landmarks inside each given box, so the
landmarks the swap needs are fresh on every frame at the price of a landmark fit.

A followed face that no longer looks like a face forces a full detection on that same frame. The
rule (``FollowQuality``): the backend dropped the face, its follow quality (``describe``'s score in
[0, 1]; dlib: overlap of the given and the re-derived box) fell under ``min_score``, its box
collapsed or blew up against the prediction, or jumped away from it, or it no longer looks like the
track's last detected face (``GapFiller.looks_like``: landmarks fitted on a wall pass every
geometric test); with a backend that returns embeddings from ``describe``, also an embedding that
no longer matches its track. New faces are
found at the next scheduled detection, and every frame is detected while nothing is followed.

With a ``Focus`` (a swap knows which people it will replace), landmarks, following and gap
filling are spent on those people only. Everyone is still detected, tracked and numbered exactly
as before, since the numbering decides who is who; the others simply keep the detector's box and
keypoints (``Landmarker.locate``) and are left out of the frames between detections. On a group
GIF where one face of five is swapped, that is four landmark fits in five saved. Once the wanted
people are all numbered, a face that position cannot place is only compared (by descriptor) with
the wanted people who are not in place: someone else coming back after a long absence may then be
numbered a second time, which changes nothing that is swapped. And while every wanted person is
numbered and followed, a scheduled detection looks only around the wanted faces (a crop of three
times each box, ``IdentifyingDetector.near``): a full detection would only find people who do not
matter, and a followed face that looks lost still forces one at once. On the sample GIF (face 0)
that leaves 5 full detections of 48 frames (4 forced by a face that looked lost) instead of
28, and 20 crop detections.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from frameswap.errors import OptionsError
from frameswap.faces.analyzer import FaceAnalyzer, Landmarker
from frameswap.faces.gapfill import GapFiller
from frameswap.faces.geometry import iou_matrix
from frameswap.faces.looks import LastLooks
from frameswap.faces.track import FaceTracker
from frameswap.faces.types import Face
from frameswap.options import TrackerOptions


class Focus(Protocol):
    """The people the caller will use, told apart by track id (``frameswap.faces.select.
    StreamingIndex`` numbers them as they appear and knows the indexes the swap asked for)."""

    def observe(self, frame_index: int, faces: Sequence[Face]) -> None:
        """See a frame's tracked faces (in clip order), so newcomers get their numbers."""
        ...

    def wants(self, track_id: int | None) -> bool:
        """Whether this person's faces will be used."""
        ...

    def settled(self) -> bool:
        """Whether every wanted person has been numbered, so a face not seen before can only be
        one of them if it is a wanted person coming back."""
        ...

    def all_present(self, track_ids: Collection[int | None]) -> bool:
        """Whether every wanted person is among these tracks."""
        ...


@dataclass(frozen=True)
class FollowQuality:
    """When a followed face is judged lost, forcing a full detection."""

    min_score: float = 0.4  # describe's score is a follow quality in [0, 1]; below it, lost
    min_area_ratio: float = 0.5  # followed box area / predicted box area, below: collapsed
    max_area_ratio: float = 2.0  # above: blown up
    max_center_shift: float = 0.5  # centre moved more than this fraction of the box side
    max_identity_distance: float = 1.0  # embedding distance to the track, relative to its threshold


@dataclass(frozen=True)
class IdentityPolicy:
    """When fresh detections need identity embeddings, the costly step on the CPU (dlib's
    descriptor takes ~70 ms a face, its landmarks ~1 ms), and when position alone tells who is who.

    A detection that overlaps exactly one predicted face by ``confident_iou`` (that face being its
    best match too) and no other face or prediction by ``ambiguous_iou`` is that person: no
    embedding. Any other detection (a new face, a face back after a miss, people crossing) is
    embedded when there is anyone it could be, and so are the tracks it is compared with that
    have no embedding yet, from their last look (``frameswap.faces.looks``). Predictions include
    tracks the detector missed for up to ``missed_frames`` frames.
    """

    confident_iou: float = 0.5
    ambiguous_iou: float = 0.1
    missed_frames: int = 3  # a track missed this recently still places its face by position


def placement(
    faces: Sequence[Face], predicted: Sequence[Face], policy: IdentityPolicy
) -> tuple[list[int], set[int]]:
    """Which detections position alone cannot assign (see ``IdentityPolicy``), and the track ids
    of the predictions that the other detections were assigned to."""
    if not faces:
        return [], set()
    if not predicted:
        return list(range(len(faces))), set()
    boxes = np.stack([f.box for f in faces])
    ious = iou_matrix(boxes, np.stack([p.box for p in predicted]))
    among = iou_matrix(boxes, boxes)
    np.fill_diagonal(among, 0.0)
    unplaced, placed = [], set()
    for row in range(len(faces)):
        column = int(ious[row].argmax())
        rivals = np.delete(ious[row], column)
        is_placed = (
            ious[row, column] >= policy.confident_iou
            and int(ious[:, column].argmax()) == row
            and not (rivals.size and rivals.max() >= policy.ambiguous_iou)
            and not among[row].max(initial=0.0) >= policy.ambiguous_iou
        )
        track_id = predicted[column].track_id
        if is_placed and track_id is not None:
            placed.add(int(track_id))
        else:
            unplaced.append(row)
    return unplaced, placed


class IdentifyingDetector:
    """Full detection without embeddings, then embeddings only where ``IdentityPolicy`` asks;
    tracked faces the detection missed are followed through short gaps (``GapFiller``)."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        tracker: FaceTracker,
        policy: IdentityPolicy | None = None,
        gaps: GapFiller | None = None,
        focus: Focus | None = None,
    ):
        self.analyzer = analyzer
        self.tracker = tracker
        self.focus = focus
        self.policy = policy or IdentityPolicy()
        self.gaps = gaps if gaps is not None else GapFiller(analyzer)
        self.looks = LastLooks()
        self.embedded_faces = 0

    def reset(self) -> None:
        self.embedded_faces = 0
        self.gaps.reset()
        self.looks.reset()

    def detect(self, batch: Sequence[tuple[int, np.ndarray]]) -> list[list[Face]]:
        """Tracked faces of ``(frame index, rgb)`` pairs: one batched detection call, then each
        frame identified and tracked in order (the tracker's prediction needs the frame before)."""
        images = [rgb for _, rgb in batch]
        if self.focus is not None and isinstance(self.analyzer, Landmarker):
            detected = self.analyzer.locate(images)  # landmarks later, for the wanted faces only
        else:
            detected = self.analyzer.analyze(images, embed=False)
        out = []
        for (index, rgb), faces in zip(batch, detected, strict=True):
            faces = list(faces)
            expected = self.tracker.predict(index, max_missed=self.gaps.max_gap)
            known = self.tracker.track_ids()
            if faces and known:
                predicted = self.tracker.predict(index, max_missed=self.policy.missed_frames)
                chosen, placed = placement(faces, predicted, self.policy)
                # whom could an unplaced face be? only people not placed by position right now;
                # once the wanted people are all numbered, only they matter: telling two others
                # apart (a descriptor each, ~0.1 s) would change nothing that is swapped
                rivals = [t for t in known if t not in placed]
                if self.focus is not None and self.focus.settled():
                    rivals = [t for t in rivals if self.focus.wants(t)]
                if chosen and rivals:
                    lacking = [t for t in self.tracker.without_identity() if t in rivals]
                    for track_id, vector in self.looks.embeddings(self.analyzer, lacking).items():
                        self.tracker.set_identity(track_id, vector)
                    embedded = self.analyzer.embed([rgb], [[faces[i] for i in chosen]])[0]
                    for i, face in zip(chosen, embedded, strict=True):
                        faces[i] = face
                    self.embedded_faces += len(chosen) + len(lacking)
            out.append(self._tracked(rgb, index, faces, expected))
        return out

    def near(self, rgb: np.ndarray, index: int, predicted: Sequence[Face]) -> list[Face]:
        """Tracked faces of one frame, detected only around the given predictions (wanted faces a
        ``Focus`` has settled on): each is looked for in a crop of three times its box, a tenth
        of a full detection's cost on a group frame, and kept when it overlaps its prediction."""
        assert isinstance(self.analyzer, Landmarker)
        expected = self.tracker.predict(index, max_missed=self.gaps.max_gap)
        h, w = rgb.shape[:2]
        found: list[Face] = []
        for guess in predicted:
            x1, y1, x2, y2 = (float(v) for v in guess.box)
            side = max(x2 - x1, y2 - y1, 1.0)
            cx, cy = int(max(0, x1 - side)), int(max(0, y1 - side))
            ex, ey = int(min(w, x2 + side + 1)), int(min(h, y2 + side + 1))
            if ex - cx < 8 or ey - cy < 8:
                continue
            crop = np.ascontiguousarray(rgb[cy:ey, cx:ex])
            candidates = [f.moved(cx, cy) for f in self.analyzer.locate([crop])[0]]
            if found:  # a face two crops both hold is kept once
                taken = np.stack([f.box for f in found])
                candidates = [f for f in candidates if iou_matrix(f.box[None], taken).max() < 0.5]
            if candidates:
                overlap = iou_matrix(guess.box[None], np.stack([f.box for f in candidates]))[0]
                if overlap.max() >= 0.3:
                    found.append(candidates[int(overlap.argmax())])
        return self._tracked(rgb, index, found, expected)

    def _tracked(self, rgb: np.ndarray, index: int, faces: list[Face], expected: list[Face]) -> list[Face]:
        """Track one frame's detections, fit the wanted ones, follow the tracks they missed."""
        tracked = self.tracker.update(faces, index)
        looked = tracked
        if self.focus is not None:
            tracked = self._focused(rgb, index, tracked)
            expected = [p for p in expected if self.focus.wants(p.track_id)]
            looked = [f for f in tracked if self.focus.wants(f.track_id)]
        followed = self.tracker.update_followed(self.gaps.fill(rgb, expected, tracked), index)
        self.gaps.remember(rgb, looked, followed)
        self.looks.remember(rgb, tracked)
        return tracked + followed

    def _focused(self, rgb: np.ndarray, index: int, tracked: list[Face]) -> list[Face]:
        """Number the frame's people, then fit the landmarks the wanted faces lack (the tracker
        keeps the fitted record, so its next prediction carries them)."""
        assert self.focus is not None
        self.focus.observe(index, tracked)
        wanted = [i for i, f in enumerate(tracked) if f.landmarks is None and self.focus.wants(f.track_id)]
        if not wanted or not isinstance(self.analyzer, Landmarker):
            return tracked
        fitted = self.analyzer.add_landmarks([rgb], [[tracked[i] for i in wanted]])[0]
        out = list(tracked)
        for i, face in zip(wanted, fitted, strict=True):
            out[i] = face
        self.tracker.annotate(fitted)
        return out


@dataclass
class FollowStats:
    """What the follower did; ``detections_per_frame`` is the cost figure."""

    frames: int = 0
    detections: int = 0  # frames on which the full detector ran (scheduled or forced)
    forced: int = 0  # of those, forced by a lost followed face
    followed: int = 0  # frames served by describe only
    anchored: int = 0  # frames where only the wanted faces were detected, near their tracks

    @property
    def detections_per_frame(self) -> float:
        return self.detections / self.frames if self.frames else 0.0


def _side(box: np.ndarray) -> tuple[float, float, float, float]:
    """Centre x, centre y, side (sqrt of area), area of a box."""
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = max(x2 - x1, 0.0), max(y2 - y1, 0.0)
    return (x1 + x2) / 2, (y1 + y2) / 2, float(np.sqrt(w * h)), w * h


class FaceFollower:
    """Runs the detect-or-follow schedule for one clip, frame by frame, through one tracker."""

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        tracker: FaceTracker,
        detect_every: int,
        quality: FollowQuality | None = None,
        focus: Focus | None = None,
    ):
        if detect_every < 1:
            raise OptionsError(f"detect_every must be >= 1, got {detect_every}")
        self.analyzer = analyzer
        self.tracker = tracker
        self.detect_every = detect_every
        self._settled = False  # a focus whose people are all numbered and followed (module docs)
        self.quality = quality or FollowQuality()
        self.stats = FollowStats()
        self.detector = IdentifyingDetector(analyzer, tracker, focus=focus)
        self._since_detection: int | None = None

    def reset(self) -> None:
        """Start a new clip: the tracker is reset too."""
        self.tracker.reset()
        self.detector.reset()
        self.stats = FollowStats()
        self._since_detection = None
        self._settled = False

    def process(self, image: np.ndarray, frame_index: int) -> list[Face]:
        """The tracked faces of one frame (frames must come in increasing order)."""
        faces = self._process(image, frame_index)
        focus = self.detector.focus
        self._settled = (
            focus is not None and focus.settled() and focus.all_present({f.track_id for f in faces})
        )
        return faces

    def _process(self, image: np.ndarray, frame_index: int) -> list[Face]:
        self.stats.frames += 1
        due = self._since_detection is None or self._since_detection + 1 >= self.detect_every
        if due and self._settled and isinstance(self.analyzer, Landmarker):
            return self._anchor(image, frame_index)
        if not due:
            predicted = self.tracker.predict(frame_index)
            if not predicted:
                # nothing to follow: detect, so a face entering after an empty frame is not missed
                return self._detect(image, frame_index)
            focus = self.detector.focus
            if focus is not None:
                predicted = [p for p in predicted if focus.wants(p.track_id)]
                if not predicted:  # only people nobody asked for: wait for the next detection
                    self._since_detection += 1  # type: ignore[operator]
                    self.stats.followed += 1
                    return []
            refreshed = self.analyzer.describe([image], [predicted], embed=False)[0]
            if self._still_good(predicted, refreshed, image):
                self._since_detection += 1  # type: ignore[operator]
                self.stats.followed += 1
                return self.tracker.update(refreshed, frame_index)
            self.stats.forced += 1
        return self._detect(image, frame_index)

    def _anchor(self, image: np.ndarray, frame_index: int) -> list[Face]:
        """A scheduled detection once settled: only around the wanted faces (see the module docs)."""
        focus = self.detector.focus
        assert focus is not None
        predicted = [p for p in self.tracker.predict(frame_index) if focus.wants(p.track_id)]
        if not predicted:
            return self._detect(image, frame_index)
        self.stats.anchored += 1
        self._since_detection = 0
        return self.detector.near(image, frame_index, predicted)

    def _detect(self, image: np.ndarray, frame_index: int) -> list[Face]:
        self.stats.detections += 1
        self._since_detection = 0
        return self.detector.detect([(frame_index, image)])[0]

    def _still_good(self, predicted: Sequence[Face], refreshed: Sequence[Face], image: np.ndarray) -> bool:
        """False when any followed face looks lost (see the module docstring for the rule)."""
        q = self.quality
        if len(refreshed) != len(predicted):
            return False
        for guess, face in zip(predicted, refreshed, strict=True):
            box = np.asarray(face.box, dtype=np.float64)
            if not np.all(np.isfinite(box)):
                return False
            gx, gy, gside, garea = _side(guess.box)
            fx, fy, _, farea = _side(box)
            if garea <= 0 or not q.min_area_ratio <= farea / garea <= q.max_area_ratio:
                return False
            if np.hypot(fx - gx, fy - gy) > q.max_center_shift * gside:
                return False
            if not face.score >= q.min_score:
                return False
            if not self.detector.gaps.looks_like(guess.track_id, image, face, unknown=True):
                return False  # landmarks fitted on something else (the face left, or is hidden)
            if guess.track_id is not None:
                distance = self.tracker.identity_distance(guess.track_id, face)
                if distance is not None and distance > q.max_identity_distance:
                    return False
        return True


class SequenceTracker:
    """Detect-every-N over frames arriving in clip order, batched where the schedule allows.

    With ``detect_every == 1`` frames are detected in batches (one analyzer call per batch, which
    batch-capable backends run as one model call); otherwise a ``FaceFollower`` detects on schedule
    and follows faces (landmarks refreshed) in between, frame by frame. The swap pipeline's
    analysis step (used by ``frameswap swap`` and ``frameswap faces`` alike) schedules detection
    through it; how many frames a batch holds is the caller's choice (``SwapOptions.batch_size``).
    """

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        options: TrackerOptions | None = None,
        *,
        quality: FollowQuality | None = None,
        focus: Focus | None = None,
    ) -> None:
        options = options or TrackerOptions()
        self.analyzer = analyzer
        self.tracker = FaceTracker(options)
        self.follower = (
            FaceFollower(analyzer, self.tracker, options.detect_every, quality, focus)
            if options.detect_every > 1
            else None
        )
        self._detector = (
            self.follower.detector
            if self.follower
            else IdentifyingDetector(analyzer, self.tracker, focus=focus)
        )
        self._detections = 0

    @property
    def detections(self) -> int:
        """Full detector runs so far (the other frames were followed)."""
        return self.follower.stats.detections if self.follower is not None else self._detections

    @property
    def embedded_faces(self) -> int:
        """Detections that needed identity embeddings (the rest were told apart by position)."""
        return self._detector.embedded_faces

    def process(self, batch: Sequence[tuple[int, np.ndarray]]) -> list[list[Face]]:
        """Tracked faces of ``(frame index, rgb)`` pairs, in order (indexes must increase)."""
        if self.follower is not None:
            return [self.follower.process(rgb, index) for index, rgb in batch]
        self._detections += len(batch)
        return self._detector.detect(batch)

