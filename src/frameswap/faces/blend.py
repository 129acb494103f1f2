"""Colour transfer and paste-back for the classic engine: Lab statistics, Poisson and multi-band.

All functions work on small regions of interest and return new arrays; callers composite the
result back with a mask whose support is the only place a frame may change.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

BlendMode = Literal["seamless", "multiband"]


def color_transfer_lab(
    src: np.ndarray, src_mask: np.ndarray, ref: np.ndarray, ref_mask: np.ndarray, strength: float = 1.0
) -> np.ndarray:
    """``src`` (RGB) with its Lab mean/std inside ``src_mask`` moved towards ``ref``'s in ``ref_mask``.

    Reinhard et al. (2001) colour transfer. ``strength`` 0 keeps ``src``, 1 matches fully; the std
    ratio is clipped to [0.5, 2] so a flat region cannot blow the contrast up.
    """
    s_on, r_on = src_mask > 0, ref_mask > 0
    if strength <= 0 or s_on.sum() < 16 or r_on.sum() < 16:
        return src.copy()
    s_lab = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    r_lab = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    s_mean, s_std = s_lab[s_on].mean(axis=0), s_lab[s_on].std(axis=0) + 1e-3
    r_mean, r_std = r_lab[r_on].mean(axis=0), r_lab[r_on].std(axis=0) + 1e-3
    ratio = np.clip(r_std / s_std, 0.5, 2.0)
    moved = (s_lab - s_mean) * ratio + r_mean
    out = s_lab + strength * (moved - s_lab)
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def feather(mask: np.ndarray, radius: int) -> np.ndarray:
    """A float32 alpha in [0, 1] that ramps from 0 at the mask's edge to 1 ``radius`` pixels inside.

    The ramp lies entirely INSIDE the mask (distance transform), so alpha is exactly 0 outside it:
    this is what keeps pixels outside the face masks unchanged.
    """
    on = (mask > 0).astype(np.uint8)
    if radius <= 0:
        return on.astype(np.float32)
    dist = cv2.distanceTransform(on, cv2.DIST_L2, 5)
    return np.clip(dist / float(radius), 0.0, 1.0).astype(np.float32)


def seamless(dst: np.ndarray, src: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blending (``cv2.seamlessClone``, NORMAL_CLONE) of same-size ``src`` into ``dst``.

    The mask is cleared on a 1-pixel frame because OpenCV's solver needs a border around it; the
    returned image equals ``dst`` wherever the mask is off.
    """
    m = (mask > 0).astype(np.uint8) * 255
    m[0, :] = m[-1, :] = 0
    m[:, 0] = m[:, -1] = 0
    ys, xs = np.nonzero(m)
    if len(xs) < 9:
        return dst.copy()
    x, y = int(xs.min()), int(ys.min())
    w, h = int(xs.max()) - x + 1, int(ys.max()) - y + 1
    centre = (x + w // 2, y + h // 2)
    src_bgr, dst_bgr = np.ascontiguousarray(src[:, :, ::-1]), np.ascontiguousarray(dst[:, :, ::-1])
    out = cv2.seamlessClone(src_bgr, dst_bgr, m, centre, cv2.NORMAL_CLONE)
    return np.ascontiguousarray(out[:, :, ::-1])


def multiband(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray, levels: int = 5) -> np.ndarray:
    """Laplacian-pyramid blending (Burt & Adelson 1983) of ``src`` over ``dst`` with weight ``alpha``.

    Low frequencies (shading, skin tone) mix over a wide band, fine detail over a narrow one, so
    the seam disappears without smearing the eyes and mouth.
    """
    h, w = dst.shape[:2]
    levels = max(1, min(levels, int(np.log2(max(2, min(h, w)))) - 2))
    a = alpha.astype(np.float32)
    gs, gd, ga = [src.astype(np.float32)], [dst.astype(np.float32)], [a]
    for _ in range(levels):
        gs.append(cv2.pyrDown(gs[-1]))
        gd.append(cv2.pyrDown(gd[-1]))
        ga.append(cv2.pyrDown(ga[-1]))
    out = gs[-1] * ga[-1][..., None] + gd[-1] * (1.0 - ga[-1][..., None])
    for k in range(levels - 1, -1, -1):
        size = (gs[k].shape[1], gs[k].shape[0])
        ls = gs[k] - cv2.pyrUp(gs[k + 1], dstsize=size)
        ld = gd[k] - cv2.pyrUp(gd[k + 1], dstsize=size)
        band = ls * ga[k][..., None] + ld * (1.0 - ga[k][..., None])
        out = cv2.pyrUp(out, dstsize=size) + band
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def composite(dst: np.ndarray, src: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``dst`` with ``src`` laid over by ``alpha``; pixels where alpha is 0 are copied bit-exactly."""
    out = dst.copy()
    on = alpha > 0
    a = alpha[on][:, None]
    mixed = src[on].astype(np.float32) * a + dst[on].astype(np.float32) * (1.0 - a)
    out[on] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
    return out
