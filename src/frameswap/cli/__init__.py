"""The ``frameswap`` command: parse arguments, call the library, map errors to exit codes.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module sets
``func`` on its parser, a callable ``(args) -> int``. Errors are mapped to exit codes here only.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from frameswap._version import __version__
from frameswap.cli.exit_codes import DISK_FULL, exit_code_for
from frameswap.errors import FrameswapError, disk_full_error

SUBCOMMANDS = ("info", "faces", "swap", "batch", "identity", "models", "serve", "bench")


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


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's ``KeyboardInterrupt``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _stop_signals_interrupt() -> Iterator[None]:
    """Make SIGTERM (what ``timeout``, Docker and systemd send) and SIGHUP (a closed terminal) stop a
    command the way Ctrl-C does: the exception unwinds through the writers, which delete their
    temporary files, instead of the default action killing the process where it stands."""
    names = ("SIGTERM", "SIGHUP")
    previous = {}
    for name in names:
        if hasattr(signal, name):
            signum = getattr(signal, name)
            previous[signum] = signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _single_threaded_opencv()
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with _stop_signals_interrupt():
            return int(args.func(args) or 0)
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
        print(f"frameswap: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except Exception as exc:
        full = disk_full_error(exc)
        if full is not None:
            where = f" writing {full.filename}" if full.filename else ""
            print(f"frameswap: error: no space left on the device{where}; free some space", file=sys.stderr)
            return DISK_FULL
        if isinstance(exc, FrameswapError):
            print(f"frameswap: error: {exc}", file=sys.stderr)
            return exit_code_for(exc)
        raise
