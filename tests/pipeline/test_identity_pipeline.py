"""The pipeline with an identity, on model-free fakes: a photo per target face, held per track.

A fake engine's identity picks, for each target face, the photo whose "pose" (here: the face's
x position) is nearest, through the same ``choose`` the classic engine uses; the painted output
shows which photo each face got in each frame. Two people cross the frame, hovering on the
boundary between the photos for a while (within the classic engine's margin, ``HYSTERESIS_DEGREES``,
read here as pixels): each switches photos once, never back and forth.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass

import numpy as np
from PIL import Image
from tests.pipeline.test_run import save_apng

from frameswap.engines.classic.photos import HYSTERESIS_DEGREES, choose
from frameswap.faces.types import Face
from frameswap.identity import build_identity
from frameswap.options import SwapOptions
from frameswap.pipeline import Models, run_swap
from kit.fakes import PaintEngine, SquareAnalyzer, draw

PHOTO_IDS = (41, 42)  # what each photo paints (the identity's two photos)


@dataclass(frozen=True)
class _XPhotos:
    """A PerFaceSource whose photos are "posed" at x = 40 and x = 120 (the boundary is at 80)."""

    sources: tuple[int, ...]

    def pick(self, target: Face, previous: int | None) -> tuple[int, object]:
        centre = float(target.box[0] + target.box[2]) / 2
        best = choose(np.abs(np.array([40.0, 120.0]) - centre), previous)
        return best, self.sources[best]


class _PhotoEngine(PaintEngine):
    def prepare_photos(self, photos):
        assert len(photos) == 2
        return _XPhotos(PHOTO_IDS)


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def test_each_track_switches_photo_once_while_hovering_on_the_boundary(tmp_path):
    # in from the left, then hovering across the boundary (centre at 77 then 83: the distances to the
    # photos differ by 6, under the margin), then out (x is the square's left edge; its centre,
    # which the photos are chosen by, is 12 px right)
    assert HYSTERESIS_DEGREES > 6
    hover = [65.0, 71.0] * 8
    xs = np.concatenate([np.linspace(8, 65, 8), hover, np.linspace(71, 130, 8)])
    n = len(xs)
    frames = [draw((170, 120), [(int(x), 10, 24, 10), (int(x), 70, 24, 90)]) for x in xs]
    target = save_apng(frames, [50] * n, tmp_path / "clip.png")
    analyzer = SquareAnalyzer()
    photos = [("a.png", draw((60, 60), [(10, 10, 30, 5)])), ("b.png", draw((60, 60), [(20, 20, 30, 5)]))]
    identity = build_identity(analyzer, photos)
    out = tmp_path / "out.png"
    run_swap(Models(analyzer=analyzer, engine=_PhotoEngine()), identity, target, out,
             SwapOptions(input_faces_index="0,1", source_faces_index="0"))
    from frameswap.media import open_media

    with open_media(out) as reader:
        painted = [f.rgb for f in reader.frames()]
    for row in (20, 80):  # the two people
        used = [int(rgb[row, int(x) + 12, 1]) for rgb, x in zip(painted, xs, strict=True)]
        assert set(used) == set(PHOTO_IDS)
        assert sum(a != b for a, b in itertools.pairwise(used)) == 1, used
        assert used[0] == PHOTO_IDS[0] and used[-1] == PHOTO_IDS[1]


def test_a_list_of_photos_of_two_people_is_refused_naming_the_stray(tmp_path):
    import pytest

    from frameswap.errors import SourceError

    analyzer = SquareAnalyzer()
    target = save_apng([draw((100, 60), [(10, 10, 30, 10)])] * 2, [50, 50], tmp_path / "clip.png")
    photos = [_png(draw((60, 60), [(10, 10, 30, 5)])), _png(draw((60, 60), [(10, 10, 30, 6)]))]
    with pytest.raises(SourceError, match="source photo 2: its face is not the same person"):
        run_swap(Models(analyzer=analyzer, engine=_PhotoEngine()), photos, target, tmp_path / "o.png",
                 SwapOptions())
    assert not (tmp_path / "o.png").exists()
