"""The identity file: a zip holding ``identity.json`` and one ``.npy`` array per crop and embedding.

Why this shape: JSON says what everything is (format name, version, analyzer, each photo's name,
box, keypoints and landmarks) and stays readable with any zip tool; the pixel crops and the float32
embeddings go in NumPy's own ``.npy`` format, read with ``allow_pickle=False``, so loading a file
from a stranger can never run code (a pickle could). Members are size-checked before they are
read, so a zip bomb is refused rather than inflated.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from frameswap._version import __version__
from frameswap.atomic import atomic_output
from frameswap.errors import MediaLimitError, SourceError
from frameswap.faces.types import Face
from frameswap.identity.build import MAX_PHOTOS
from frameswap.identity.model import IDENTITY_VERSION, Identity, IdentityPhoto
from frameswap.options import MediaLimits

FORMAT_NAME = "frameswap-identity"
MANIFEST = "identity.json"
ZIP_MAGIC = b"PK\x03\x04"


def is_identity_file(head: bytes) -> bool:
    """Whether a file's first bytes are a zip (no image or video format frameswap reads is one)."""
    return head.startswith(ZIP_MAGIC)


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def identity_bytes(identity: Identity) -> bytes:
    """The identity as the bytes of its file."""
    photos: list[dict[str, Any]] = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i, photo in enumerate(identity.photos):
            face = photo.face
            entry: dict[str, Any] = {
                "name": photo.name,
                "image": f"photos/{i}.npy",
                "box": [float(v) for v in face.box],
                "score": float(face.score),
                "kps": np.asarray(face.kps, np.float64).tolist(),
                "landmarks": None
                if face.landmarks is None
                else np.asarray(face.landmarks, np.float64).tolist(),
                "embedding": None,
            }
            zf.writestr(entry["image"], _npy(np.asarray(photo.image, np.uint8)))
            if face.embedding is not None:
                entry["embedding"] = f"embeddings/{i}.npy"
                zf.writestr(entry["embedding"], _npy(np.asarray(face.embedding, np.float32)))
            photos.append(entry)
        manifest = {
            "format": FORMAT_NAME,
            "version": identity.version,
            "analyzer": identity.analyzer,
            "created_by": f"frameswap {__version__}",
            "photos": photos,
        }
        zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
    return buf.getvalue()


def save_identity(identity: Identity, path: str | Path) -> Path:
    """Write the identity file atomically (a killed run leaves nothing under ``path``)."""
    path = Path(path)
    data = identity_bytes(identity)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return path


class _Reader:
    """Reads members of an identity zip with every size checked first."""

    def __init__(self, zf: zipfile.ZipFile, name: str, limits: MediaLimits) -> None:
        self.zf, self.name, self.limits = zf, name, limits
        self.budget = limits.max_input_bytes  # total bytes all members may inflate to

    def read(self, member: str) -> bytes:
        try:
            info = self.zf.getinfo(member)
        except KeyError:
            raise SourceError(f"{self.name}: identity file lacks {member}") from None
        if info.file_size > self.budget:
            raise MediaLimitError(f"{self.name}: identity member {member} is over the input size limit")
        self.budget -= info.file_size
        return self.zf.read(info)

    def array(self, member: str, dtype: type, ndim: int) -> np.ndarray:
        try:
            arr = np.load(io.BytesIO(self.read(member)), allow_pickle=False)
        except ValueError as exc:
            raise SourceError(f"{self.name}: {member} is not a plain array ({exc})") from None
        if arr.dtype != dtype or arr.ndim != ndim:
            raise SourceError(
                f"{self.name}: {member} should be {ndim}-D {np.dtype(dtype).name}, "
                f"got {arr.dtype} {arr.shape}"
            )
        return arr


def _points(value: object, rows: int | None, where: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] != 2 or (rows is not None and arr.shape[0] != rows):
        raise SourceError(f"{where}: expected {rows or 'N'} (x, y) points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise SourceError(f"{where}: points are not finite")
    return arr


def _photo(reader: _Reader, entry: Any, i: int) -> IdentityPhoto:
    where = f"{reader.name}: photo {i}"
    if not isinstance(entry, dict):
        raise SourceError(f"{where}: not an object")
    image = reader.array(str(entry.get("image")), np.uint8, 3)
    if image.shape[2] != 3 or image.shape[0] * image.shape[1] > reader.limits.max_pixels_per_frame:
        raise SourceError(f"{where}: image of shape {image.shape} is not RGB within the pixel limit")
    embedding = entry.get("embedding")
    landmarks = entry.get("landmarks")
    face = Face(
        box=_points(np.asarray(entry.get("box"), np.float32).reshape(-1, 2), 2, where).reshape(4),
        score=float(entry.get("score", 1.0)),
        kps=_points(entry.get("kps"), 5, where),
        landmarks=None if landmarks is None else _points(landmarks, None, where),
        embedding=None if embedding is None else reader.array(str(embedding), np.float32, 1),
    )
    return IdentityPhoto(name=str(entry.get("name", f"photo {i}")), image=image, face=face)


def load_identity(data: bytes, name: str = "identity", limits: MediaLimits = MediaLimits()) -> Identity:
    """Read an identity file's bytes; :class:`SourceError` says what is wrong with a bad one."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{name}: not an identity file ({exc})") from None
    with zf:
        reader = _Reader(zf, name, limits)
        try:
            manifest = json.loads(reader.read(MANIFEST))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SourceError(f"{name}: {MANIFEST} is not JSON ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise SourceError(f"{name}: not a frameswap identity file")
        version = manifest.get("version")
        if not isinstance(version, int) or version > IDENTITY_VERSION:
            raise SourceError(
                f"{name}: identity format version {version!r}; this frameswap reads up to {IDENTITY_VERSION}"
            )
        entries = manifest.get("photos")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_PHOTOS:
            raise SourceError(f"{name}: an identity holds 1 to {MAX_PHOTOS} photos")
        photos = tuple(_photo(reader, entry, i) for i, entry in enumerate(entries))
    return Identity(photos=photos, analyzer=str(manifest.get("analyzer", "")), version=version)
