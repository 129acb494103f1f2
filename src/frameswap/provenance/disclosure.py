"""What one swap's output carries, prepared before the work and applied while it is written."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frameswap._version import __version__
from frameswap.atomic import temp_beside
from frameswap.media.sources import ResolvedSource
from frameswap.media.types import Frame, MediaInfo
from frameswap.media.writer import encode_bytes, write_media
from frameswap.options import DisclosureOptions, EncodeOptions
from frameswap.provenance.label import Label
from frameswap.provenance.signing import C2paCredentials, Ingredient, check_signable
from frameswap.provenance.xmp import disclosure_packet

TOOL_NAME = "frameswap"


def ingredient_of(source: ResolvedSource, format: str, role: str) -> Ingredient:
    """An input as a C2PA ingredient, titled by its file name (or its role when it was bytes)."""
    title = source.path.name if source.path is not None else role
    return Ingredient(title=title, format=format, source=source)


@dataclass(frozen=True)
class Disclosure:
    """The XMP packet (None: none), the visible label and the C2PA credentials of one output."""

    xmp: bytes | None = None
    label: Label | None = None
    credentials: C2paCredentials | None = None

    @classmethod
    def prepare(cls, options: DisclosureOptions, output_format: str) -> Disclosure:
        """Check and load everything ``options`` asks for: an OptionsError comes now, before any
        frame is processed, not after the work."""
        credentials = None
        if options.c2pa_cert is not None and options.c2pa_key is not None:
            check_signable(output_format)
            credentials = C2paCredentials.load(options.c2pa_cert, options.c2pa_key)
        return cls(
            xmp=disclosure_packet(f"{TOOL_NAME} {__version__}") if options.machine_readable else None,
            label=Label(options.label) if options.label is not None else None,
            credentials=credentials,
        )

    def write(
        self,
        frames: Iterable[Frame],
        info: MediaInfo,
        fmt: str,
        destination: Path | None,
        *,
        audio_from: Any,
        options: EncodeOptions,
        target: Ingredient,
        source: Ingredient,
    ) -> Path | bytes:
        """Encode ``frames`` (labelled, with the XMP packet) to ``destination`` atomically, or to
        bytes when it is None; when signing, the unsigned file is a temporary one beside it."""
        if self.label is not None:
            frames = map(self.label.stamp, frames)
        how: dict[str, Any] = {"audio_from": audio_from, "options": options, "format": fmt, "xmp": self.xmp}
        if self.credentials is None:
            if destination is None:
                return encode_bytes(frames, info, **how)
            return write_media(destination, frames, info, **how)
        with ExitStack() as stack:
            if destination is not None:
                unsigned = stack.enter_context(temp_beside(destination))
            else:
                unsigned = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="frameswap-"))) / "out"
            write_media(unsigned, frames, info, **how)
            return self.credentials.sign(
                unsigned, fmt, destination, parent=target, component=source, tool_version=__version__
            )
