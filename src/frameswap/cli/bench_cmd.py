"""``frameswap bench``: run the speed and quality benchmark, print a table or JSON.

The harness is not part of the installed package: it lives in the checkout's ``benchmarks/fsbench``
and builds its inputs with the sample recipe (``samples/``) and the synthetic models of the test kit
(``tests/kit``), none of which belongs in a wheel. So the command finds a checkout (the one an
editable install runs from, else the current folder), puts those three folders on this process's
import path (the process is the command's own, as with OpenCV's thread count in ``cli.main``) and
only then imports the harness; without a checkout, or without the ``bench`` extra's packages, it
stops with an error that says what to install or where to run it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from frameswap.atomic import atomic_output
from frameswap.errors import MissingDependencyError, OptionsError

# checkout folders the harness imports from: fsbench, sample_recipe, kit
CHECKOUT_DIRS = ("benchmarks", "samples", "tests")
# what the ``bench`` extra installs beyond the base install: peak memory, the annotated photo
BENCH_MODULES = ("psutil", "insightface")
INSTALL_HINT = 'pip install -e ".[bench]" in a frameswap checkout'
# the checkout an editable install runs from (for an installed wheel: site-packages' parent, which
# holds no harness, so the current folder is tried next)
INSTALLED_ROOT = Path(__file__).resolve().parents[3]


def find_checkout() -> Path | None:
    """The checkout holding the benchmark harness (``benchmarks/fsbench``): the one this package
    is installed from, else the current folder; None when neither has it."""
    for root in (INSTALLED_ROOT, Path.cwd()):
        if (root / "benchmarks" / "fsbench" / "__init__.py").is_file():
            return root
    return None


def load_harness() -> ModuleType:
    """Import ``fsbench`` from a checkout; a clear error when there is none or the extra is missing."""
    root = find_checkout()
    if root is None:
        raise MissingDependencyError(
            "frameswap bench runs from a source checkout (its harness, benchmarks/fsbench, is not "
            f"installed with the package): {INSTALL_HINT}, then run it from there"
        )
    missing = [name for name in BENCH_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(
            f"frameswap bench needs {', '.join(missing)}: install frameswap[bench] ({INSTALL_HINT})"
        )
    for folder in reversed(CHECKOUT_DIRS):
        path = str(root / folder)
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module("fsbench")


def _choices(names: Sequence[str], allowed: Sequence[str], what: str) -> tuple[str, ...]:
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise OptionsError(f"unknown {what} {', '.join(unknown)}; use any of: {', '.join(allowed)}")
    return tuple(names)


def register(sub: argparse._SubParsersAction) -> None:
    from frameswap.options import TrackerOptions

    p = sub.add_parser(
        "bench",
        help="benchmark speed and quality on the bundled samples",
        description="Time each case (median of --runs after a warm-up, model loading apart), with the "
        "per-stage split, peak memory, the decode+encode floor, a naive per-frame baseline and quality "
        "figures (identity distances, landmark jitter, exact timing) and, against the faces' known boxes, "
        "every visible face swapped, change outside the faces, flicker, colour and size; then judge the "
        "project's targets.",
    )
    p.add_argument("--json", action="store_true", help="print the JSON report instead of tables")
    p.add_argument("--cases", nargs="+", metavar="CASE",
                   help="cases to run (default all; the harness's names, e.g. still, sample_gif, video, "
                   "long_gif; an unknown name lists them)")
    p.add_argument("--engines", nargs="+", metavar="ENGINE",
                   help="engine set-ups, e.g. classic, inswapper (default all; an unknown name lists them)")
    p.add_argument("--runs", type=int, default=3, help="timed runs per case (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--baseline-runs", type=int, default=1, help="naive baseline runs (default 1; 0 skips)")
    p.add_argument("--no-quality", action="store_true", help="skip the quality figures")
    p.add_argument("--quality-frames", type=int, default=24, help="frames analysed for identity/jitter")
    p.add_argument("--inswapper-width", type=int, default=128,
                   help="channel width of the sized synthetic inswapper (default 128)")
    p.add_argument("--detect-every", type=int, default=TrackerOptions().detect_every,
                   help="pipeline option: full detection every N frames, faces followed between "
                   "(default %(default)s)")
    p.add_argument("--batch-files", type=int, default=8,
                   help="batch case: copies of the sample GIF run one after another and on the local "
                   "process pool, reported as a ratio (default 8; 0 skips)")
    p.add_argument("--batch-workers", type=int, help="batch case: pool processes (default: one per core)")
    p.add_argument("--out", default="bench-out",
                   help="work folder: inputs, outputs, report (default bench-out)")
    p.add_argument("--turned-head", metavar="MEDIA_DIR",
                   help="run only the turned-head case (one source photo against three, classic engine) "
                   "on the trial clips under MEDIA_DIR (the shared media folder: see INDEX.md there)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from frameswap.options import SwapOptions, TrackerOptions

    fsbench = load_harness()
    case_names = importlib.import_module("fsbench.cases").CASE_NAMES
    setup_names = importlib.import_module("fsbench.setups").SETUP_NAMES

    out = Path(args.out)
    if args.turned_head:
        return _turned_head(args, out)
    config = fsbench.BenchConfig(
        work_dir=out,
        cases=_choices(args.cases or case_names, case_names, "case"),
        engines=_choices(args.engines or setup_names, setup_names, "engine"),
        runs=args.runs,
        warmup=args.warmup,
        baseline_runs=args.baseline_runs,
        quality=not args.no_quality,
        quality_frames=args.quality_frames,
        inswapper_width=args.inswapper_width,
        options=SwapOptions(tracker=TrackerOptions(detect_every=args.detect_every)),
        batch_files=args.batch_files,
        batch_workers=args.batch_workers,
    )

    def event(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    report = fsbench.run_benchmarks(config, on_event=event)
    text = json.dumps(report, indent=2)
    _write(out / "report.json", text)
    table = fsbench.format_report(report)
    _write(out / "report.md", table + "\n")
    print(text if args.json else table)
    return 0


def _write(path: Path, text: str) -> None:
    """Write a report atomically: a run killed while writing keeps the last complete report (the
    README's figures are re-measured from these files), never half of one."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _turned_head(args: argparse.Namespace, out: Path) -> int:
    turned_head = importlib.import_module("fsbench.turned_head")  # run() loaded the harness

    def event(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    report = turned_head.run_turned_head(Path(args.turned_head), out / "turned_head", on_event=event)
    text = json.dumps(report, indent=2)
    _write(out / "turned_head.json", text)
    print(text if args.json else turned_head.format_turned_head(report))
    return 0
