"""Every visible face is swapped in (nearly) every frame of a GIF with blurred and dark frames.

The truth is how the clip was built (a known pan over t1, whose faces are hand-annotated in
``fsbench.truth``), never our own detector; a face counts as swapped where the output
differs from the input over the face's inner box (``fsbench.facepixels``). Every 4th
frame is blurred and every 4th (another offset) under-exposed: the frames a detector misses.
The whole clip goes through ``frameswap.swap`` with the default embedded engine, GIF to GIF.
"""

from __future__ import annotations

import pytest

import frameswap
from frameswap.factory import create_analyzer
from frameswap.options import SwapOptions
from fsbench.clips import blurdark_spec, build_clip
from fsbench.facepixels import measure_pixels
from fsbench.harness import people_indexed
from fsbench.truth import faces_seen

pytest.importorskip("insightface.data")  # the clip is built from insightface's t1 photo


def test_every_visible_face_is_swapped_in_97_percent_of_frames(tmp_path, samples):
    spec = blurdark_spec(frames=16)
    target = build_clip(spec, tmp_path / "blurdark.gif")
    assert "blur" in spec.effects and "dark" in spec.effects
    truth = spec.truth()
    people = people_indexed(create_analyzer("dlib"), target, SwapOptions())
    assert people >= len(faces_seen(truth))
    output = tmp_path / "out.gif"
    frameswap.swap(samples.source, target, output,
                   input_faces_index=",".join(str(i) for i in range(people)), source_faces_index="0")
    figures = measure_pixels(truth, target, output)
    assert figures["swap_visible_face_frames"] >= 16
    assert figures["swap_coverage_min"] >= 0.97, figures["swap_missed"]
    # GIF in, GIF out: nothing outside the (grown) faces changed, and the file did not grow
    assert figures["outside_differ_share"] <= 0.005
    assert figures["size_ratio"] <= 1.3
