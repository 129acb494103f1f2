"""API-key check on the ``x-api-key`` header, as the hosted API does it.

Keys are compared with :func:`hmac.compare_digest` against *every* configured key (no early exit),
so neither which key matched nor how much of a key matched shows in the response time. With no key
configured the server is open (and binds loopback by default; see ``settings``).
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request, Security
from fastapi.security import APIKeyHeader

from frameswap.server.errors import AuthError

API_KEY_HEADER = "x-api-key"

# Declares the header for the OpenAPI docs ("Authorize" button); the check itself is below.
api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Your API key.")


def key_matches(candidate: str, keys: tuple[str, ...]) -> bool:
    """True when ``candidate`` equals one of ``keys``, in time independent of where they differ."""
    given = candidate.encode("utf-8")
    found = False
    for key in keys:
        found |= hmac.compare_digest(given, key.encode("utf-8"))
    return found


def owner_id(key: str | None) -> str:
    """A stable, non-secret name for whoever holds ``key`` (jobs are visible to their owner only)."""
    return "" if key is None else hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def require_api_key(request: Request, given: str | None = Security(api_key_scheme)) -> str:
    """FastAPI dependency: raises :class:`AuthError` unless auth is off or the key is valid.

    Returns the caller's :func:`owner_id` ("" when auth is off).
    """
    keys: tuple[str, ...] = request.app.state.settings.api_keys
    if not keys:
        return ""
    if not given:
        raise AuthError(f"missing the {API_KEY_HEADER} header")
    if not key_matches(given, keys):
        raise AuthError(f"the {API_KEY_HEADER} header holds no valid key")
    return owner_id(given)
