"""An identity embedding computed later from a track's kept look equals one computed on the frame."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.faces.dlib_backend import DlibAnalyzer
from frameswap.faces.looks import LastLooks


def test_embedding_from_the_kept_crop_equals_the_one_from_the_frame():
    insightface_data = pytest.importorskip("insightface.data")
    t1 = np.ascontiguousarray(insightface_data.get_image("t1")[:, :, ::-1])
    analyzer = DlibAnalyzer.from_packages()
    (faces,) = analyzer.analyze([t1], embed=False)
    tracked = [f.with_track(i) for i, f in enumerate(faces)]
    looks = LastLooks()
    looks.remember(t1, tracked)
    later = looks.embeddings(analyzer, [0, 2, 99])  # 99: never seen, skipped
    assert set(later) == {0, 2}
    (direct,) = analyzer.embed([t1], [[tracked[0], tracked[2]]])
    for track_id, face in zip((0, 2), direct, strict=True):
        assert np.linalg.norm(later[track_id] - face.embedding) < 1e-3
    # and the two people stay apart (the crop did not blur who is who)
    assert np.linalg.norm(later[0] - later[2]) > 0.4
