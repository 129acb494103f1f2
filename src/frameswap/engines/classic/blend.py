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

import cv2
import numpy as np

from frameswap.engines.classic.regions import SkinModel

_STD_RATIO = (0.5, 1.4)  # contrast change allowed by the colour transfer (dim, flat frames need 0.5)
_NEUTRAL = np.float32(128.0)  # a and b of grey in OpenCV's 8-bit Lab
_CHROMA_GAIN = (0.25, 3.0)  # chroma scaling allowed; beyond it an additive remainder makes up the mean


def transfer_color(lab: np.ndarray, source: SkinModel, target: SkinModel, strength: float) -> np.ndarray:
    """``lab`` (float32, OpenCV's 8-bit Lab scale) moved from the ``source`` skin statistics to the
    ``target`` ones.

    Lightness: its mean moves fully at ``strength`` 1 (a dark face stays dark), its contrast within
    ``_STD_RATIO`` only, so noise is not amplified. Chroma (a, b): a gain about neutral grey (128),
    so the source skin's mean chroma becomes the target's while neutral features (brows, lashes,
    the whites of the eyes, teeth) stay neutral. Why not Reinhard's shift on chroma too: it moves
    every pixel by the difference of the two skins, so whatever is less saturated than a tanned
    source's skin lands past neutral on a pale target, and brows and eye sockets turn blue-violet.
    Where the gain would leave ``_CHROMA_GAIN`` (a near-grey or odd source skin), an additive
    remainder still brings the skin's mean chroma to the target's.
    """
    s_std = np.maximum(source.std, np.asarray(SkinModel.MIN_STD, np.float32))
    t_std = np.maximum(target.std, np.asarray(SkinModel.MIN_STD, np.float32))
    ratio = float(np.clip(t_std[0] / s_std[0], *_STD_RATIO))
    s_chroma = np.asarray(source.mean[1:], np.float32) - _NEUTRAL
    t_chroma = np.asarray(target.mean[1:], np.float32) - _NEUTRAL
    safe = np.where(np.abs(s_chroma) > 1e-3, s_chroma, np.float32(1e-3))
    gain = np.clip(t_chroma / safe, *_CHROMA_GAIN).astype(np.float32)
    offset = t_chroma - s_chroma * gain
    moved = np.empty_like(lab, dtype=np.float32)
    moved[..., 0] = (lab[..., 0] - source.mean[0]) * ratio + target.mean[0]
    moved[..., 1:] = (lab[..., 1:] - _NEUTRAL) * gain + offset + _NEUTRAL
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


def match_sharpness(face: np.ndarray, target: np.ndarray, on: np.ndarray) -> np.ndarray:
    """``face`` (RGB) blurred until its edges where ``on`` (the features) are about as sharp as
    ``target``'s there.

    A sharp photo pasted onto a motion-blurred or out-of-focus frame is the first thing a viewer
    sees; the source photo is usually the sharper of the two, so only blurring is ever needed.
    The search runs on grey crops around ``on`` (a blur of the grey image is the grey of the
    blurred one), and the chosen blur is applied to the colour face once.
    """
    if int(on.sum()) < 64:
        return face
    ys, xs = np.nonzero(on)
    margin = 12  # beyond the widest blur's reach on the measure (3 px) plus the steps' own
    y0, y1 = max(0, int(ys.min()) - margin), int(ys.max()) + margin + 1
    x0, x1 = max(0, int(xs.min()) - margin), int(xs.max()) + margin + 1
    mask = on[y0:y1, x0:x1]
    grey_t, grey_f = _grey(target[y0:y1, x0:x1]), _grey(face[y0:y1, x0:x1])
    coarse_t, coarse_f = _detail(grey_t, 3.0), _detail(grey_f, 3.0)
    want = max(_sharpness(grey_t, _edges(coarse_t, mask), coarse_t), 1e-3)
    edges = _edges(coarse_f, mask)  # the face's edges stay where they are as it is blurred
    have = _sharpness(grey_f, edges, coarse_f)
    if have <= 1.1 * want:
        return face
    # sharpness falls as the blur grows: bisect the steps for the first at or under the target's,
    # then take whichever of it and the step before lies nearer (in ratio)
    measured: dict[float, float] = {0.0: have}

    def at(sigma: float) -> float:
        if sigma not in measured:
            measured[sigma] = _sharpness(cv2.GaussianBlur(grey_f, (0, 0), sigma), edges)
        return measured[sigma]

    lo, hi = 0, len(_BLUR_STEPS) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if at(_BLUR_STEPS[mid]) <= want:
            hi = mid
        else:
            lo = mid + 1
    candidates = [_BLUR_STEPS[lo], _BLUR_STEPS[lo - 1] if lo > 0 else 0.0]
    best = min(candidates, key=lambda sigma: abs(np.log(max(at(sigma), 1e-6) / want)))
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
