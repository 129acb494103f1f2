"""The classic engine's mesh warp: batched affines equal OpenCV's, triangles land where they should."""

from __future__ import annotations

import cv2
import numpy as np

from frameswap.engines.classic.mesh import _inverse_affines, triangulate, warp_mesh


def test_batched_inverse_affines_equal_opencvs_one_by_one():
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 200, (30, 2))
    dst = src * 1.3 + rng.normal(0, 4, src.shape) + (15, -7)
    tris = triangulate(dst)
    mats = _inverse_affines(src, dst, tris)
    for k, tri in enumerate(tris):
        ref = cv2.getAffineTransform(dst[tri].astype(np.float32), src[tri].astype(np.float32))
        np.testing.assert_allclose(mats[k], ref, atol=1e-3)


def test_a_pure_shift_moves_the_picture_and_keeps_extra_channels():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 255, (80, 80, 4), dtype=np.uint8)
    src = np.array([[10, 10], [60, 12], [58, 65], [12, 60], [35, 35]], np.float64)
    dst = src + np.array([7.0, 5.0])
    patch, covered, (x0, y0, _, _) = warp_mesh(image, src, dst, triangulate(dst), (90, 90))
    assert patch.shape[2] == 4  # RGBA in, RGBA out
    inside = covered > 0
    ys, xs = np.nonzero(inside)
    # every covered destination pixel took the source pixel 7 right / 5 down of it
    np.testing.assert_array_equal(patch[ys, xs], image[ys + y0 - 5, xs + x0 - 7])
