"""The ``frameswap`` command: parse arguments, call the library, map errors to exit codes.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, a callable ``(args) -> int``. Errors are mapped to exit codes here only.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from frameswap import __version__
from frameswap.cli.exit_codes import exit_code_for
from frameswap.errors import FrameswapError

SUBCOMMANDS = ("info", "faces", "swap", "identity", "models", "serve", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frameswap",
        description="Swap faces in pictures, animated GIF/APNG/WebP and videos, keeping their timing.",
    )
    parser.add_argument("--version", action="version", version=f"frameswap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"frameswap.cli.{name}_cmd")
        module.register(sub)
    return parser


def _single_threaded_opencv() -> None:
    """Keep OpenCV's own thread pool to one thread for the process this command owns.

    frameswap already runs its stages on their own threads and swaps a batch's frames in
    parallel; OpenCV's pool, splitting each small face-sized call again, mostly spins: on 2 cores
    it cost 0.5 s of CPU (and 0.2 s of wall time) on the sample GIF. It is a process-wide
    setting, so it is made here, where the process is ours, and never by the library.
    """
    import cv2

    cv2.setNumThreads(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _single_threaded_opencv()
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except FrameswapError as exc:
        print(f"frameswap: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("frameswap: interrupted", file=sys.stderr)
        return 130
