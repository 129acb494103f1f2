"""Turn a request's ``source_img`` / ``target_img`` string into bytes, the server's way.

The server never hands a client's string to the library as is: a string the library would take
for a *file path* must not let a client read files on the server. So here a value is an http(s)
URL (fetched by the guarded :class:`~frameswap.server.fetch.UrlFetcher`), a data URI, or base64,
and nothing else; what reaches the swapper is always bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from frameswap.errors import MediaLimitError, SourceError, URLRefusedError
from frameswap.media.sources import decode_base64, decode_data_uri

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]{1,15}):")


def _b64decode(text: str, field: str) -> bytes:
    try:
        return decode_base64(text, field)
    except SourceError:
        raise SourceError(
            f"{field} is neither an http(s) URL nor valid base64 (nor a data URI); "
            "send a URL, plain base64 of the file, or data:image/...;base64,..."
        ) from None


def _data_uri(value: str, field: str) -> bytes:
    try:
        return decode_data_uri(value)
    except SourceError as exc:
        raise SourceError(f"{field}: {exc}; use data:image/png;base64,<data>") from None


def decode_image_field(value: str, field: str, *, fetcher: Callable[[str], bytes], max_bytes: int) -> bytes:
    """The bytes ``value`` designates, or a :class:`SourceError` naming ``field`` and the fix."""
    text = value.strip()
    if not text:
        raise SourceError(f"{field} is empty; send a URL, base64 or a data URI")
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else None
    if scheme in ("http", "https"):
        data = fetcher(text)
    elif scheme == "data":
        data = _data_uri(text, field)
    elif scheme is not None:  # base64 has no ':', so this is a URL of another scheme (file:, ftp:...)
        raise URLRefusedError(f"{field}: only http and https URLs are fetched, not {scheme}: URLs")
    else:
        data = _b64decode(text, field)
    if not data:
        raise SourceError(f"{field} decodes to no bytes at all")
    if len(data) > max_bytes:
        raise MediaLimitError(
            f"{field} is {len(data)} bytes, over this server's {max_bytes}-byte media limit"
        )
    return data
