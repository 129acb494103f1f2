"""The classic engine's colour transfer, against its defining properties on synthetic Lab pixels."""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from frameswap.engines.classic.blend import match_sharpness, transfer_color
from frameswap.engines.classic.regions import SkinModel

NEUTRAL = 128.0


def skin(l_mean: float, a: float, b: float, spread: float = 12.0) -> SkinModel:
    return SkinModel(np.array([l_mean, a, b], np.float32), np.array([spread, 4.0, 5.0], np.float32))


def lab_of(rgb: tuple[int, int, int]) -> np.ndarray:
    return cv2.cvtColor(np.array([[rgb]], np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)[0, 0]


def test_a_tanned_source_on_a_pale_target_keeps_dark_features_neutral():
    # a tanned source skin (strong yellow) onto a pale pink target: a brow hair, darker and far less
    # yellow than the source's skin, must stay near-neutral grey, not turn blue (b below neutral)
    tanned, pale = lab_of((196, 140, 100)), lab_of((238, 205, 196))
    source, target = skin(*tanned), skin(*pale)
    brow = lab_of((70, 62, 58))
    moved = transfer_color(brow[None, None], source, target, 1.0)[0, 0]
    assert moved[2] >= NEUTRAL - 1.0  # not blue
    assert moved[1] >= NEUTRAL - 1.0  # not green
    rgb = cv2.cvtColor(np.clip(moved + 0.5, 0, 255).astype(np.uint8)[None, None], cv2.COLOR_LAB2RGB)[0, 0]
    assert int(rgb[2]) <= int(rgb[0]) + 8  # blue does not dominate red in the result


@given(  # skin chroma pairs whose ratio stays inside the gain's range (0.25 to 3)
    a_s=st.floats(136, 160), b_s=st.floats(140, 175), a_t=st.floats(136, 152), b_t=st.floats(140, 164),
    l_s=st.floats(60, 200), l_t=st.floats(60, 200),
)
def test_skin_mean_becomes_the_target_s_and_grey_stays_grey(a_s, b_s, a_t, b_t, l_s, l_t):
    source, target = skin(l_s, a_s, b_s), skin(l_t, a_t, b_t)
    pixels = np.array([[[l_s, a_s, b_s], [100.0, NEUTRAL, NEUTRAL]]], np.float32)
    moved = transfer_color(pixels, source, target, 1.0)[0]
    np.testing.assert_allclose(moved[0], [l_t, a_t, b_t], atol=1e-3)  # the skin's mean goes across
    np.testing.assert_allclose(moved[1, 1:], [NEUTRAL, NEUTRAL], atol=1e-3)  # grey keeps no tint


def _y_of(l_star: float) -> float:
    """CIE relative luminance of a lightness (above the formula's linear toe)."""
    return ((l_star + 16.0) / 116.0) ** 3


@given(
    l_s=st.floats(100, 230), l_t=st.floats(100, 230), share=st.floats(0.2, 0.9),
    spread_s=st.floats(3, 40), spread_t=st.floats(3, 40),
)
def test_a_feature_keeps_its_share_of_the_skin_s_luminance_under_the_target_s_light(
    l_s, l_t, share, spread_s, spread_t
):
    # oracle: CIE L*. A feature reflecting ``share`` of the skin's light in the photo, lit as the
    # target's skin is lit (its luminance times the skins' luminance ratio), whatever the spread of
    # either skin's lightness (a spread is folds and shading, not how light the skin is)
    assume((l_t + 40.8) / (l_s + 40.8) <= 1.4)  # inside the contrast change allowed
    to_star = 100.0 / 255.0
    source, target = skin(l_s, 140, 150, spread_s), skin(l_t, 140, 150, spread_t)
    feature_star = 116.0 * np.cbrt(share * _y_of(l_s * to_star)) - 16.0
    want = 116.0 * np.cbrt(share * _y_of(l_t * to_star)) - 16.0
    pixel = np.array([[[feature_star / to_star, 140.0, 150.0]]], np.float32)
    got = transfer_color(pixel, source, target, 1.0)[0, 0, 0] * to_star
    assert abs(got - want) < 0.05


@given(  # a fair source skin onto warmer or paler targets (gains from about 0.4 to 3)
    a_s=st.floats(134, 146), b_s=st.floats(136, 156), a_t=st.floats(134, 160), b_t=st.floats(136, 170),
    flush=st.floats(0.5, 30), lower=st.floats(0.0, 1.0),
)
def test_what_is_redder_than_the_source_skin_is_never_made_redder_than_that_over_the_target(
    a_s, b_s, a_t, b_t, flush, lower
):
    # a rosy cheek, a red nose, lips: ``flush`` more chroma than the source's skin; on the target
    # they stand at most that much above the target's skin (a gain above 1 made the bundled
    # astronaut's nose and cheeks pink on warm targets), and saturation keeps its order
    source, target = skin(150, a_s, b_s), skin(150, a_t, b_t)
    tinted = np.array([[[150.0, a_s + flush, b_s + flush],
                        [150.0, a_s + flush / 2, b_s + flush / 2],
                        [150.0, NEUTRAL + lower * (a_s - NEUTRAL), NEUTRAL + lower * (b_s - NEUTRAL)]]],
                      np.float32)
    moved = transfer_color(tinted, source, target, 1.0)[0]
    excess = moved[0, 1:] - target.mean[1:]
    assert np.all(excess <= flush + 1e-3) and np.all(excess >= -1e-3)
    assert np.all(moved[0, 1:] >= moved[1, 1:] - 1e-3) and np.all(moved[1, 1:] >= moved[2, 1:] - 1e-3)
    # between grey and the skin's mean the gain still holds: grey stays grey, the mean goes across
    assert np.all(moved[2, 1:] <= target.mean[1:] + 1e-3) and np.all(moved[2, 1:] >= NEUTRAL - 1e-3)


def test_a_grey_source_skin_still_takes_the_target_s_mean_chroma():
    # a black-and-white source photo: chroma cannot be scaled up from zero, the remainder is added
    source, target = skin(150, NEUTRAL + 0.5, NEUTRAL), skin(150, 145.0, 150.0)
    moved = transfer_color(source.mean[None, None].copy(), source, target, 1.0)[0, 0]
    np.testing.assert_allclose(moved, target.mean, atol=1e-3)


def test_strength_zero_changes_nothing_and_half_goes_half_way():
    source, target = skin(120, 150, 160), skin(160, 140, 145)
    rng = np.random.default_rng(0)
    lab = rng.uniform(0, 255, (8, 8, 3)).astype(np.float32)
    np.testing.assert_allclose(transfer_color(lab, source, target, 0.0), lab)
    full = transfer_color(lab, source, target, 1.0)
    np.testing.assert_allclose(transfer_color(lab, source, target, 0.5), (lab + full) / 2, atol=1e-3)


def _features(contrast: float, skin_noise: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A 160x160 RGB "face": dark eyes, brows and lips on skin (with ``skin_noise`` grey levels of
    pore-like texture), and the features' mask. Edges are sharp steps."""
    rng = np.random.default_rng(seed)
    grey = np.full((160, 160), 170.0) + rng.normal(0.0, skin_noise, (160, 160))
    mask = np.zeros((160, 160), np.uint8)
    for centre in ((55, 65), (105, 65)):
        cv2.ellipse(mask, centre, (16, 8), 0, 0, 360, 255, -1)  # eyes
        cv2.line(mask, (centre[0] - 18, 45), (centre[0] + 18, 43), 255, 5)  # brows
    cv2.ellipse(mask, (80, 118), (26, 9), 0, 0, 360, 255, -1)  # lips
    grey[mask > 0] -= contrast
    rgb = np.repeat(np.clip(grey, 0, 255)[..., None], 3, axis=2).astype(np.uint8)
    on = cv2.dilate(mask, np.ones((9, 9), np.uint8)) > 0  # the features and their edges
    return rgb, on


def test_a_sharp_face_on_a_sharp_smooth_skinned_target_is_not_blurred():
    # the source shows pores, the target (a compressed video, say) has smooth skin and half the
    # contrast, but both have sharp edges: nothing to match, so the face is left exactly as it is
    face, on = _features(contrast=100.0, skin_noise=6.0)
    target, _ = _features(contrast=50.0, skin_noise=0.0, seed=1)
    assert np.array_equal(match_sharpness(face, target, on), face)


def test_a_face_on_a_blurred_target_gets_about_the_target_s_blur():
    # the target is the same kind of face blurred by sigma 2: the face gets the blur step nearest 2
    face, on = _features(contrast=100.0, skin_noise=3.0)
    sharp_target, _ = _features(contrast=60.0, skin_noise=0.0, seed=1)
    target = cv2.GaussianBlur(sharp_target, (0, 0), 2.0)
    out = match_sharpness(face, target, on)
    candidates = {s: cv2.GaussianBlur(face, (0, 0), s) for s in (0.9, 1.3, 1.8, 2.5, 3.5)}
    chosen = [s for s, blurred in candidates.items() if np.array_equal(out, blurred)]
    assert chosen and chosen[0] in (1.8, 2.5)


def _chosen_blur(out: np.ndarray, face: np.ndarray) -> float:
    """The Gaussian sigma that turns ``face`` into ``out`` (0 when unchanged), to 0.05 px."""
    if np.array_equal(out, face):
        return 0.0
    sigmas = np.arange(0.1, 6.0, 0.05)
    errors = [np.abs(cv2.GaussianBlur(face, (0, 0), s).astype(np.int16) - out).mean() for s in sigmas]
    return float(sigmas[int(np.argmin(errors))])


def test_a_strongly_blurred_noisy_target_still_gets_a_blurred_face():
    # the bench's blurred GIF frames: a face blurred by sigma 5, then noise (a GIF's dithering, a
    # dark frame's grain) that puts fine detail back; the finest detail alone reads it as sharp
    face, on = _features(contrast=100.0, skin_noise=3.0)
    sharp_target, _ = _features(contrast=60.0, skin_noise=0.0, seed=1)
    rng = np.random.default_rng(2)
    blurred = cv2.GaussianBlur(sharp_target, (0, 0), 5.0).astype(np.float32)
    noisy = np.clip(blurred + rng.normal(0.0, 3.0, blurred.shape[:2])[..., None], 0, 255).astype(np.uint8)
    assert _chosen_blur(match_sharpness(face, noisy, on), face) >= 3.5
    # the same noise on a sharp, under-exposed target (x0.35, as the bench's dark frames) is no blur
    dark = np.clip(sharp_target * 0.35 + rng.normal(0.0, 2.0, sharp_target.shape[:2])[..., None], 0, 255)
    assert _chosen_blur(match_sharpness(face, dark.astype(np.uint8), on), face) <= 1.3
