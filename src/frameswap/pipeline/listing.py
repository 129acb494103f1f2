"""The face indexes of an input, numbered exactly as a swap numbers them (``frameswap faces``).

Why here and not in the CLI: the page at ``/`` (through ``POST /v1/faces``), the CLI and Python
callers must all get the indexes ``swap`` will use. So the listing runs the swap's own steps on
the analyzer the swap would load: a *target* is tracked through every frame with the same tracker
options and indexed by :class:`~frameswap.faces.select.IdentityIndex`; a *source* is only its first
frame, large to small, as :func:`frameswap.pipeline.run.analyze_source` reads it.

Frames are not kept during the analysis (a long video would not fit); when the caller wants to
show the faces, :func:`listing_frames` decodes again up to the frames it needs.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import numpy as np

from frameswap.errors import CancelledError, NoFaceError
from frameswap.faces.analyzer import FaceAnalyzer
from frameswap.faces.select import IdentityIndex, IndexedFace
from frameswap.media import open_media
from frameswap.media.sources import Source
from frameswap.media.types import MediaInfo
from frameswap.options import SwapOptions
from frameswap.pipeline.analysis import analyze_target
from frameswap.pipeline.run import Fetcher

Role = Literal["target", "source"]


@dataclass(frozen=True)
class FaceListing:
    """The indexed faces of one input and what they were found with.

    ``index`` is None when no face was found (an empty listing, not an error). ``analysed_frames``
    is how many frames were analysed: every frame of an animated target, one otherwise.
    """

    info: MediaInfo
    analyzer: str
    engine: str
    role: Role
    index: IdentityIndex | None
    analysed_frames: int

    @property
    def animated(self) -> bool:
        return self.analysed_frames > 1

    @property
    def faces(self) -> tuple[IndexedFace, ...]:
        return self.index.faces if self.index is not None else ()

    @property
    def reference_frame(self) -> int:
        return self.index.reference_frame if self.index is not None else 0

    def to_json(self, path: str | None) -> dict[str, object]:
        """The contract of ``frameswap faces --json`` (and of ``POST /v1/faces``); ``path`` is the
        input's name, None when it came as bytes."""
        return {
            "path": path,
            "kind": self.info.kind,
            "analyzer": self.analyzer,
            "engine": self.engine,
            "frame_count": self.analysed_frames,
            "reference_frame": self.reference_frame,
            "width": self.info.width,
            "height": self.info.height,
            "faces": [f.to_json(self.animated) for f in self.faces],
        }


def list_faces(
    media: Source,
    analyzer: FaceAnalyzer,
    options: SwapOptions,
    *,
    analyzer_name: str,
    engine_name: str,
    role: Role = "target",
    fetcher: Fetcher | None = None,
    model_lock: threading.Lock | None = None,
    cancel: threading.Event | None = None,
) -> FaceListing:
    """Index the faces of ``media`` as a swap with ``options`` would (see the module docstring).

    A target with no face gives an empty listing; a named reference frame with no face, or outside
    the clip, raises as the swap would. A still is analysed without descriptors: they change
    nothing in which faces are found or in their order, and cost a network pass per face.
    """
    lock = model_lock if model_lock is not None else threading.Lock()
    with open_media(media, limits=options.limits, fetcher=fetcher, name=role) as reader:
        info = reader.info
        animated = role == "target" and info.kind != "image" and info.frame_count != 1
        if animated:
            tracked = analyze_target(
                reader.frames(),
                analyzer,
                tracker_options=options.tracker,
                batch_size=options.batch_size,
                model_lock=lock,
                cancel=cancel,
            ).faces
        else:
            first = next(iter(reader.frames())).rgb
            with lock:
                tracked = [analyzer.analyze([first], embed=False)[0]]
    index: IdentityIndex | None
    try:
        if animated:
            index = IdentityIndex.from_tracks(tracked, options.reference_frame)
        else:
            index, _ = IdentityIndex.from_image(tracked[0])
    except NoFaceError:
        if animated and options.reference_frame is not None:
            raise
        index = None
    return FaceListing(
        info=info,
        analyzer=analyzer_name,
        engine=engine_name,
        role=role,
        index=index,
        analysed_frames=len(tracked),
    )


def listing_frames(
    media: Source,
    listing: FaceListing,
    options: SwapOptions,
    fetcher: Fetcher | None = None,
    cancel: threading.Event | None = None,
) -> dict[int, np.ndarray]:
    """The RGB frames needed to show a listing: its reference frame and the first frame of every
    person who is not in it, decoded again (stopping at the last one needed, or at ``cancel``)."""
    wanted = {listing.reference_frame} | {f.first_frame for f in listing.faces if not f.at_reference}
    images: dict[int, np.ndarray] = {}
    with open_media(media, limits=options.limits, fetcher=fetcher, name=listing.role) as reader:
        for i, frame in enumerate(reader.frames()):
            if cancel is not None and cancel.is_set():
                raise CancelledError("the listing was cancelled")
            if i in wanted:
                images[i] = frame.rgb
            if i >= max(wanted):
                break
    return images
