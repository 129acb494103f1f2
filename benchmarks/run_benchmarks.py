"""Run the frameswap benchmark as a script: ``python benchmarks/run_benchmarks.py [--json] ...``.

The same as ``frameswap bench``, which loads the harness (``benchmarks/fsbench``) from this checkout.
"""

from __future__ import annotations

import sys

from frameswap.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
