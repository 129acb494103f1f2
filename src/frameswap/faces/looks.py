"""The last detected look of each tracked person, kept small, for an identity embedding on demand.

An identity embedding is the costliest step of analysing a frame on the CPU (dlib's descriptor
takes 70-100 ms a face; finding and landmarking the face takes ~20 ms). It is only ever needed
to tell a face that position cannot place (a new face, one back after a gap, people crossing)
from the people already tracked. So no track is embedded when it starts: each keeps a crop of
its last detected look, and a track gets its embedding from that crop the first time another
face has to be compared with it. On a clip where position always tells who is who, nothing is
embedded at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.types import Face


@dataclass
class LastLooks:
    """Per track id: a crop around its last detected face and that face in crop coordinates."""

    margin: float = 0.6  # crop margin on each side, as a fraction of the box side (the
    # descriptor's chip reaches ~25 % past the landmarks)
    _looks: dict[int, tuple[np.ndarray, Face]] = field(default_factory=dict, repr=False)

    def reset(self) -> None:
        self._looks.clear()

    def remember(self, rgb: np.ndarray, faces: Iterable[Face]) -> None:
        """Keep the look of each tracked face (a copy: the frame itself is not held)."""
        h, w = rgb.shape[:2]
        for face in faces:
            if face.track_id is None:
                continue
            x1, y1, x2, y2 = (float(v) for v in face.box)
            pad = self.margin * max(x2 - x1, y2 - y1)
            x0, y0 = max(0, int(x1 - pad)), max(0, int(y1 - pad))
            xe, ye = min(w, int(x2 + pad) + 1), min(h, int(y2 + pad) + 1)
            if xe - x0 < 4 or ye - y0 < 4:
                continue
            local = replace(face.moved(-x0, -y0), embedding=None)
            self._looks[face.track_id] = (np.ascontiguousarray(rgb[y0:ye, x0:xe]), local)

    def embeddings(self, analyzer: FaceAnalyzer, track_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Identity embeddings of the given tracks' last looks (tracks with no look are skipped)."""
        known = [t for t in track_ids if t in self._looks]
        if not known:
            return {}
        crops = [self._looks[t][0] for t in known]
        embedded = analyzer.embed(crops, [[self._looks[t][1]] for t in known])
        return {
            t: faces[0].embedding
            for t, faces in zip(known, embedded, strict=True)
            if faces and faces[0].embedding is not None
        }
