"""The benchmark harness (``frameswap bench``, ``benchmarks/run_benchmarks.py``): speed and quality.

Cases: a still, the sample GIF (GIF and APNG out), the sample video, a ~300-frame GIF, a GIF with
blurred and dark frames, a 1280x720 group clip and a 720x1280 close-up, all zooms and pans of one
hand-annotated photo; each with the classic engine and (still, sample GIF) the inswapper engine on
a sized synthetic model. Per case: end-to-end seconds (median of several runs after a warm-up,
model loading apart), frames per second, per-stage seconds, peak memory, the decode+encode floor
(and process start), a naive-baseline ratio, quality (identity distances, landmark jitter, exact
timing) and pixel figures against the truth boxes (every visible face swapped, change outside the
faces, flicker, colour, size).
"""

from fsbench.harness import BenchConfig, run_benchmarks
from fsbench.report import evaluate_targets, format_report

__all__ = ["BenchConfig", "evaluate_targets", "format_report", "run_benchmarks"]
