"""The classic engine's mesh warp: batched affines equal OpenCV's, triangles land where they should."""

from __future__ import annotations

import cv2
import numpy as np

from frameswap.engines.classic.mesh import _inverse_affines, minified, triangulate, warp_mesh


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


def _grid(step: float, n: int = 5) -> np.ndarray:
    return np.array([[x, y] for y in np.linspace(0, step, n) for x in np.linspace(0, step, n)], np.float64)


def test_a_texture_drawn_four_times_smaller_is_shrunk_first_so_fine_lines_do_not_alias():
    # 1-px black and white lines: drawn at a quarter of their size they should read as flat grey
    image = np.zeros((240, 240, 3), np.uint8)
    image[:, ::2] = 255
    src, dst = _grid(230) + 5, _grid(230) / 4 + 2
    tris = triangulate(dst)
    direct, covered, _ = warp_mesh(image, src, dst, tris, (64, 64))
    texture, points = minified(image, src, dst)
    shrunk, covered2, _ = warp_mesh(texture, points, dst, tris, (64, 64))
    inside = (covered > 0) & (covered2 > 0)
    inside[:3], inside[-3:], inside[:, :3], inside[:, -3:] = False, False, False, False
    assert texture.shape[:2] == (60, 60)
    # bilinear sampling lands on every 4th line only: the whole patch reads as one of the colours
    assert float(np.abs(direct[inside] - 127.5).mean()) > 100
    assert float(np.abs(shrunk[inside] - 127.5).mean()) < 3


def test_shrinking_keeps_every_point_on_its_pixel():
    # a linear ramp is unchanged by area averaging, so the warp through the shrunk texture must
    # equal the direct warp wherever the points were rescaled right (pixel centres included)
    ys, xs = np.mgrid[0:200, 0:200].astype(np.float32)
    image = np.dstack([xs, ys, (xs + ys) / 2]).astype(np.float32)
    src = _grid(180) + 10
    dst = _grid(180) * np.array([0.45, 0.3]) + 4
    tris = triangulate(dst)
    direct, covered, _ = warp_mesh(image, src, dst, tris, (70, 70))
    texture, points = minified(image, src, dst)
    assert texture.shape[1] == 90  # the less shrunk axis (x, 0.45) sets the scale
    shrunk, _, _ = warp_mesh(texture, points, dst, tris, (70, 70))
    inside = covered > 0
    np.testing.assert_allclose(shrunk[inside], direct[inside], atol=0.05)


def test_a_texture_drawn_larger_is_left_as_it_is():
    image = np.arange(50 * 40 * 3, dtype=np.uint8).reshape(50, 40, 3)
    src = _grid(30) + 5
    texture, points = minified(image, src, src * 1.5)
    assert texture is image and np.array_equal(points, src)
