"""HTTP server: a self-hosted drop-in for the hosted Faceswap V2 API (needs ``frameswap[server]``)."""

from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app"]
