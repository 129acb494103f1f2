"""The processing pipeline: decode → analyse/track → select → swap → restore → encode."""

from frameswap.pipeline.result import SwapResult
from frameswap.pipeline.run import Models, run_swap

__all__ = ["Models", "SwapResult", "run_swap"]
