"""Reading a Content-Length that a peer controls, in both directions (a client's request body, a
fetched URL's response).

Why not ``int(value)``: Python refuses to convert more than 4,300 digits (``ValueError``, the
guard against quadratic-time parsing), so a 5,000-digit header raised out of the fetcher (a 500
from the server, a traceback from ``frameswap swap URL``). The length is compared by its digits
first; only a number short enough to matter is converted.
"""

from __future__ import annotations


def declared_over(value: str | bytes | None, limit: int) -> bool:
    """Whether a Content-Length header declares more than ``limit`` bytes (False when absent or
    not a plain decimal number: the body's own size is then what the reader counts)."""
    if value is None:
        return False
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not (text.isascii() and text.isdigit()):  # isdigit alone admits "²", which int() refuses
        return False
    digits = text.lstrip("0")
    if len(digits) != len(str(limit)):
        return len(digits) > len(str(limit))
    return int(digits) > limit
