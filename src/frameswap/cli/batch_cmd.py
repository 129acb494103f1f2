"""``frameswap batch SOURCE INPUT... --out-dir DIR``: one source face into many files."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from frameswap.cli.exit_codes import BATCH_FAILURES
from frameswap.cli.swap_cmd import add_swap_options, options_from
from frameswap.media.writer import FORMATS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="swap a face from SOURCE into many files (folders, globs), locally or on Ray",
        description="Swap the face(s) of SOURCE into every INPUT: files, folders (searched recursively "
        "for media) or globs (quoted, ** allowed). Each output keeps its input's path relative to the "
        "folder or glob root, and its format unless --format is given, and is written atomically. An "
        "output newer than its input and SOURCE is skipped, so re-running after a crash finishes the "
        "rest (--force redoes them). A failing file never stops the batch; the exit code is "
        f"{BATCH_FAILURES} when any failed.",
    )
    p.add_argument("source", help="photo with the face to put in")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="file, folder or glob of targets")
    p.add_argument("--out-dir", required=True, type=Path, help="folder the outputs are written to")
    formats = [f for f in FORMATS if f != "apng"]  # .png of an animation is APNG anyway
    p.add_argument("--format", choices=formats, metavar="FMT",
                   help=f"write every output in this format ({', '.join(formats)}); default: the input's")
    p.add_argument("--report", type=Path, metavar="FILE",
                   help="write one JSON line per input (input, output, status, frames, faces_swapped, "
                   "seconds, error_code/error_message) to FILE")
    p.add_argument("--force", action="store_true", help="redo outputs that are already up to date")
    p.add_argument("--workers", type=int,
                   help="worker processes (default: one per core; 1 runs in this process); with --ray, "
                   "actors (default: as many as the cluster's CPUs or GPU shares allow)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run on Ray: no ADDRESS starts a local Ray for this run; 'auto' joins this "
                   "machine's cluster, ray://HOST:10001 a remote one (needs frameswap[ray])")
    p.add_argument("--gpus-per-worker", type=float,
                   help="with --ray on a cluster with GPUs: the GPU share each actor takes (default 0.5)")
    add_swap_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from frameswap.batching import batch
    from frameswap.models.store import resolve_models_dir

    result = batch(
        args.source,
        args.inputs,
        args.out_dir,
        options=replace(options_from(args), output_format=args.format),
        report=args.report,
        force=args.force,
        ray=args.ray,
        workers=args.workers,
        gpus_per_worker=args.gpus_per_worker,
        models_dir=resolve_models_dir(args.models_dir, os.environ),
        providers=args.providers,
        progress=not args.quiet,
    )
    for stale in result.swept:
        print(f"frameswap: removed {stale}, left by a run that was killed", file=sys.stderr)
    print(result.summary(), file=sys.stdout)
    if result.report is not None:
        print(f"report: {result.report}", file=sys.stdout)
    return BATCH_FAILURES if result.failed else 0
