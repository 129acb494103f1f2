"""`frameswap faces` (not yet implemented)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("faces", help="(not yet implemented)")
    p.set_defaults(func=lambda args: 1)
