"""What a swap was given as its source: one photo, an identity (object or file), or several photos.

An identity file is recognised by its bytes (a zip), whatever its name, so it goes wherever a
source photo goes: a path, bytes, base64, a data URI or a URL. A list of photos becomes an
identity on the spot, with the same same-person check as ``frameswap identity build``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frameswap.errors import NoFaceError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.types import Face, sort_large_to_small
from frameswap.identity.build import build_identity
from frameswap.identity.fileformat import is_identity_file, load_identity
from frameswap.identity.model import Identity
from frameswap.media import open_media
from frameswap.media.sources import Source, resolve_source
from frameswap.options import MediaLimits

Fetcher = Callable[[str], bytes]


@dataclass(frozen=True)
class SourcePhotos:
    """Either one photo (``identity`` None: read it as before) or an identity.

    ``photo`` is the photo as bytes or a path, already fetched, so a URL is fetched only once.
    ``files`` lists every file the source was read from (the photo, the identity file, or each
    photo of a list) because none of them may be a swap's output: the pipeline checks them all.
    """

    identity: Identity | None
    photo: bytes | Path | np.ndarray | None  # an RGB array stays one (the pipeline checks it)
    path: Path | None  # the source file, when it is one file (names the identity's ingredient)
    files: tuple[Path, ...] = ()


def first_frame(source: Source, limits: MediaLimits, fetcher: Fetcher | None, name: str) -> np.ndarray:
    """The RGB pixels of a photo (an animation's first frame)."""
    with open_media(source, limits=limits, fetcher=fetcher, name=name) as reader:
        return next(iter(reader.frames())).rgb


def source_photos(
    source: object,
    analyzer: FaceAnalyzer,
    analyzer_lock: threading.Lock,
    *,
    limits: MediaLimits,
    fetcher: Fetcher | None,
) -> SourcePhotos:
    """Classify the source; a list of photos is analysed and checked here (under the lock)."""
    if isinstance(source, Identity):
        return SourcePhotos(source, None, None)
    if isinstance(source, np.ndarray):
        return SourcePhotos(None, source, None)
    if isinstance(source, (list, tuple)):
        photos = []
        files = []
        for i, item in enumerate(source):
            # a file's own name (not its folders: the identity file may travel); else its position
            named = isinstance(item, (str, Path)) and len(str(item)) < 300 and Path(item).is_file()
            name = Path(item).name if named else f"source photo {i + 1}"
            if isinstance(item, np.ndarray):
                rgb = item
            else:
                # resolved here, not inside first_frame, to learn its file (and fetch a URL once)
                item_source = resolve_source(item, limits=limits, fetcher=fetcher, name=name)
                if item_source.path is not None:
                    files.append(item_source.path)
                photo = item_source.path if item_source.path is not None else item_source.read_bytes()
                rgb = first_frame(photo, limits, fetcher, name)
            photos.append((name, np.ascontiguousarray(rgb)))
        with analyzer_lock:
            return SourcePhotos(build_identity(analyzer, photos), None, None, tuple(files))
    resolved = resolve_source(source, limits=limits, fetcher=fetcher, name="source")  # type: ignore[arg-type]
    files = [resolved.path] if resolved.path is not None else []
    if is_identity_file(resolved.head(8)):
        identity = load_identity(resolved.read_bytes(), resolved.name, limits)
        return SourcePhotos(identity, None, resolved.path, tuple(files))
    photo = resolved.path if resolved.path is not None else resolved.read_bytes()
    return SourcePhotos(None, photo, resolved.path, tuple(files))


def identity_faces(
    identity: Identity, analyzer: FaceAnalyzer, *, embed: bool
) -> list[tuple[np.ndarray, Face]]:
    """Each photo's crop and face as ``analyzer`` describes it.

    The stored faces serve when the identity was built with this analyzer; with another one (an
    identity built with dlib used by the inswapper engine) the crops are analysed again.
    """
    if identity.analyzer == analyzer.name and (
        not embed or all(p.face.embedding is not None for p in identity.photos)
    ):
        return [(p.image, p.face) for p in identity.photos]
    found = analyzer.analyze([p.image for p in identity.photos], embed=embed)
    out = []
    for photo, faces in zip(identity.photos, found, strict=True):
        if not faces:
            raise NoFaceError(
                f"{photo.name}: the {analyzer.name} analyzer finds no face in this identity photo"
            )
        out.append((photo.image, sort_large_to_small(faces)[0]))
    return out

