"""HTTP server: a self-hosted drop-in for the hosted Faceswap V2 API (needs ``frameswap[server]``).

``create_app`` and ``ServerSettings`` are loaded on first use, so the standard-library-only
``frameswap.server.fetch`` (which the CLI uses for URL inputs) imports without the server extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from frameswap.server.app import create_app
    from frameswap.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from frameswap.server.app import create_app

        return create_app
    if name == "ServerSettings":
        from frameswap.server.settings import ServerSettings

        return ServerSettings
    raise AttributeError(f"module 'frameswap.server' has no attribute {name!r}")
