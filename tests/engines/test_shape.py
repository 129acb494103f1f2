"""Where the classic engine's new face goes: the source's features, the target's expression."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.engines.classic.mesh import extend_68, face_topology, triangulate
from frameswap.engines.classic.shape import destination, keep_interiors


@pytest.fixture(scope="module")
def astronaut_points(analyzer):
    from skimage import data

    (faces,) = analyzer.analyze([data.astronaut()])
    return np.asarray(faces[0].landmarks, np.float64)


def _similar(points: np.ndarray, angle: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale * points @ np.array([[c, s], [-s, c]]) + np.asarray(shift)


def _lip_gap(points: np.ndarray) -> np.ndarray:
    return np.mean([points[lo] - points[up] for up, lo in ((61, 67), (62, 66), (63, 65))], axis=0)


def _eye_openness(points: np.ndarray) -> list[float]:
    out = []
    for up, lo, (c0, c1) in (((37, 38), (41, 40), (36, 39)), ((43, 44), (47, 46), (42, 45))):
        gap = np.mean([np.linalg.norm(points[u] - points[v]) for u, v in zip(up, lo, strict=True)])
        out.append(gap / np.linalg.norm(points[c1] - points[c0]))
    return out


def _expressive(points: np.ndarray) -> np.ndarray:
    """``points`` with the mouth opened (the lower lip dropped) and the eyes nearly closed."""
    out = points.copy()
    drop = 0.12 * np.linalg.norm(points[8] - points[27])
    out[[55, 56, 57, 58, 59, 65, 66, 67], 1] += drop
    for upper, lower in (((37, 38), (41, 40)), ((43, 44), (47, 46))):
        for u, v in zip(upper, lower, strict=True):
            middle = (out[u] + out[v]) / 2
            out[u], out[v] = middle + 0.15 * (out[u] - middle), middle + 0.15 * (out[v] - middle)
    return out


def test_no_weight_keeps_the_target_exactly(astronaut_points):
    """Weight 0 is the target's own points, whatever its expression (the lips' and lids' gaps
    taken from the target change nothing)."""
    target = _expressive(_similar(astronaut_points, 0.3, 0.7, (40, -10))) + np.random.default_rng(0).normal(
        0, 1.5, (68, 2)
    )
    np.testing.assert_allclose(destination(astronaut_points, target, 0.0), target, atol=1e-9)


def test_the_source_s_features_open_as_the_target_s(astronaut_points):
    """A target that is the source moved by a similarity, then with its mouth opened and its eyes
    nearly closed: at full weight everything is the source's (in the target's place) except how
    far the lips and lids are apart, which is the target's."""
    placed = _similar(astronaut_points, -0.2, 1.3, (25, 60))
    target = _expressive(placed)
    dest = destination(astronaut_points, target, 1.0)
    np.testing.assert_allclose(_lip_gap(dest), _lip_gap(target), atol=1e-6)
    np.testing.assert_allclose(_eye_openness(dest), _eye_openness(target), atol=1e-6)
    # the source's own outline where the expression does not reach: nose, the upper lip, corners
    fixed = [*range(27, 36), 48, 49, 50, 51, 52, 53, 54, 60, 61, 62, 63, 64, 36, 39, 42, 45]
    np.testing.assert_allclose(dest[fixed], placed[fixed], atol=0.5)
    # and a photo whose features differ keeps them at any weight in between
    other = destination(_expressive(astronaut_points), placed, 0.5)
    np.testing.assert_allclose(_lip_gap(other), _lip_gap(placed), atol=1e-6)
    np.testing.assert_allclose(_eye_openness(other), _eye_openness(placed), atol=1e-6)


def test_the_mesh_keeps_every_lip_point_of_a_shut_mouth(astronaut_points):
    """The triangles come from the target's shape with its lips drawn as rings. A target whose
    lips are shut exactly (the lower inner lip on the upper one) keeps every point in the mesh,
    where Delaunay on the points as they are drops the coincident ones (the photo's lips would be
    warped by triangles that lost those corners)."""
    shut = extend_68(_shut(astronaut_points))
    dropped = set(range(78)) - set(np.unique(triangulate(shut)))
    assert dropped and dropped <= set(range(60, 68))  # the check can fail, and there
    assert set(np.unique(face_topology(shut))) == set(range(78))


