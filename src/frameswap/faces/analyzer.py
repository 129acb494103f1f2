"""The analyzer interface both backends (insightface, dlib) implement."""

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

    def analyze(self, images: Sequence[np.ndarray]) -> list[list[Face]]:
        """Faces of each image, ordered large to small by box area."""
        ...

    def describe(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        """Refresh landmarks and embeddings of given faces (boxes known, e.g. followed by a tracker)."""
        ...
