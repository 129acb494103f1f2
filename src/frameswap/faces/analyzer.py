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
