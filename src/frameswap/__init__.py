"""frameswap: face swap for pictures, animations and videos, with exact timing."""

from __future__ import annotations

__version__ = "0.1.0"

from frameswap import errors

__all__ = ["__version__", "errors"]
