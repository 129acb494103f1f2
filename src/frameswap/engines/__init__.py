"""Swap engines behind one interface (``frameswap.engines.base.SwapEngine``)."""
