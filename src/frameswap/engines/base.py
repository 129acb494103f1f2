"""The swap-engine interface: prepare a source face once, then swap it onto many target faces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from frameswap.faces.types import Face


class FaceSkippedWarning(UserWarning):
    """A face could not be processed (degenerate keypoints, off the frame) and was left as is."""


@dataclass(frozen=True)
class SwapJob:
    """Put ``source`` (an engine's prepared source) onto ``target`` (a face of the frame)."""

    target: Face
    source: Any


@runtime_checkable
class SwapEngine(Protocol):
    """A face-swap engine. Frames are RGB ``uint8`` (H, W, 3); engines never modify their inputs."""

    name: str
    # whether ``prepare_source`` needs the source face's identity embedding (inswapper's latent
    # comes from it; the classic engine uses landmarks and pixels only, and on the CPU an
    # embedding is the costliest step of analysing the source photo)
    needs_source_embedding: bool

    def prepare_source(self, image: np.ndarray, face: Face) -> Any:
        """Everything the engine needs from the source photo's face (latent, texture, shape)."""
        ...

    def swap(self, frames: Sequence[np.ndarray], jobs: Sequence[Sequence[SwapJob]]) -> list[np.ndarray]:
        """Swap every job of every frame; frames with no job come back as they are.

        Takes several frames so an engine whose model has a batch axis runs one call per batch.
        """
        ...
