"""The identity record: each photo's face crop and the face found in it. Plain numpy data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from frameswap.faces.types import Face

IDENTITY_VERSION = 1


@dataclass(frozen=True)
class IdentityPhoto:
    """One photo of the person: an RGB crop around the face and the face in crop coordinates.

    The crop (not the whole photo) is kept: it is all an engine reads, and it keeps the file small.
    """

    name: str
    image: np.ndarray  # (H, W, 3) uint8 RGB
    face: Face


@dataclass(frozen=True)
class Identity:
    """Several photos of one person, checked to be the same person by ``analyzer``'s descriptor.

    ``analyzer`` names what described the faces (``dlib`` or ``insightface``): a swap with the
    same analyzer uses the stored faces as they are; another analyzer re-analyses the crops.
    """

    photos: tuple[IdentityPhoto, ...]
    analyzer: str
    version: int = IDENTITY_VERSION
