"""The AI-disclosure flags, shared by ``frameswap swap`` (per run) and ``frameswap serve`` (server-wide)."""

from __future__ import annotations

import argparse
from pathlib import Path

from frameswap.options import DisclosureOptions

DISCLOSURE_HELP = (
    "Every output says in its metadata that it was altered with AI: the IPTC digital source type "
    "compositeWithTrainedAlgorithmicMedia and the tool's name and version, in XMP (JPEG, PNG/APNG, "
    "WebP, GIF, MP4/MOV; BMP, MKV, WebM and AVI have no place for it)."
)


def add_disclosure_arguments(p: argparse.ArgumentParser, *, unset_is_none: bool = False) -> None:
    """``--label``, ``--c2pa-cert``, ``--c2pa-key``, ``--no-disclosure`` into ``args.label``,
    ``args.c2pa_cert``, ``args.c2pa_key`` and ``args.disclosure`` (True, False with the flag; None
    when ``unset_is_none``, so a server setting from the environment is not overridden)."""
    group = p.add_argument_group("AI disclosure", DISCLOSURE_HELP)
    group.add_argument(
        "--label",
        metavar="TEXT",
        help='draw TEXT small in the bottom-right corner of every frame, e.g. "AI-edited"',
    )
    group.add_argument(
        "--c2pa-cert",
        type=Path,
        metavar="PEM",
        help='certificate chain (signer first) to sign a C2PA manifest with; needs --c2pa-key and '
        'pip install "frameswap[c2pa]"',
    )
    group.add_argument(
        "--c2pa-key", type=Path, metavar="PEM", help="private key of --c2pa-cert (unencrypted PEM)"
    )
    group.add_argument(
        "--no-disclosure",
        dest="disclosure",
        action="store_false",
        default=None if unset_is_none else True,
        help="for research pipelines only: write no XMP statement, so the output does not say it was "
        "altered with AI (--label still draws its text); cannot be combined with --c2pa-cert",
    )


def disclosure_options(args: argparse.Namespace) -> DisclosureOptions:
    """The options the flags ask for (OptionsError for a lone --c2pa-cert or key, or an empty label)."""
    return DisclosureOptions(
        machine_readable=args.disclosure is not False,
        label=args.label,
        c2pa_cert=args.c2pa_cert,
        c2pa_key=args.c2pa_key,
    )
