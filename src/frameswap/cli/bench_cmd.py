"""``frameswap bench``: run the speed and quality benchmark, print a table or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    from frameswap.bench.cases import CASE_NAMES
    from frameswap.bench.setups import SETUP_NAMES
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
    p.add_argument("--cases", nargs="+", default=list(CASE_NAMES), choices=CASE_NAMES, metavar="CASE",
                   help=f"cases to run: {', '.join(CASE_NAMES)} (default all)")
    p.add_argument("--engines", nargs="+", default=list(SETUP_NAMES), choices=SETUP_NAMES, metavar="ENGINE",
                   help=f"engine set-ups: {', '.join(SETUP_NAMES)} (default all)")
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
    p.add_argument("--out", default="bench-out",
                   help="work folder: inputs, outputs, report (default bench-out)")
    p.add_argument("--turned-head", metavar="MEDIA_DIR",
                   help="run only the turned-head case (one source photo against three, classic engine) "
                   "on the trial clips under MEDIA_DIR (the shared media folder: see INDEX.md there)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from frameswap.bench import BenchConfig, format_report, run_benchmarks
    from frameswap.options import SwapOptions, TrackerOptions

    out = Path(args.out)
    if args.turned_head:
        return _turned_head(args, out)
    config = BenchConfig(
        work_dir=out,
        cases=tuple(args.cases),
        engines=tuple(args.engines),
        runs=args.runs,
        warmup=args.warmup,
        baseline_runs=args.baseline_runs,
        quality=not args.no_quality,
        quality_frames=args.quality_frames,
        inswapper_width=args.inswapper_width,
        options=SwapOptions(tracker=TrackerOptions(detect_every=args.detect_every)),
    )

    def event(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    report = run_benchmarks(config, on_event=event)
    text = json.dumps(report, indent=2)
    (out / "report.json").write_text(text)
    table = format_report(report)
    (out / "report.md").write_text(table + "\n")
    print(text if args.json else table)
    return 0


def _turned_head(args: argparse.Namespace, out: Path) -> int:
    from frameswap.bench.turned_head import format_turned_head, run_turned_head

    def event(message: str) -> None:
        if not args.quiet:
            print(f"[bench] {message}", file=sys.stderr, flush=True)

    report = run_turned_head(Path(args.turned_head), out / "turned_head", on_event=event)
    text = json.dumps(report, indent=2)
    (out / "turned_head.json").write_text(text)
    print(text if args.json else format_turned_head(report))
    return 0
