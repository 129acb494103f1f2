"""`frameswap swap` (not yet implemented)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("swap", help="(not yet implemented)")
    p.set_defaults(func=lambda args: 1)
