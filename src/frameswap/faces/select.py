"""The hosted API's face indexes, with its silent faults turned into clear errors.

``input_faces_index`` / ``source_faces_index`` are comma-separated non-negative integers ("0, 2" with
a space is fine). They pair by position, and a single source index goes onto every listed target
face. Faces are numbered large to small by box area. On an animation an index names a *person*:
index i is the i-th largest face of the reference frame (the first frame with a face unless the
caller names one), followed through the clip by the tracker; people who first appear later get the
next indexes in order of appearance. Anything that ReActor silently ignores (a count mismatch, an
index past the faces found, no face at all) raises ``FaceIndexError`` or ``NoFaceError`` here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from frameswap.errors import FaceIndexError, NoFaceError, OptionsError
from frameswap.faces.types import Face, sort_large_to_small

_INDEX_ITEM = re.compile(r"[0-9]{1,6}")  # ASCII digits only: int() would also accept "+1", "1_0", "٣"
# No picture has a thousand faces; the cap keeps a hostile list (40,000 items, an index of 5,000
# digits) from costing anything: the text is refused by length before it is even split.
MAX_INDEXES = 1000
_MAX_INDEX_TEXT = MAX_INDEXES * 8


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def out_of_range(what: str, index: int, found: int, where: str = "target") -> FaceIndexError:
    """The error for an index past the faces found, saying how many were found and where."""
    return FaceIndexError(f"{what} {index} is out of range: {_count(found, 'face')} found in the {where}")


def parse_indexes(text: str | int | Sequence[int], what: str) -> list[int]:
    """Comma-separated non-negative integers ("0", "0,2", "0, 2") as a list.

    ``what`` names the field in error messages (e.g. "input_faces_index"). Ints and int lists pass
    through checked, for Python callers.
    """
    if isinstance(text, bool):
        raise FaceIndexError(f"{what} must be face indexes such as '0' or '0,2', got {text!r}")
    if isinstance(text, int):
        items: list[str] = [str(text)]
    elif isinstance(text, str):
        if not text.strip():
            raise FaceIndexError(f"{what} is empty: give face indexes such as '0' or '0,2'")
        if len(text) > _MAX_INDEX_TEXT:
            raise FaceIndexError(f"{what} is {len(text)} characters long; at most {MAX_INDEXES} indexes")
        items = [part.strip() for part in text.split(",")]
    else:
        items = [str(v) for v in text]
        if not items:
            raise FaceIndexError(f"{what} is empty: give face indexes such as '0' or '0,2'")
    if len(items) > MAX_INDEXES:
        raise FaceIndexError(f"{what} lists {len(items)} indexes; at most {MAX_INDEXES}")
    out = []
    for item in items:
        if not _INDEX_ITEM.fullmatch(item):
            if item.startswith("-") and _INDEX_ITEM.fullmatch(item[1:]):
                problem = f"{item} is negative (indexes start at 0, the largest face)"
            elif not item:
                problem = "it has an empty item (a stray comma?)"
            elif item.isascii() and item.isdigit():
                problem = f"{item[:12]}... is over 6 digits (no picture has that many faces)"
            else:
                problem = f"{item[:40]!r} is not a non-negative integer"
            shown = text if len(str(text)) <= 80 else f"{str(text)[:77]}..."
            raise FaceIndexError(
                f"{what} {shown!r} is not a comma-separated list of face indexes "
                f"such as '0' or '0,2': {problem}"
            )
        out.append(int(item))
    return out


def pair_indexes(input_idx: Sequence[int], source_idx: Sequence[int]) -> list[tuple[int, int]]:
    """(target index, source index) pairs: by position, or one source index onto every target face."""
    if not input_idx or not source_idx:
        raise FaceIndexError("input_faces_index and source_faces_index must each list at least one index")
    seen: set[int] = set()
    for i in input_idx:  # linear: a set, not list.count per item (quadratic on a long hostile list)
        if i in seen:
            raise FaceIndexError(f"input_faces_index lists target face {i} more than once")
        seen.add(i)
    if len(source_idx) == 1:
        return [(t, source_idx[0]) for t in input_idx]
    if len(source_idx) != len(input_idx):
        raise FaceIndexError(
            f"input_faces_index lists {_count(len(input_idx), 'face')} but source_faces_index lists "
            f"{len(source_idx)}: give one source index for every target face, or a single one for all"
        )
    return list(zip(input_idx, source_idx, strict=True))


@dataclass(frozen=True)
class IndexedFace:
    """One person of the target, as ``frameswap faces`` lists it."""

    index: int
    track_id: int
    box: np.ndarray  # at the reference frame, or at its first frame for people who appear later
    score: float
    first_frame: int
    last_frame: int
    frames_seen: int
    at_reference: bool = True  # present in the reference frame (else box is from its first frame)

    def to_json(self, animated: bool) -> dict[str, object]:
        """The JSON contract of ``frameswap faces --json`` for one face."""
        out: dict[str, object] = {
            "index": self.index,
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
        }
        if animated:
            out["first_frame"] = self.first_frame
            out["frames_seen"] = self.frames_seen
        return out


@dataclass(frozen=True)
class IdentityIndex:
    """The face indexes of a target: which tracked person each index names."""

    faces: tuple[IndexedFace, ...]
    reference_frame: int
    frame_count: int

    @classmethod
    def from_tracks(
        cls, frames: Sequence[Sequence[Face]], reference_frame: int | None = None
    ) -> IdentityIndex:
        """Index the people of tracked frames (every face must carry a ``track_id``).

        Raises ``NoFaceError`` when no frame has a face, or when the named reference frame has none,
        and ``FaceIndexError`` for a reference frame outside the clip.
        """
        count = len(frames)
        seen: dict[int, list[tuple[int, Face]]] = {}
        for i, faces in enumerate(frames):
            for face in faces:
                if face.track_id is None:
                    raise OptionsError("IdentityIndex.from_tracks needs tracked faces (track_id set)")
                seen.setdefault(face.track_id, []).append((i, face))
        if not seen:
            raise NoFaceError(f"no face found in the target ({_count(count, 'frame')} searched)")
        first_with_face = min(obs[0][0] for obs in seen.values())
        if reference_frame is None:
            reference_frame = first_with_face
        elif not 0 <= reference_frame < count:
            raise FaceIndexError(
                f"reference frame {reference_frame} is out of range: the target has {_count(count, 'frame')}"
            )
        ref_faces = sort_large_to_small([f for f in frames[reference_frame] if f.track_id is not None])
        if not ref_faces:
            raise NoFaceError(
                f"no face found in reference frame {reference_frame}; "
                f"the first frame with a face is {first_with_face}"
            )
        order: list[int] = [f.track_id for f in ref_faces if f.track_id is not None]  # all are
        later = [t for t in seen if t not in order]
        # order of appearance; within one frame larger first, then earlier track id
        later.sort(key=lambda t: (seen[t][0][0], -seen[t][0][1].area, t))
        order += later
        indexed = []
        for index, track_id in enumerate(order):
            obs = seen[track_id]
            at_ref = [f for i, f in obs if i == reference_frame]
            face = at_ref[0] if at_ref else obs[0][1]
            indexed.append(
                IndexedFace(
                    index=index,
                    track_id=track_id,
                    box=np.asarray(face.box, dtype=np.float32),
                    score=float(face.score),
                    first_frame=obs[0][0],
                    last_frame=obs[-1][0],
                    frames_seen=len({i for i, _ in obs}),
                    at_reference=bool(at_ref),
                )
            )
        return cls(faces=tuple(indexed), reference_frame=reference_frame, frame_count=count)

    @classmethod
    def from_image(cls, faces: Sequence[Face]) -> tuple[IdentityIndex, list[Face]]:
        """Index one still image: its faces large to small; returns the index and the faces with ids."""
        tracked = [f.with_track(i) for i, f in enumerate(sort_large_to_small(list(faces)))]
        return cls.from_tracks([tracked]), tracked

    def track_of(self, index: int, what: str = "input_faces_index") -> int:
        """The track id an index names; ``FaceIndexError`` (saying how many were found) when out of range."""
        if not 0 <= index < len(self.faces):
            raise out_of_range(what, index, len(self.faces))
        return self.faces[index].track_id


class StreamingIndex:
    """Face indexes assigned while a clip is read, for the default reference frame.

    Numbers people exactly as ``IdentityIndex.from_tracks(frames)`` does with no reference frame
    named (the first frame with a face is the reference; people who appear later follow in order
    of appearance, larger first within a frame), but one frame at a time, so swapping can start
    before the whole clip has been read. Feed it every frame's tracked faces in clip order.

    Given the ``wanted`` indexes (those a swap replaces), it is also the analysis's
    ``frameswap.faces.follow.Focus``: only those people get landmarks and are followed.
    """

    def __init__(self, wanted: Collection[int] | None = None) -> None:
        self.index_of: dict[int, int] = {}  # track id → face index
        self.reference_frame: int | None = None
        self.wanted = None if wanted is None else frozenset(wanted)

    def wants(self, track_id: int | None) -> bool:
        """Whether this track's person has one of the wanted indexes (all do when none were given)."""
        if self.wanted is None:
            return True
        return track_id is not None and self.index_of.get(track_id) in self.wanted

    def settled(self) -> bool:
        """Whether every wanted index already names someone (never, when all are wanted)."""
        return self.wanted is not None and all(i < self.count for i in self.wanted)

    def all_present(self, track_ids: Collection[int | None]) -> bool:
        """Whether every wanted index names one of these tracks."""
        present = {self.index_of.get(t) for t in track_ids if t is not None}
        return self.wanted is not None and self.wanted <= present

    @property
    def count(self) -> int:
        """People indexed so far."""
        return len(self.index_of)

    def observe(self, frame_index: int, faces: Sequence[Face]) -> None:
        """Give indexes to the people first seen in this frame."""
        tracked = [f for f in faces if f.track_id is not None]
        new = [f for f in tracked if f.track_id not in self.index_of]
        if not new:
            return
        if self.reference_frame is None:
            self.reference_frame = frame_index
            ordered = sort_large_to_small(new)  # as from_tracks orders the reference frame
        else:
            ordered = sorted(new, key=lambda f: (-f.area, f.track_id))
        for face in ordered:
            self.index_of[face.track_id] = len(self.index_of)  # type: ignore[index]

    def check(self, targets: Sequence[int]) -> None:
        """At the end of the clip: every requested target index must name someone."""
        if not self.index_of:
            raise NoFaceError("no face found in the target")
        for index in targets:
            if index >= self.count:
                raise out_of_range("input_faces_index", index, self.count)
