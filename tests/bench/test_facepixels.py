"""The truth-based pixel figures on synthetic frames whose answer is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from fsbench.facepixels import (
    SWAP_MIN_LEVELS,
    PixelFigures,
    cie76,
    mean_lab,
    outside_mask,
    scale_box,
    swap_threshold,
)
from fsbench.truth import FrameTruth

SIZE = (120, 80)  # width, height
FACES = ((20.0, 20.0, 50.0, 60.0), (70.0, 10.0, 100.0, 50.0))


def _frame(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(40, 200, (SIZE[1], SIZE[0], 3), dtype=np.uint8)


def _paint(rgb: np.ndarray, box, value: int) -> np.ndarray:
    out = rgb.copy()
    x0, y0, x1, y1 = (int(v) for v in box)
    out[y0:y1, x0:x1] = value
    return out


def _truth(faces=FACES) -> FrameTruth:
    return FrameTruth(SIZE, tuple(faces))


def test_scale_box_keeps_the_centre():
    assert scale_box((10.0, 20.0, 30.0, 60.0), 1.5) == (5.0, 10.0, 35.0, 70.0)
    assert scale_box((10.0, 20.0, 30.0, 60.0), 0.5) == (15.0, 30.0, 25.0, 50.0)


def test_outside_mask_counts_pixels_beyond_the_grown_boxes():
    mask = outside_mask((80, 120), [(20.0, 20.0, 40.0, 60.0)], grow=1.5)  # grown: 15..45 x 10..70
    assert mask.sum() == 120 * 80 - 30 * 60
    assert not mask[10:70, 15:45].any() and mask[:10].all() and mask[:, 45:].all()


def test_a_painted_face_counts_as_swapped_and_an_untouched_one_does_not():
    figures = PixelFigures()
    for i in range(4):
        original = _frame(i)
        output = _paint(original, FACES[0], 255) if i != 2 else original.copy()  # frame 2: missed
        figures.add(_truth(), original, output)
    out = figures.figures()
    assert out["swap_coverage"] == {"0": 0.75, "1": 0.0}
    assert out["swap_coverage_min"] == 0.0
    assert out["swap_missed"][:2] == [[0, 1], [1, 1]] and [2, 0] in out["swap_missed"]


def test_noise_below_the_threshold_is_not_a_swap_and_the_floor_raises_the_bar():
    original = _frame()
    noise = np.random.default_rng(9).integers(-4, 5, original.shape)  # mean |noise| 20/9 = 2.2 levels
    noisy = np.clip(original.astype(int) + noise, 0, 255).astype(np.uint8)
    figures = PixelFigures()
    figures.add(_truth(FACES[:1]), original, noisy)
    assert figures.figures()["swap_coverage"] == {"0": 0.0}
    # a change of 12 levels passes the fixed floor, but not 2.5x a floor output's noise of 6 levels
    shifted = np.clip(original.astype(int) + 12, 0, 255).astype(np.uint8)
    floor = np.clip(original.astype(int) + 6, 0, 255).astype(np.uint8)
    alone, with_floor = PixelFigures(), PixelFigures()
    alone.add(_truth(FACES[:1]), original, shifted)
    with_floor.add(_truth(FACES[:1]), original, shifted, floor)
    assert alone.figures()["swap_coverage"] == {"0": 1.0}
    assert with_floor.figures()["swap_coverage"] == {"0": 0.0}
    assert swap_threshold(None) == SWAP_MIN_LEVELS and swap_threshold(6.0) == 15.0


def test_faces_the_frame_edge_cuts_are_not_required_but_their_changes_are_not_outside():
    cut = (100.0, 30.0, 140.0, 70.0)  # half outside the 120 px wide frame
    original = _frame()
    output = _paint(original, (100, 30, 120, 70), 0)
    figures = PixelFigures()
    figures.add(_truth((FACES[0], cut)), original, output)
    out = figures.figures()
    assert out["swap_coverage"] == {"0": 0.0}  # face 1 is not visible, so not judged
    assert out["outside_share_of_changed"] == 0.0 and out["outside_differ_share"] == 0.0


def test_outside_shares_count_exactly_the_pixels_changed_beyond_the_grown_boxes():
    original = _frame()
    output = _paint(original, FACES[0], 255)
    output[0:2, 0:10] = 0  # 20 pixels in the corner, far from both faces (and not 0 before)
    figures = PixelFigures()
    figures.add(_truth(), original, output)
    out = figures.figures()
    inside = 30 * 40
    outside_pixels = int(outside_mask(original.shape, FACES).sum())
    assert out["outside_share_of_changed"] == round(20 / (inside + 20), 5)
    assert out["outside_differ_share"] == round(20 / outside_pixels, 5)


def test_flicker_ratio_is_output_change_over_input_change_and_skips_repeated_input_frames():
    base = _frame(1)
    originals = [base, np.roll(base, 1, axis=1), np.roll(base, 1, axis=1)]  # a 1 px pan, then a hold
    figures = PixelFigures()
    outputs = []
    for i, original in enumerate(originals):
        out = _paint(original, FACES[0], 230 if i % 2 == 0 else 250)  # the painted face blinks
        outputs.append(out)
        figures.add(_truth(FACES[:1]), original, out)
    result = figures.figures()
    assert result["flicker_pairs"] == 1  # the held frame is skipped
    x0, y0, x1, y1 = (int(v) for v in FACES[0])
    expected_out = 20.0  # every value of the box changes by 20
    expected_in = np.abs(originals[1][y0:y1, x0:x1].astype(int) - originals[0][y0:y1, x0:x1]).mean()
    assert result["flicker_ratio"] == pytest.approx(expected_out / expected_in, rel=1e-3)


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [  # published sRGB (D65) → CIELAB values
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
        ((128, 128, 128), (53.59, 0.0, 0.0)),
    ],
)
def test_mean_lab_matches_published_values(rgb, lab):
    patch = np.zeros((10, 10, 3), np.uint8) + np.array(rgb, np.uint8)
    assert mean_lab(patch, (0.0, 0.0, 10.0, 10.0)) == pytest.approx(lab, abs=0.6)


def test_centre_delta_e_is_cie76_of_the_centres_mean_colours():
    original = np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)
    output = _paint(original, FACES[0], 255)  # grey to white inside the face
    figures = PixelFigures()
    figures.add(_truth(FACES[:1]), original, output)
    assert figures.figures()["centre_delta_e"] == pytest.approx(100.0 - 53.59, abs=0.6)
    assert cie76(np.array([50.0, 3.0, 0.0]), np.array([50.0, 0.0, 4.0])) == pytest.approx(5.0)


def test_nothing_measured_gives_none_not_zero():
    figures = PixelFigures()
    original = _frame()
    figures.add(_truth(()), original, original)
    out = figures.figures()
    assert out["swap_coverage_min"] is None and out["outside_share_of_changed"] is None
    assert out["flicker_ratio"] is None and out["centre_delta_e"] is None


def test_measure_pixels_reads_the_files_and_finds_the_painted_faces(tmp_path):
    from PIL import Image

    from fsbench.clips import build_clip, clip_spec
    from fsbench.facepixels import measure_pixels
    from fsbench.rawmedia import iter_rgb

    spec = clip_spec("blurdark_gif", frames=4, width=240)
    target = build_clip(spec, tmp_path / "in.gif")
    truth = spec.truth()
    frames = list(iter_rgb(target))
    painted_face = truth[0].visible()[0]
    outputs = [_paint(f, truth[i].boxes[painted_face], 255) if i != 1 else f for i, f in enumerate(frames)]
    output = tmp_path / "out.png"
    first, *rest = (Image.fromarray(f) for f in outputs)
    first.save(output, format="PNG", save_all=True, append_images=rest, duration=80, loop=0)
    figures = measure_pixels(truth, target, output)
    assert figures["truth_frames"] == 4
    assert figures["swap_coverage"][str(painted_face)] == 0.75
    assert figures["outside_share_of_changed"] == 0.0 and figures["outside_differ_share"] == 0.0
    assert figures["size_ratio"] == round(output.stat().st_size / target.stat().st_size, 4)
