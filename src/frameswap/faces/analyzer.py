"""The analyzer interface both backends (insightface, dlib) implement, and the optional split of
finding faces from fitting their landmarks (``Landmarker``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from frameswap.faces.types import Face


@runtime_checkable
class FaceAnalyzer(Protocol):
    """Detects faces and describes them.

    Batch-first: ``analyze`` takes several frames at once so a backend whose models accept a batch
    (ArcFace) runs one call per batch. Images are RGB ``uint8`` arrays of shape (H, W, 3).
    """

    name: str

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        """Faces of each image, ordered large to small by box area; identity embeddings (the
        costly part on the CPU) only with ``embed``."""
        ...

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        """Refresh landmarks (and, with ``embed``, embeddings) of given faces whose boxes are known,
        e.g. followed by a tracker; ``score`` becomes a follow quality in [0, 1]."""
        ...

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        """The given faces (from this analyzer) with their identity embeddings, order kept."""
        ...


@runtime_checkable
class Landmarker(Protocol):
    """An analyzer whose landmarks are a separate step per face, worth skipping on faces nobody
    asked for: dlib fits its 68 points (~3 ms a face on our CPU) in each box CenterFace found.
    A swap of face 0 in a group clip spends most of its analysis on the other people's landmarks;
    with this split it fits only the faces it will swap (``frameswap.faces.follow.Focus``)."""

    def locate(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Faces of each image, large to small, with boxes, scores and five keypoints; landmarks
        may be missing (they are whatever the detector itself gives)."""
        ...

    def add_landmarks(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]
    ) -> list[list[Face]]:
        """The given faces with landmarks fitted where they had none, exactly as ``analyze`` would
        have given them (box, score and track id kept; keypoints from the landmarks)."""
        ...
