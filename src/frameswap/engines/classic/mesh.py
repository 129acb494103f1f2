"""Landmark meshes: extend the 68 iBUG points, triangulate, and warp piecewise-affinely.

The classic engine moves a source face onto a target by mapping each triangle of a landmark mesh
with its own affine transform. The warp is done as ONE ``cv2.remap`` over the destination's
bounding box: a triangle-index raster tells each destination pixel which inverse affine to use,
which is faster and seam-free compared with warping triangles one by one. The triangles come
from the destination's shape with its lips redrawn as rings (``face_topology``).
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from frameswap.faces.geometry import estimate_similarity

BROWS = np.arange(17, 27)
# Points that define the pose of a face without depending much on expression or on the jaw:
# brows, nose bridge and tip, eyes.
POSE_POINTS = np.arange(17, 48)
FOREHEAD_RAISE = 0.12  # forehead points: brows raised by this fraction of the chin-to-eyes vector
# the lips' rings in ``face_topology``: the inner ring's size against the outer's, and the
# least height of the outer ring as a share of its width (a shut mouth is a line)
INNER_RING = 0.55
MIN_MOUTH_HEIGHT = 0.35
# the outer lip point each inner lip point (60-67) faces, as indexes into the outer lip (48-59)
INNER_FROM_OUTER = np.array([0, 2, 3, 4, 6, 8, 9, 10])


def extend_68(points: np.ndarray) -> np.ndarray:
    """The 68 points plus 10 forehead points above the brows (dlib stops at the brows).

    Without them the mesh ends at the brows and the old forehead/brow ridge of the target stays.
    """
    pts = np.asarray(points, dtype=np.float64)
    eyes_mid = pts[36:48].mean(axis=0)
    up = eyes_mid - pts[8]  # chin to eyes: "up" in the face's own frame, scaled by face size
    forehead = pts[BROWS] + FOREHEAD_RAISE * up
    return np.vstack([pts, forehead])


def align_shape(source: np.ndarray, target: np.ndarray, idx: np.ndarray = POSE_POINTS) -> np.ndarray:
    """``source`` landmarks moved by the similarity that best maps their ``idx`` points onto ``target``'s.

    This carries the source's proportions (eye spacing, nose length, jaw width) into the target's
    position, scale and in-plane rotation.
    """
    m = estimate_similarity(np.asarray(source)[idx], np.asarray(target)[idx])
    src = np.asarray(source, dtype=np.float64)
    return src @ m[:, :2].T + m[:, 2]


def face_topology(extended: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) over a face's 78 extended points, with its lips redrawn as two
    rings first (``_ring_mouth``), so all 20 lip points are corners of the mesh whatever the
    mouth does.

    On the points as they are, a shut mouth (the inner lips on one line) drops the coincident
    points from the mesh, and the photo's lips are warped by triangles that lost those corners. The
    triangles are taken from the target's shape (the destination), which a turned head
    compresses: taken once from the photo's frontal shape instead, they folded on three-quarter
    heads (7 points fewer of the 1280x720 group's faces nearer the source).
    """
    pts = np.asarray(extended, dtype=np.float64).copy()
    pts[48:68] = _ring_mouth(pts)
    return triangulate(pts)


