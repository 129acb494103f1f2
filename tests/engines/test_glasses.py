"""Thin glasses over the target's face stay in front of the new face; a face without stays bare.

The glasses are drawn here, on the astronaut's real face, so where every rim pixel lies is known
by construction: thin dark rims around both eyes and a bridge, as metal frames look.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from frameswap.engines.classic import ClassicEngine, ClassicOptions
from frameswap.engines.classic.glasses import WEARS_GLASSES
from frameswap.engines.classic.regions import EYES, feature_mask, region_polygon

RIM_COLOUR = (70, 65, 60)  # thin dark metal


@pytest.fixture(scope="module")
def faces(analyzer):
    """(astronaut, her face, the same photo with glasses drawn on, the rims' centre lines, a source
    photo and its face: t1's frontal blonde woman)."""
    insightface_data = pytest.importorskip("insightface.data")
    # at twice its size her face is ~190 px wide, as in a 720p talking-head video
    astronaut = cv2.resize(data.astronaut(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    (face,) = analyzer.analyze([astronaut])[0]
    pts = np.asarray(face.landmarks, np.float64)
    rims = np.zeros(astronaut.shape[:2], np.uint8)
    centre_lines = np.zeros(astronaut.shape[:2], np.uint8)  # one pixel wide, no anti-aliasing
    centres = []
    for eye in EYES:
        centre = pts[eye].mean(axis=0)
        width = float(np.linalg.norm(pts[eye[3]] - pts[eye[0]]))
        axes = (round(1.25 * width), round(0.95 * width))  # lenses are wider than the eye
        for mask, thickness, line in ((rims, 2, cv2.LINE_AA), (centre_lines, 1, cv2.LINE_8)):
            cv2.ellipse(mask, (round(centre[0]), round(centre[1])), axes, 0, 0, 360, 255, thickness, line)
        centres.append(centre)
    inner = [c + np.array([1.25 * s * width, 0.0]) for c, s in zip(centres, (1, -1), strict=True)]
    ends = [tuple(int(v) for v in np.round(p)) for p in inner]
    cv2.line(rims, ends[0], ends[1], 255, 2)
    cv2.line(centre_lines, ends[0], ends[1], 255, 1)
    alpha = (rims.astype(np.float32) / 255.0)[..., None]
    glasses = (astronaut * (1 - alpha) + np.array(RIM_COLOUR, np.float32) * alpha).round().astype(np.uint8)
    t1 = np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])
    source_face = max(analyzer.analyze([t1])[0], key=lambda f: f.area)
    return astronaut, face, glasses, centre_lines > 0, t1, source_face


def test_the_score_tells_glasses_from_a_bare_face(faces):
    astronaut, face, glasses, _, _, _ = faces
    engine = ClassicEngine()
    bare, worn = engine.measure_tone(astronaut, face), engine.measure_tone(glasses, face)
    assert bare is not None and worn is not None and len(bare) == len(engine.tone_alpha) == 8
    assert worn[6] >= WEARS_GLASSES > 2 * bare[6]
    # the skin statistics before it are those of the face, glasses or not
    assert np.allclose(bare[:3], worn[:3], atol=3.0)


def test_the_rims_stay_in_front_of_the_new_face(faces):
    _, face, glasses, rims, t1, source_face = faces
    # the rims' centre lines over the inner face (where the swap paints) but off the features,
    # which are always the new face's (a rim across a brow goes behind the new brow), from the
    # landmarks alone
    inner = np.zeros(rims.shape, np.uint8)
    cv2.fillPoly(inner, [np.round(region_polygon(face.landmarks)).astype(np.int32)], 255)
    on_face = rims & (inner > 0) & (feature_mask(face.landmarks, rims.shape) == 0)
    assert on_face.sum() > 150

    def kept(options: ClassicOptions) -> tuple[float, float]:
        engine = ClassicEngine(options)
        tone = engine.measure_tone(glasses, face)  # as the pipeline passes it
        out, _ = engine.swap_face(glasses, face, engine.prepare_source(t1, source_face), tone=tone)
        diff = np.abs(out.astype(np.int16) - glasses).max(axis=2)
        between = (inner > 0) & ~cv2.dilate(rims.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
        return float(np.mean(diff[on_face] <= 12)), float(np.mean(diff[between] > 12))

    rims_kept, face_swapped = kept(ClassicOptions())
    assert rims_kept >= 0.95 and face_swapped > 0.5  # the glasses stay, the face behind them changes
    # the oracle can fail: with occlusion off, the new face is painted over the same rims
    rims_kept, _ = kept(ClassicOptions(occlusion=False))
    assert rims_kept < 0.5
