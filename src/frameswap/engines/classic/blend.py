"""Colour, lighting and paste-back for the classic engine: skin statistics and a feathered alpha.

Why not Poisson (``cv2.seamlessClone``), the engine's first blend: it solves for the face with the
frame's pixels around the mask as boundary values, so whatever surrounds the face (a green
screen, a dark coat, the sky) diffuses into the skin, and it does so differently on every frame
(brightness pumping). Here the new face is instead given the target's colour by statistics of
skin pixels only (Reinhard et al. 2001 in Lab, from the two faces' skin models), the target's
lighting by its low-frequency lightness inside the face (a masked blur, so nothing outside the
face is sampled), and is laid in with an alpha that ramps up inside the face contour. Nothing
outside the face can bleed in, because nothing outside the face is ever read.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from frameswap.engines.classic.regions import SkinModel

_CONTRAST_RATIO = (0.5, 1.4)  # lightness contrast change allowed (a dark photo's noise is not amplified)
_L_OFFSET = np.float32(16.0 * 255.0 / 100.0)  # CIE L*'s offset (L* = 116 Y^(1/3) - 16) on OpenCV's 8-bit L
_NEUTRAL = np.float32(128.0)  # a and b of grey in OpenCV's 8-bit Lab
_CHROMA_GAIN = (0.25, 3.0)  # chroma scaling allowed; beyond it an additive remainder makes up the mean


def transfer_color(lab: np.ndarray, source: SkinModel, target: SkinModel, strength: float) -> np.ndarray:
    """``lab`` (float32, OpenCV's 8-bit Lab scale) moved from the ``source`` skin statistics to the
    ``target`` ones.

    Lightness: its mean moves fully at ``strength`` 1 (a dark face stays dark), and its contrast
    scales as a surface's would when the light on it changes. A feature reflects a share of what
    the skin around it reflects, so its luminance ratio to the skin stays; since
    L* = 116 Y^(1/3) - 16, a given ratio spans (L* + 16) / 3 per unit of log luminance, and the
    contrast scales by the two skins' (L* + 16) ratio (within ``_CONTRAST_RATIO``). The lighting
    across the face is the target's anyway (``match_shading``). Why not the ratio of the skins'
    lightness spreads (Reinhard's, the engine's first rule): a spread is mostly folds, sockets and
    shading, which differ from photo to photo (the bundled astronaut's skin spreads 24 levels, a
    flat-lit GIF face's 9), so faces lost half their contrast and read washed out, or got a harsh
    one (Obama's creases on a dim target). On the sample GIF 43 of 48 three-quarter heads read
    nearer the photo than the person they replaced; with this rule 48 of 48.

    Chroma (a, b), per channel: from neutral grey (128) to the source skin's mean, a gain, so the
    skin's mean chroma becomes the target's while neutral features (brows, lashes, the whites of
    the eyes, teeth) stay neutral; past the skin's mean (a flushed cheek, a red nose, lips), the
    source's excess over its skin is added to the target's skin as it is, or shrunk with the
    gain when the gain is below 1, never amplified. Why not Reinhard's shift on chroma too: it
    moves every pixel by the difference of the two skins, so whatever is less saturated than a
    tanned source's skin lands past neutral on a pale target, and brows and eye sockets turn
    blue-violet. Why not the gain all the way: a gain of 2.3 (the bundled astronaut's fair skin
    on a warm-lit talking head) made her rosy nose and cheeks 2.3 times as red over the target's
    skin, and the new faces came out pink (face centres 7.7 a* redder than the target's). Where
    the gain would leave ``_CHROMA_GAIN`` (a near-grey or odd source skin), an additive remainder
    still brings the skin's mean chroma to the target's.
    """
    ratio = float(np.clip((target.mean[0] + _L_OFFSET) / (source.mean[0] + _L_OFFSET), *_CONTRAST_RATIO))
    s_chroma = np.asarray(source.mean[1:], np.float32) - _NEUTRAL
    t_chroma = np.asarray(target.mean[1:], np.float32) - _NEUTRAL
    safe = np.where(np.abs(s_chroma) > 1e-3, s_chroma, np.float32(1e-3))
    gain = np.clip(t_chroma / safe, *_CHROMA_GAIN).astype(np.float32)
    offset = t_chroma - s_chroma * gain
    moved = np.empty_like(lab, dtype=np.float32)
    moved[..., 0] = (lab[..., 0] - source.mean[0]) * ratio + target.mean[0]
    chroma = lab[..., 1:] - _NEUTRAL
    scaled = chroma * gain + offset
    # past the skin's mean, on its side of neutral: the excess at a gain of at most 1
    excess = chroma - s_chroma
    beyond = (excess * np.sign(s_chroma)) > 0
    kept = t_chroma + excess * np.minimum(gain, np.float32(1.0))
    moved[..., 1:] = np.where(beyond, kept, scaled) + _NEUTRAL
    return lab + strength * (moved - lab)


def masked_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``values`` that only averages where ``weight`` > 0 (normalised convolution)."""
    w = weight.astype(np.float32)
    num = cv2.GaussianBlur(values * w, (0, 0), sigma)
    den = cv2.GaussianBlur(w, (0, 0), sigma)
    return num / np.maximum(den, 1e-3)


def match_shading(
    light: np.ndarray, light_mask: np.ndarray, ref: np.ndarray, ref_mask: np.ndarray, sigma: float
) -> np.ndarray:
    """The low-frequency difference (ref - light) of two lightness maps, each sampled on its mask.

    Added to the new face's lightness it carries the target's lighting (one cheek in shadow, a
    highlight on the forehead) while the source's fine detail stays.
    """
    return masked_blur(ref, ref_mask, sigma) - masked_blur(light, light_mask, sigma)


_BLUR_STEPS = (0.3, 0.45, 0.6, 0.9, 1.3, 1.8, 2.5, 3.5, 5.0)  # Gaussian sigmas tried, in working-size pixels


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _detail(grey: np.ndarray, sigma: float) -> np.ndarray:
    """Per pixel, the detail finer than ``sigma`` (``|x - blur_sigma(x)|``)."""
    return np.abs(grey - cv2.GaussianBlur(grey, (0, 0), sigma))


def _edges(coarse: np.ndarray, on: np.ndarray) -> np.ndarray:
    """Where ``on`` holds the strongest detail up to a few pixels (``coarse``: ``_detail`` at 3):
    the features' edges, not the skin between them (bool mask)."""
    return on & (coarse >= np.percentile(coarse[on], 70))


def _sharpness(grey: np.ndarray, edges: np.ndarray, coarse: np.ndarray | None = None) -> float:
    """How sharp the edges of a grey image are at ``edges``, whatever their contrast.

    The finest detail (``|x - blur_1(x)|``) as a share of all detail up to a few pixels
    (``|x - blur_3(x)|``, passed as ``coarse`` when already at hand): a step edge keeps the same
    share at any contrast, a blurred one loses its finest part first. Read on the features' edges
    (eyes, brows, lips), which every face has, never on the skin: how much texture skin shows
    differs from person to person (pores, make-up, a compressed video's smoothing), and reading
    that as blur softened whole faces.
    """
    coarse = _detail(grey, 3.0) if coarse is None else coarse
    return float(_detail(grey, 1.0)[edges].mean() / max(float(coarse[edges].mean()), 1e-3))


# The mid band: detail up to 3 px as a share of detail up to 8 px, on the features' edges. The
# finest detail cannot tell a strongly blurred frame from a sharp one once noise is in it: a GIF's
# dithering or a dark frame's grain adds fine detail of its own, and on the blurred frames of the
# bench's blurred/dark GIF (sigma 5) the target read as sharp as the sharp frames (0.39 against
# 0.36). Noise barely reaches detail at 3 and 8 px once the image is lightly smoothed, so this
# share still falls with the blur there while an under-exposed frame keeps it (figures below).
_BAND = (3.0, 8.0)
# read on the image smoothed by this much first: it takes most of a pixel's noise and little of
# the band (a face blurred by 5 with noise of 3 grey levels reads 0.29 after it, 0.25 without the
# noise; 0.48 before it)
_BAND_DENOISE = 1.0
# The target's share over the face's: 0.66-1.34 on every face of the LivePortrait heads, the
# reaction GIFs, the samples and the bench's sharp and dark frames (faces differ in their middle
# detail, so this is no fine measure of blur); 0.43-0.46 on the blurred frames, 0.40-0.75 on the
# Hamilton clip's out-of-focus faces (an audience in the dark, stage light). Below the first
# figure the band's blur is taken in part, fully below the second.
_BAND_BLURRED = (0.65, 0.55)
_BAND_SIDE = 72  # pixels across the features' crop the band is read at
# the band is read only where the target's edges keep less than this share of the face's detail
# up to 3 px: 0.10-0.2 on the bench's blurred frames and the dark audience face, 0.53 or more on
# every face of the sharp clips (so they pay nothing for it)
_BAND_CONTRAST = 0.5


def _band_share(grey: np.ndarray, edges: np.ndarray, scale: float = 1.0) -> float:
    """The mid band's share (``_BAND``) at ``edges`` of ``grey``, an image ``scale`` times the
    working size (the scales of the band shrink with it)."""
    smooth = cv2.GaussianBlur(grey, (0, 0), _BAND_DENOISE * scale)
    wide = float(_detail(smooth, _BAND[1] * scale)[edges].mean())
    return float(_detail(smooth, _BAND[0] * scale)[edges].mean()) / max(wide, 1e-3)


def _nearest_step(measure: Callable[[float], float], have: float, want: float) -> float:
    """The blur step whose ``measure`` lies nearest ``want`` (in ratio), ``measure`` falling as the
    blur grows: bisection for the first step at or under it, then it or the step before."""
    measured: dict[float, float] = {0.0: have}

    def at(sigma: float) -> float:
        if sigma not in measured:
            measured[sigma] = measure(sigma)
        return measured[sigma]

    lo, hi = 0, len(_BLUR_STEPS) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if at(_BLUR_STEPS[mid]) <= want:
            hi = mid
        else:
            lo = mid + 1
    candidates = [_BLUR_STEPS[lo], _BLUR_STEPS[lo - 1] if lo > 0 else 0.0]
    return min(candidates, key=lambda sigma: abs(np.log(max(at(sigma), 1e-6) / want)))


def _crop(on: np.ndarray, margin: int) -> tuple[slice, slice]:
    ys, xs = np.nonzero(on)
    return (
        slice(max(0, int(ys.min()) - margin), int(ys.max()) + margin + 1),
        slice(max(0, int(xs.min()) - margin), int(xs.max()) + margin + 1),
    )


def _band_blur(grey_face: np.ndarray, grey_target: np.ndarray, on: np.ndarray) -> float:
    """The blur the mid band asks for (on the grey face and target), weighed by how clearly the
    target is blurred (0: not).

    Read on a copy about ``_BAND_SIDE`` pixels across (at most half the working size): the band
    is coarse, and at the working size it cost 1.4 ms a face of the 1280x720 group.
    """
    box = _crop(on, 26)  # beyond the band's widest blur (8 px, 3 sigma) plus a step's
    height, width = on[box].shape
    scale = min(0.5, _BAND_SIDE / max(height, width))

    def small(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)

    grey_t, grey_f = small(grey_target[box]), small(grey_face[box])
    mask = cv2.resize(on[box].astype(np.uint8), grey_t.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    if not mask.any():
        return 0.0
    edges_t = _edges(_detail(grey_t, 3.0 * scale), mask)
    edges_f = _edges(_detail(grey_f, 3.0 * scale), mask)
    want, have = _band_share(grey_t, edges_t, scale), _band_share(grey_f, edges_f, scale)
    full, none = _BAND_BLURRED[1] * have, _BAND_BLURRED[0] * have
    weight = float(np.clip((none - want) / (none - full), 0.0, 1.0))
    if weight <= 0:
        return 0.0

    def share(sigma: float) -> float:
        return _band_share(cv2.GaussianBlur(grey_f, (0, 0), sigma * scale), edges_f, scale)

    return weight * _nearest_step(share, have, max(want, 1e-3))


def match_sharpness(face: np.ndarray, target: np.ndarray, on: np.ndarray) -> np.ndarray:
    """``face`` (RGB) blurred until its edges where ``on`` (the features) are about as sharp as
    ``target``'s there.

    A sharp photo pasted onto a motion-blurred or out-of-focus frame is the first thing a viewer
    sees; the source photo is usually the sharper of the two, so only blurring is ever needed.
    The search runs on grey crops around ``on`` (a blur of the grey image is the grey of the
    blurred one), and the chosen blur is applied to the colour face once. Two readings: the finest
    detail's share (``_sharpness``), which sees slight blur, and the mid band's, which sees
    strong blur through noise; the larger blur wins.
    """
    if int(on.sum()) < 64:
        return face
    box = _crop(on, 12)  # beyond the widest blur's reach on the measure (3 px) plus the steps' own
    mask = on[box]
    grey_target, grey_face = _grey(target), _grey(face)  # both readings crop these
    grey_t, grey_f = grey_target[box], grey_face[box]
    coarse_t, coarse_f = _detail(grey_t, 3.0), _detail(grey_f, 3.0)
    edges_t = _edges(coarse_t, mask)
    want = max(_sharpness(grey_t, edges_t, coarse_t), 1e-3)
    edges = _edges(coarse_f, mask)  # the face's edges stay where they are as it is blurred
    have = _sharpness(grey_f, edges, coarse_f)

    def sharpness(sigma: float) -> float:
        return _sharpness(cv2.GaussianBlur(grey_f, (0, 0), sigma), edges)

    best = _nearest_step(sharpness, have, want) if have > 1.1 * want else 0.0
    # strong blur takes most of the features' detail up to 3 px: where the target keeps half the
    # face's, it is not strongly blurred and the band is not read (most faces: it costs 1 ms)
    if float(coarse_t[edges_t].mean()) < _BAND_CONTRAST * float(coarse_f[edges].mean()):
        best = max(best, _band_blur(grey_face, grey_target, on))
    return cv2.GaussianBlur(face, (0, 0), best) if best > 0 else face


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """A float32 alpha in [0, 1] that ramps from 0 at the mask's edge to 1 ``radius`` pixels inside.

    The ramp lies entirely INSIDE the mask (distance transform), so alpha is exactly 0 outside it:
    this is what keeps pixels outside the face masks unchanged.
    """
    on = (mask > 0).astype(np.uint8)
    if radius <= 0:
        return on.astype(np.float32)
    dist = cv2.distanceTransform(on, cv2.DIST_L2, 5)
    return np.clip(dist / float(radius), 0.0, 1.0).astype(np.float32)


def composite(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``dst`` with ``src`` laid over by ``alpha``; pixels where alpha is 0 are copied bit-exactly."""
    out = dst.copy()
    on = alpha > 0
    a = alpha[on][:, None]
    mixed = src[on].astype(np.float32) * a + dst[on].astype(np.float32) * (1.0 - a)
    out[on] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out
