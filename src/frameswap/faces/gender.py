"""``gender``: only target faces of one gender, by buffalo_l's genderage model (insightface analyzer).

The filter wraps the analyzer used on the target: detections of the other gender are dropped
before tracking, so the indexes count only faces of the chosen gender (``"0"`` is the largest
woman with ``gender="female"``). A frame where the estimate flips for a tracked face does not drop
that person: the tracker follows a face a detection missed, as it does on a blurred frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from frameswap.errors import OptionsError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.types import Face

GENDERS = {"female": 0, "male": 1}  # insightface's genderage: argmax 0 is female


@dataclass
class GenderFilteredAnalyzer:
    """An analyzer whose full detections keep only faces of ``gender`` (0 female, 1 male)."""

    inner: FaceAnalyzer
    gender: int
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.inner.name

    def analyze(self, images: Sequence[np.ndarray], *, embed: bool = True) -> list[list[Face]]:
        images = list(images)
        found = self.inner.analyze(images, embed=embed)
        genders = self.inner.genders(images, found)  # type: ignore[attr-defined]
        return [
            [face for face, g in zip(faces, per_image, strict=True) if g == self.gender]
            for faces, per_image in zip(found, genders, strict=True)
        ]

    def describe(
        self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]], *, embed: bool = True
    ) -> list[list[Face]]:
        return self.inner.describe(images, faces, embed=embed)

    def embed(self, images: Sequence[np.ndarray], faces: Sequence[Sequence[Face]]) -> list[list[Face]]:
        return self.inner.embed(images, faces)


def target_analyzer(analyzer: FaceAnalyzer, gender: str | None) -> FaceAnalyzer:
    """``analyzer`` itself, or wrapped to keep one gender; a clear error when it estimates none."""
    if gender is None:
        return analyzer
    if not callable(getattr(analyzer, "genders", None)):
        raise OptionsError(
            f"gender needs the insightface analyzer (buffalo_l's genderage model); the {analyzer.name} "
            "analyzer does not estimate gender: drop gender, or use the insightface analyzer (the "
            "inswapper engine's; on the command line, --analyzer insightface)"
        )
    return GenderFilteredAnalyzer(analyzer, GENDERS[gender])
