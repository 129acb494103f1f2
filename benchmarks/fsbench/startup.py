"""Process start: what a fresh ``python`` pays before it can swap anything (interpreter and imports).

A one-shot CLI call pays it on top of the decode+encode floor, so the speed targets of the large
cases are stated against floor + process start. Measured with a subprocess that imports the public
API and exits, once per benchmark run (median of a few, the first warms the OS file cache).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

START_SCRIPT = "import frameswap.api"


def process_start_seconds(runs: int = 3) -> float:
    """Median wall seconds of ``python -c "import frameswap.api"`` in a fresh process."""
    seconds = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", START_SCRIPT], check=True, capture_output=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)
