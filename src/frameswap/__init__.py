"""frameswap: face swap for pictures, animations and videos, with exact timing.

>>> import frameswap
>>> frameswap.swap("me.jpg", "clip.gif", "out.gif", input_faces_index="0")  # doctest: +SKIP

Heavy names (models, media codecs) are imported on first use so ``frameswap --version`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from frameswap import errors
from frameswap._version import __version__
from frameswap.options import DisclosureOptions, EncodeOptions, MediaLimits, SwapOptions, TrackerOptions

if TYPE_CHECKING:
    from frameswap.api import FaceSwapper, swap
    from frameswap.batching import BatchResult, batch
    from frameswap.media import open_media, write_media
    from frameswap.pipeline.result import SwapResult

_LAZY = {
    "batch": "frameswap.batching",
    "BatchResult": "frameswap.batching",
    "swap": "frameswap.api",
    "FaceSwapper": "frameswap.api",
    "SwapResult": "frameswap.pipeline.result",
    "open_media": "frameswap.media",
    "write_media": "frameswap.media",
}

__all__ = [
    "BatchResult",
    "DisclosureOptions",
    "EncodeOptions",
    "FaceSwapper",
    "MediaLimits",
    "SwapOptions",
    "SwapResult",
    "TrackerOptions",
    "__version__",
    "batch",
    "errors",
    "open_media",
    "swap",
    "write_media",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'frameswap' has no attribute {name!r}")