def _shut(points: np.ndarray) -> np.ndarray:
    out = points.copy()
    out[[65, 66, 67]] = out[[63, 62, 61]]
    return out


def test_the_target_s_eyes_and_open_mouth_move_with_their_features(astronaut_points):
    """``keep_interiors`` moves the target's own pixels inside each eye and inside the lips'
    opening to where the new features are (here: shifted by (7, -4)) and leaves the rest of the
    new face as it was. The mouth's opening is the target's only as far as it opens wider than
    the photo's: a photo whose mouth is as open keeps its own."""
    import cv2

    rng = np.random.default_rng(1)
    target = _expressive(astronaut_points)
    target[[37, 38, 43, 44], 1] -= 6  # eyes open again, wider than the lids
    target[[41, 40, 47, 46], 1] += 3
    photo = _shut(astronaut_points)
    gap = np.linalg.norm(_lip_gap(target)) / np.linalg.norm(target[64] - target[60])
    assert gap > 0.15  # wider than the shut photo's by OPEN_MOUTH or more: the target's in full
    image = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    dest = target + np.array([7.0, -4.0])
    out = keep_interiors(face, image, photo, target, dest, width=200.0)
    moved = np.roll(image, (-4, 7), axis=(0, 1))

    def inside(outline: np.ndarray) -> np.ndarray:
        mask = np.zeros((512, 512), np.uint8)
        cv2.fillPoly(mask, [np.round(dest[outline]).astype(np.int32)], 1)
        return cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)

    for outline in (np.arange(36, 42), np.arange(42, 48), np.arange(60, 68)):
        assert inside(outline).sum() > 20
        np.testing.assert_array_equal(out[inside(outline)], moved[inside(outline)])
    far = np.ones((512, 512), bool)
    far[int(dest[17:68, 1].min()) - 10 : int(dest[:, 1].max()) + 10, :] = False
    far[:, : int(dest[:, 0].min())] = True
    np.testing.assert_array_equal(out[far], face[far])
    mouth = inside(np.arange(60, 68))
    as_open = keep_interiors(face, image, target, target, dest, width=200.0)
    np.testing.assert_array_equal(as_open[mouth], face[mouth])
    np.testing.assert_array_equal(as_open[inside(np.arange(36, 42))], moved[inside(np.arange(36, 42))])


@pytest.mark.filterwarnings("ignore:Conversion from CIE-LAB")  # random colours leave sRGB
def test_a_mouth_opened_less_than_the_photo_s_goes_into_shadow(astronaut_points):
    """The astronaut smiles with her lips well apart; on a target that parts them a fifth as far,
    her teeth squeezed into the slit read as a broken white line, so the slit is the new face's
    own pixels at ``MOUTH_SHADOW`` of their CIE lightness (colour kept), and nothing of the
    target's is shown there. The oracle converts with scikit-image, not OpenCV."""
    import cv2
    from skimage.color import lab2rgb, rgb2lab

    from frameswap.engines.classic.shape import MOUTH_SHADOW

    rng = np.random.default_rng(2)
    target = astronaut_points.copy()
    middle = (target[[61, 62, 63]] + target[[67, 66, 65]]) / 2
    target[[61, 62, 63]] = middle + 0.2 * (target[[61, 62, 63]] - middle)
    target[[67, 66, 65]] = middle + 0.2 * (target[[67, 66, 65]] - middle)
    image = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    face = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    out = keep_interiors(face, image, astronaut_points, target, target, width=200.0)
    slit = np.zeros((512, 512), np.uint8)
    cv2.fillPoly(slit, [np.round(target[60:68]).astype(np.int32)], 1)
    inside = slit.astype(bool)
    assert inside.sum() > 10
    lab = rgb2lab(face[inside][None].astype(np.float64) / 255.0)
    lab[..., 0] *= MOUTH_SHADOW
    expected = np.clip(lab2rgb(lab)[0] * 255.0, 0, 255)
    np.testing.assert_allclose(out[inside], expected, atol=3)
