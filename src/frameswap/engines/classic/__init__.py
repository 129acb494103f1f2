"""The embedded classic engine (no model download): see ``engine`` for the method."""

from frameswap.engines.classic.engine import ClassicEngine, ClassicOptions, ClassicSource

__all__ = ["ClassicEngine", "ClassicOptions", "ClassicSource"]
