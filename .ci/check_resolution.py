"""Check pip's resolution of a requirement without installing it: which distributions would land.

    python .ci/check_resolution.py ".[gpu]" --requires onnxruntime-gpu --forbids onnxruntime

Runs ``pip install --dry-run --ignore-installed --report`` (pip's JSON installation report) and
fails when a required distribution is missing from it or a forbidden one is in it. Used on the
[gpu] extra: onnxruntime and onnxruntime-gpu ship the same module, so a resolution with both breaks
the CUDA provider; the CPU build must never come in through another dependency.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def canonicalize_name(name: str) -> str:
    """PEP 503 normalisation, as pip compares names (kept here: CI's bare venvs lack ``packaging``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(requirement: str) -> set[str]:
    """Canonical names of every distribution pip would install for ``requirement`` in a fresh env."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--dry-run", "--ignore-installed",
             "--report", str(report), requirement],
            check=True,
        )
        data = json.loads(report.read_text())
    return {canonicalize_name(item["metadata"]["name"]) for item in data["install"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("requirement")
    parser.add_argument("--requires", action="append", default=[])
    parser.add_argument("--forbids", action="append", default=[])
    args = parser.parse_args(argv)
    names = resolve(args.requirement)
    missing = [n for n in args.requires if canonicalize_name(n) not in names]
    present = [n for n in args.forbids if canonicalize_name(n) in names]
    print(f"{args.requirement}: {len(names)} distributions; runtimes: "
          f"{', '.join(sorted(n for n in names if n.startswith('onnxruntime'))) or 'none'}")
    for name in missing:
        print(f"FAIL {args.requirement} does not resolve {name}", file=sys.stderr)
    for name in present:
        print(f"FAIL {args.requirement} resolves {name}, which it must not", file=sys.stderr)
    return 1 if missing or present else 0


if __name__ == "__main__":
    sys.exit(main())
