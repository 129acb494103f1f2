"""The processing pipeline: decode → analyse/track → select → swap → restore → encode."""

from frameswap.pipeline.run import Models, SwapOutcome, run_swap

__all__ = ["Models", "SwapOutcome", "run_swap"]
