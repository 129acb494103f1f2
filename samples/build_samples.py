#!/usr/bin/env python
"""Build the bundled samples (see samples/README.md) and print where they are.

    python samples/build_samples.py [--out samples/build] [--force]

Idempotent: outputs that are already up to date are kept.  Also restores the committed
``samples/source_astronaut.jpg`` if it is missing (it is never overwritten, to avoid churn in git).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from sample_recipe import SAMPLE_SOURCE_NAME, build_samples

SAMPLES_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR / "build", help="output folder")
    parser.add_argument("--force", action="store_true", help="rebuild even if the outputs are up to date")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    paths = build_samples(args.out, force=args.force)
    committed = SAMPLES_DIR / SAMPLE_SOURCE_NAME
    if not committed.exists():
        shutil.copyfile(paths.source, committed)
    print(f"source: {paths.source}")
    print(f"gif:    {paths.gif}")
    print(f"video:  {paths.video}")
    print(f"({time.perf_counter() - started:.2f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