def _ring_mouth(points: np.ndarray) -> np.ndarray:
    """The 20 lip points redrawn as two rings, in iBUG order: the outer lip (48-59) as it is, made
    at least ``MIN_MOUTH_HEIGHT`` of its width tall, and the inner lip (60-67) as the outer lip
    shrunk to ``INNER_RING`` of its size about its centre. The rings keep the face's own
    irregularity: drawn as exact ellipses, mirror-image points lie on common circles, where
    Delaunay's choice turns on rounding (measured: the same photo cropped elsewhere got other
    triangles)."""
    left, right = points[48], points[54]
    span = right - left
    width = max(float(np.linalg.norm(span)), 1e-6)
    down = np.array([-span[1], span[0]]) / width
    centre = (left + right) / 2
    outer = points[48:60] - centre
    across = outer @ down
    height = float(np.ptp(across))
    if height < 1e-6:  # a line: upper lip up, lower lip down, by the ring's height
        side = np.array([0, -1, -1, -1, -1, -1, 0, 1, 1, 1, 1, 1], dtype=np.float64)
        outer = outer + np.outer(side * MIN_MOUTH_HEIGHT * width / 2, down)
    elif height < MIN_MOUTH_HEIGHT * width:  # stretched across its middle line to that height
        spread = across - (across.max() + across.min()) / 2
        outer = outer + np.outer(spread * (MIN_MOUTH_HEIGHT * width / height - 1.0), down)
    inner = INNER_RING * outer[INNER_FROM_OUTER]
    return centre + np.vstack([outer, inner])


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) over ``points``, without degenerate (near zero-area) ones."""
    return without_flat(points, Delaunay(np.asarray(points, dtype=np.float64)).simplices)


def without_flat(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """``tris`` (T, 3) without the triangles that are near zero-area on ``points`` (a closed
    mouth's opening on a target: nothing to draw, and no affine to invert)."""
    p = np.asarray(points, dtype=np.float64)[tris]
    u, v = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    area = np.abs(u[:, 0] * v[:, 1] - u[:, 1] * v[:, 0]) / 2.0
    return np.asarray(tris)[area > 1e-3].astype(np.int32)


def _inverse_affines(src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Per triangle, the 2x3 affine mapping destination coordinates back to source coordinates.

    All triangles at once: with D the 3x3 matrix of a destination triangle's homogeneous corners
    and S the 2x3 of its source corners, the affine is S D^-1 (one batched inverse, no loop).
    """
    d = np.concatenate([dst_pts[tris], np.ones((len(tris), 3, 1))], axis=2).transpose(0, 2, 1)
    s = src_pts[tris].transpose(0, 2, 1)
    return s @ np.linalg.inv(d)


def minified(texture: np.ndarray, points: np.ndarray, drawn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``texture`` and its ``points`` shrunk by area averaging to the scale the mesh ``drawn``
    gives them (never enlarged), for ``warp_mesh``.

    Why: the warp is one bilinear ``cv2.remap``, which reads the 4 texels around each pixel's
    place; a face drawn at half its texture's size or less (the sample GIF's 40-60 px faces from
    a 100 px photo, any face from a 320 px texture at the 192 px working size) skips texels, and
    lashes, brows and lip lines alias into jagged noise. The sharpness match then reads that noise
    as detail and blurs the whole face to hide it. Shrinking first is the mipmap's answer, done at
    the exact scale (one resize of a small crop per face). The scale is the less shrunk of the two
    axes, so a turned head's squeezed half is not blurred for its other half's sake.
    """
    src, dst = np.asarray(points, dtype=np.float64), np.asarray(drawn, dtype=np.float64)
    scale = float((np.ptp(dst, axis=0) / np.maximum(np.ptp(src, axis=0), 1e-6)).max())
    if scale >= 1.0:
        return texture, src
    h, w = texture.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    factors = np.array([size[0] / w, size[1] / h])
    # pixel centres: x in the resized image is (x + 0.5) * factor - 0.5
    return cv2.resize(texture, size, interpolation=cv2.INTER_AREA), (src + 0.5) * factors - 0.5


def warp_mesh(
    src_image: np.ndarray,
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    tris: np.ndarray,
    dst_shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Warp ``src_image`` so that each triangle ``src_pts[tri]`` lands on ``dst_pts[tri]``.

    ``src_image`` may have any number of channels (the classic engine warps its texture and its
    validity mask in one remap). Returns ``(patch, covered, (x0, y0, x1, y1))``: the warped pixels
    and a uint8 coverage mask
    (255 inside the mesh) over the destination rectangle ``[y0:y1, x0:x1]``, clipped to the
    destination image of shape ``dst_shape`` (H, W). Empty rectangle when the mesh lies outside.
    """
    h, w = dst_shape
    dst = np.asarray(dst_pts, dtype=np.float64)
    src = np.asarray(src_pts, dtype=np.float64)
    x0 = max(0, int(np.floor(dst[:, 0].min())))
    y0 = max(0, int(np.floor(dst[:, 1].min())))
    x1 = min(w, int(np.ceil(dst[:, 0].max())) + 1)
    y1 = min(h, int(np.ceil(dst[:, 1].max())) + 1)
    if x1 <= x0 or y1 <= y0:
        empty = np.zeros((0, 0), dtype=np.uint8)
        return np.zeros((0, 0, *src_image.shape[2:]), dtype=src_image.dtype), empty, (0, 0, 0, 0)
    rw, rh = x1 - x0, y1 - y0
    # Triangle-index raster (0 = outside; k + 1 = triangle k), drawn in the rectangle's frame.
    index = np.zeros((rh, rw), dtype=np.int32)
    corners = np.round((dst - (x0, y0))[tris] * 16).astype(np.int32)  # 4 bits of sub-pixel shift
    for k, corner in enumerate(corners):
        cv2.fillConvexPoly(index, corner, k + 1, cv2.LINE_8, 4)
    mats = _inverse_affines(src, dst, tris)
    covered = index > 0
    ys, xs = np.nonzero(covered)
    map_x = np.full((rh, rw), -1.0, dtype=np.float32)
    map_y = np.full((rh, rw), -1.0, dtype=np.float32)
    m = mats[index[ys, xs] - 1]
    gx, gy = xs + x0, ys + y0
    map_x[ys, xs] = m[:, 0, 0] * gx + m[:, 0, 1] * gy + m[:, 0, 2]
    map_y[ys, xs] = m[:, 1, 0] * gx + m[:, 1, 1] * gy + m[:, 1, 2]
    patch = cv2.remap(src_image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return patch, covered.astype(np.uint8) * 255, (x0, y0, x1, y1)
