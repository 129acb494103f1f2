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
    """Put ``source`` (an engine's prepared source) onto ``target`` (a face of the frame).

    ``tone``: the target face's colour statistics smoothed over its track, for engines that
    measure one (``ToneAwareEngine``); None lets the engine measure this frame alone.
    """

    target: Face
    source: Any
    tone: np.ndarray | None = None


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


@runtime_checkable
class ToneAwareEngine(Protocol):
    """An engine that matches the target's skin tone and lets the pipeline smooth it per track.

    Measured frame by frame, a face's colour statistics wobble (landmark noise, a hand drifting
    in); the pipeline smooths them per tracked face and hands them back in ``SwapJob.tone``.
    """

    # the smoothing weight of the newest frame, per figure that ``measure_tone`` returns
    tone_alpha: tuple[float, ...]

    def measure_tone(self, frame: np.ndarray, face: Face) -> np.ndarray | None:
        """The face's colour statistics on this frame, and any other per-frame looks the engine
        wants smoothed the same way (None: nothing usable)."""
        ...


@runtime_checkable
class MultiPhotoEngine(Protocol):
    """An engine that can take one person from several photos (``frameswap.identity``)."""

    def prepare_photos(self, photos: Sequence[tuple[np.ndarray, Face]]) -> Any:
        """One prepared source from several ``(image, face)`` photos of the same person."""
        ...


@runtime_checkable
class PerFaceSource(Protocol):
    """A prepared source that picks, for each target face, which of its photos to use.

    The pipeline calls ``pick`` in clip order with the photo this face's track used last (None on
    its first frame), so the choice can hold steady instead of flickering between photos.
    """

    def pick(self, target: Face, previous: int | None) -> tuple[int, Any]:
        """The chosen photo's number and its prepared source (what ``swap`` takes)."""
        ...
