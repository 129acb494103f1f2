"""The whole product on the insightface engine, with synthetic models under their real file names.

A models directory holding det_10g, w600k_r50, inswapper_128 and gfpgan_1.4 (tiny synthetic graphs
with the real contracts) must make ``engine="auto"`` pick the inswapper engine and the insightface
analyzer, run every stage through the pipeline, keep the animation's timing, and change pixels only
around the faces. A restorer whose file is missing fails with the command that fetches it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from frameswap.api import FaceSwapper
from frameswap.errors import ModelNotFoundError
from frameswap.media import Frame, FrameTiming, MediaInfo, open_media, write_media
from frameswap.options import SwapOptions
from kit.synthetic_detection import paint_face

SIZE = (320, 240)  # width, height
DELAYS_MS = [70, 30, 120, 0, 500]


def _scene(centres: list[tuple[float, float, int]]) -> np.ndarray:
    rgb = np.full((SIZE[1], SIZE[0], 3), 96, np.uint8)
    for cx, cy, stride in centres:
        paint_face(rgb, (cx, cy), stride)
    return rgb


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """Two faces (a large and a small one) drifting right, with uneven delays and a loop count."""
    frames = [_scene([(80 + 10 * i, 120, 32), (240 - 5 * i, 80, 16)]) for i in range(len(DELAYS_MS))]
    info = MediaInfo(format="apng", kind="animation", width=SIZE[0], height=SIZE[1],
                     frame_count=len(frames), durations_ms=tuple(map(float, DELAYS_MS)), loop=2)
    timings, pts = [], 0
    for d in DELAYS_MS:
        timings.append(FrameTiming(pts, d, Fraction(1, 1000)))
        pts += d
    path = tmp_path_factory.mktemp("clip") / "clip.png"
    write_media(path, (Frame(i, f, t) for i, (f, t) in enumerate(zip(frames, timings, strict=True))), info)
    return path, frames


def _source(tmp_path):
    from PIL import Image

    path = tmp_path / "source.png"
    Image.fromarray(_scene([(160, 120, 32)])).save(path)
    return path


def _changed_boxes(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    return np.any(before != after, axis=-1)


def test_auto_picks_inswapper_and_swaps_only_around_the_chosen_face(models_dir, clip, tmp_path):
    target, originals = clip
    swapper = FaceSwapper(models_dir=models_dir)
    result = swapper.swap(_source(tmp_path), target, tmp_path / "out.png", options=SwapOptions())
    assert result.engine == "inswapper"
    assert result.faces_found == 2
    with open_media(result.path) as reader:
        assert list(reader.info.durations_ms) == DELAYS_MS and reader.info.loop == 2
        outputs = [f.rgb for f in reader.frames()]
    assert len(outputs) == len(originals)
    for i, (before, after) in enumerate(zip(originals, outputs, strict=True)):
        changed = _changed_boxes(before, after)
        assert changed.any(), f"frame {i}: the largest face was not swapped"
        _, xs = np.nonzero(changed)
        # index 0 is the large (stride 32) face on the left; the small face on the right is untouched
        assert xs.max() < 200 and abs(xs.mean() - (80 + 10 * i)) < 30


def test_restorer_runs_through_the_pipeline(models_dir, clip, tmp_path):
    target, _ = clip
    swapper = FaceSwapper(models_dir=models_dir)
    plain = swapper.swap(_source(tmp_path), target, options=SwapOptions(output_format="apng"))
    restored = swapper.swap(
        _source(tmp_path), target, options=SwapOptions(face_restore="GFPGANv1.4.pth", output_format="apng")
    )
    assert restored.stats.seconds["restore"] > 0
    with open_media(plain.data) as a, open_media(restored.data) as b:
        diff = [np.abs(x.rgb.astype(int) - y.rgb).max() for x, y in zip(a.frames(), b.frames(), strict=True)]
    assert all(d > 0 for d in diff)


def test_missing_restorer_names_the_download_command(models_dir, clip, tmp_path):
    target, _ = clip
    with pytest.raises(ModelNotFoundError, match="frameswap models download codeformer"):
        FaceSwapper(models_dir=models_dir).swap(
            _source(tmp_path), target, options=SwapOptions(face_restore="codeformer-v0.1.0.pth")
        )


def test_without_model_files_auto_falls_back_to_the_classic_engine(tmp_path):
    from frameswap import factory

    store = factory.open_store(tmp_path)
    assert factory.resolve_engine("auto", store) == "classic"
    assert factory.resolve_analyzer("auto", "classic", store) == "dlib"
    with pytest.raises(ModelNotFoundError, match="frameswap models download inswapper_128"):
        factory.create_engine("inswapper", store=store)
