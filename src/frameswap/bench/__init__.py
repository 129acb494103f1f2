"""The benchmark harness (``frameswap bench``, ``benchmarks/run_benchmarks.py``): speed and quality.

Cases: a still, the sample GIF, the sample video and a ~300-frame GIF built from the samples; each
with the classic engine and (still, sample GIF) the inswapper engine on a sized synthetic model.
Per case: end-to-end seconds (median of several runs after a warm-up, model loading apart), frames
per second, per-stage seconds, peak memory, the decode+encode floor, a naive-baseline ratio, and
quality (identity distances, landmark jitter, exact timing).
"""

from frameswap.bench.harness import BenchConfig, run_benchmarks
from frameswap.bench.report import evaluate_targets, format_report

__all__ = ["BenchConfig", "evaluate_targets", "format_report", "run_benchmarks"]
