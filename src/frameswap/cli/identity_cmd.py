"""``frameswap identity build PHOTO... -o me.identity``: one person from several photos, reusable.

The file holds each photo's face crop and what the analyzer found in it (a zip of JSON and NumPy
arrays, never a pickle), and goes wherever a source photo goes: ``frameswap swap me.identity
clip.gif``, the Python API, or the server's ``source_img`` as base64 or a URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from frameswap.options import EngineName, ProviderName, choices


def register(sub: argparse._SubParsersAction) -> None:
    help_text = "build a reusable identity from several photos of one person"
    p = sub.add_parser("identity", help=help_text, description=f"{help_text[0].upper()}{help_text[1:]}: "
                       "a file that goes wherever a source photo goes (swap, the API, the server).")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    b = actions.add_parser(
        "build",
        help="build an identity file from photos of one person",
        description="Analyse each photo, keep its largest face, and refuse a photo whose face is not "
        "the same person as in the others (by the analyzer's identity descriptor, naming the photo). "
        "With the inswapper engine the photos' ArcFace embeddings are averaged; with the classic "
        "engine each target face gets the photo whose head pose is nearest (frontal, turned left, "
        "turned right... give the poses your targets show).",
    )
    b.add_argument("photos", nargs="+", metavar="PHOTO", help="photos of one person")
    b.add_argument("-o", "--output", required=True, help="identity file to write (e.g. me.identity)")
    b.add_argument("--engine", default="auto", choices=choices(EngineName),
                   help="build with the analyzer this engine's swaps use (default auto: as swap picks)")
    b.add_argument("--models-dir",
                   help="model directory (default: $FRAMESWAP_HOME/models, else ~/.frameswap/models)")
    b.add_argument("--providers", nargs="+", default=["auto"], choices=choices(ProviderName))
    b.add_argument("--json", action="store_true", help="print a JSON summary")
    b.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    from frameswap.api import FaceSwapper
    from frameswap.errors import OverwriteInputError
    from frameswap.identity import save_identity
    from frameswap.media.writer import same_file
    from frameswap.models.store import resolve_models_dir

    output = Path(args.output)
    for photo in args.photos:
        if same_file(output, Path(photo)):
            raise OverwriteInputError(f"{output}: refusing to overwrite an input photo")
    models_dir = resolve_models_dir(args.models_dir, os.environ)
    swapper = FaceSwapper(models_dir=models_dir, providers=args.providers, engine=args.engine)
    identity = swapper.build_identity(args.photos)
    save_identity(identity, output)
    summary = {
        "output": str(output),
        "analyzer": identity.analyzer,
        "photos": [p.name for p in identity.photos],
        "version": identity.version,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote {output}: {len(identity.photos)} photo(s) of one person ({identity.analyzer} analyzer)",
              file=sys.stdout)
    return 0
