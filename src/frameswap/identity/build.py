"""Build an identity from photos: the largest face of each, all checked to be one person.

The check uses the analyzer's own identity descriptor and the tracker's same-person rule
(``frameswap.faces.track.relative_embedding_distance``: dlib's Euclidean 0.6 on its 128-D
descriptors, cosine distance against ``TrackerOptions.embedding_threshold`` on ArcFace's), so "one
person" means here what it means when a clip's faces are followed. A photo is refused when the
median of its distances to the other photos is past the threshold: one stray photo among several
is named as the culprit, whichever order the photos come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import cv2
import numpy as np

from frameswap.errors import NoFaceError, SourceError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.track import AssociationTuning, relative_embedding_distance
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.identity.model import Identity, IdentityPhoto
from frameswap.options import TrackerOptions

CROP_MARGIN = 0.6  # crop this share of the face's size beyond its box on every side (forehead, hair)
MAX_FACE_PX = 400  # a crop is scaled down so the face box is at most this wide: engines use less
MAX_PHOTOS = 32


def crop_face(image: np.ndarray, face: Face) -> tuple[np.ndarray, Face]:
    """The crop around ``face`` (scaled down when the face is large) and the face in its coordinates."""
    points = [np.asarray(face.box, np.float64).reshape(2, 2), np.asarray(face.kps, np.float64)]
    if face.landmarks is not None:
        points.append(np.asarray(face.landmarks, np.float64))
    allpts = np.concatenate(points)
    lo, hi = allpts.min(axis=0), allpts.max(axis=0)
    size = float(max(hi - lo))
    h, w = image.shape[:2]
    x0, y0 = (max(0, int(v - CROP_MARGIN * size)) for v in lo)
    x1, y1 = min(w, int(hi[0] + CROP_MARGIN * size) + 1), min(h, int(hi[1] + CROP_MARGIN * size) + 1)
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    scale = min(1.0, MAX_FACE_PX / max(float(face.box[2] - face.box[0]), 1.0))
    if scale < 1.0:
        size_wh = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        scale_xy = np.array([size_wh[0] / crop.shape[1], size_wh[1] / crop.shape[0]])
        crop = cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA)
    else:
        scale_xy = np.ones(2)
    offset = np.array([x0, y0], np.float64)

    def move(pts: np.ndarray) -> np.ndarray:
        return ((np.asarray(pts, np.float64).reshape(-1, 2) - offset) * scale_xy).astype(np.float32)

    moved = replace(
        face,
        box=move(face.box).reshape(4),
        kps=move(face.kps),
        landmarks=None if face.landmarks is None else move(face.landmarks),
        track_id=None,
    )
    return crop, moved


def same_person_check(names: Sequence[str], embeddings: Sequence[np.ndarray]) -> None:
    """Raise :class:`SourceError` naming the photo whose face is not the same person as the others."""
    n = len(embeddings)
    if n < 2:
        return
    options, tuning = TrackerOptions(), AssociationTuning()
    dist = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            d = relative_embedding_distance(embeddings[i], embeddings[j], options, tuning)
            if d is None:
                raise SourceError(f"{names[i]} and {names[j]}: their face descriptors cannot be compared")
            dist[i, j] = dist[j, i] = d
    medians = [float(np.median(np.delete(dist[i], i))) for i in range(n)]
    # ties (always the case with two photos) name the later photo: the first is the reference
    worst = max(range(n), key=lambda i: (medians[i], i))
    if medians[worst] > 1.0:
        others = ", ".join(names[j] for j in range(n) if j != worst)
        raise SourceError(
            f"{names[worst]}: its face is not the same person as in {others} (descriptor distance "
            f"{medians[worst]:.2f}x the same-person threshold); leave this photo out"
        )


def build_identity(analyzer: FaceAnalyzer, photos: Sequence[tuple[str, np.ndarray]]) -> Identity:
    """Analyse each ``(name, rgb)`` photo, keep its largest face, check they are one person."""
    if not photos:
        raise SourceError("an identity needs at least one photo")
    if len(photos) > MAX_PHOTOS:
        raise SourceError(f"an identity takes at most {MAX_PHOTOS} photos, got {len(photos)}")
    kept: list[IdentityPhoto] = []
    for name, rgb in photos:
        faces = sort_large_to_small(analyzer.analyze([rgb], embed=True)[0])
        if not faces:
            raise NoFaceError(f"{name}: no face found; use a photo with a clear face")
        if faces[0].embedding is None:
            raise SourceError(f"{name}: the {analyzer.name} analyzer gave no identity descriptor")
        crop, face = crop_face(rgb, faces[0])
        kept.append(IdentityPhoto(name=name, image=crop, face=face))
    same_person_check([p.name for p in kept], [np.asarray(p.face.embedding) for p in kept])
    return Identity(photos=tuple(kept), analyzer=analyzer.name)
