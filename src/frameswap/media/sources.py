"""Turn any accepted input value into bytes or a path, and name it for error messages.

A source is a path, raw bytes, a binary file object, a base64 string, a ``data:`` URI or an
http(s) URL. URLs are never fetched here: the caller injects a ``fetcher`` (the server's
size-capped, private-address-refusing one), so the media layer itself never touches the network.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from frameswap.errors import MediaLimitError, MediaNotFoundError, SourceError
from frameswap.options import MediaLimits

Source = Union[str, os.PathLike, bytes, bytearray, memoryview, BinaryIO]  # noqa: UP007 (runtime alias, py3.10)
Fetcher = Callable[[str], bytes]

_BASE64_RE = re.compile(rb"^[A-Za-z0-9+/_\-\s]+={0,2}\s*$")
_DATA_URI_RE = re.compile(r"^data:([^,]*?),", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ResolvedSource:
    """An input as either a file on disk or bytes in memory, with a name for messages."""

    name: str
    path: Path | None = None
    data: bytes | None = None

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def head(self, n: int = 64) -> bytes:
        """The first ``n`` bytes (enough to recognise a format)."""
        if self.data is not None:
            return self.data[:n]
        assert self.path is not None
        with self.path.open("rb") as fh:
            return fh.read(n)

    @property
    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size


def _check_size(size: int, name: str, limits: MediaLimits) -> None:
    if size > limits.max_input_bytes:
        raise MediaLimitError(
            f"{name}: input is {size} bytes, over the limit of {limits.max_input_bytes} bytes"
        )


def decode_base64(text: str, name: str = "<base64>") -> bytes:
    """Decode standard or URL-safe base64 (padding optional); SourceError when it is not base64."""
    raw = "".join(text.split())
    if not raw:
        raise SourceError(f"{name}: empty base64 string")
    raw = raw.replace("-", "+").replace("_", "/")
    raw += "=" * (-len(raw) % 4)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SourceError(f"{name}: not valid base64 ({exc})") from exc


def decode_data_uri(uri: str) -> bytes:
    """Decode a ``data:[<type>][;base64],<payload>`` URI."""
    m = _DATA_URI_RE.match(uri)
    if not m:
        raise SourceError("data URI: missing ',' separating the header from the payload")
    header, payload = m.group(1), uri[m.end() :]
    label = f"data URI ({header or 'no type'})"
    if header.lower().endswith(";base64"):
        return decode_base64(payload, label)
    from urllib.parse import unquote_to_bytes

    data = unquote_to_bytes(payload)
    if not data:
        raise SourceError(f"{label}: empty payload")
    return data


_MAGIC = (b"GIF8", b"\x89PNG", b"\xff\xd8\xff", b"RIFF", b"BM", b"\x1a\x45\xdf\xa3")


def _known_magic(data: bytes) -> bool:
    return data.startswith(_MAGIC) or data[4:8] == b"ftyp"


def _looks_like_base64(text: str) -> bool:
    if len(text) < 16 or len(text) % 4 == 1:
        return False
    return bool(_BASE64_RE.match(text[:4096].encode("ascii", "ignore"))) and text.isascii()


def resolve_source(
    source: Source,
    *,
    limits: MediaLimits = MediaLimits(),
    fetcher: Fetcher | None = None,
    name: str | None = None,
) -> ResolvedSource:
    """Classify ``source`` and return its bytes or path, enforcing ``max_input_bytes``.

    A ``str`` is tried, in order, as a data URI, an http(s) URL, an existing path, then base64;
    a string that is none of these is reported as a missing file (the most likely mistake).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or f"<{len(data)} bytes>"
        _check_size(len(data), label, limits)
        return ResolvedSource(name=label, data=data)
    if isinstance(source, os.PathLike):
        return _from_path(Path(os.fspath(source)), limits, name)
    if isinstance(source, str):
        return _from_string(source, limits, fetcher, name)
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<file object>"))
        chunk = source.read(limits.max_input_bytes + 1)
        if isinstance(chunk, str):
            raise SourceError(f"{label}: file object is in text mode; open it in binary mode ('rb')")
        _check_size(len(chunk), label, limits)
        return ResolvedSource(name=label, data=bytes(chunk))
    raise SourceError(f"unsupported source type {type(source).__name__}: pass a path, bytes or a URL")


def _from_path(path: Path, limits: MediaLimits, name: str | None) -> ResolvedSource:
    label = name or str(path)
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "no such file"
        raise MediaNotFoundError(f"{label}: {what}")
    _check_size(path.stat().st_size, label, limits)
    return ResolvedSource(name=label, path=path)


def _from_string(text: str, limits: MediaLimits, fetcher: Fetcher | None, name: str | None) -> ResolvedSource:
    stripped = text.strip()
    lowered = stripped[:8].lower()
    if lowered.startswith("data:"):
        data = decode_data_uri(stripped)
        label = name or "<data URI>"
        _check_size(len(data), label, limits)
        return ResolvedSource(name=label, data=data)
    if lowered.startswith(("http://", "https://")):
        if fetcher is None:
            raise SourceError(
                f"{stripped[:200]}: URL inputs need a fetcher (the server passes one); "
                "download the file and pass its path instead"
            )
        data = fetcher(stripped)
        label = name or stripped[:200]
        _check_size(len(data), label, limits)
        return ResolvedSource(name=label, data=data)
    if len(stripped) < 4096 and "\x00" not in stripped:
        path = Path(stripped).expanduser()
        try:
            exists = path.exists()
        except OSError:  # name too long etc.
            exists = False
        if exists:
            return _from_path(path, limits, name)
    if _looks_like_base64(stripped):
        label = name or "<base64 string>"
        try:
            data = decode_base64(stripped, label)
        except SourceError:
            data = b""
        # A short string that decodes to no known media ("/tmp/clip/abcd") was meant as a path.
        if data and (len(stripped) > 1024 or _known_magic(data)):
            _check_size(len(data), label, limits)
            return ResolvedSource(name=label, data=data)
    raise MediaNotFoundError(f"{name or stripped[:200]}: no such file (and not a URL, data URI or base64)")
