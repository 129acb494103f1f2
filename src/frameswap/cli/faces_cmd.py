"""`frameswap faces PATH`: list the indexed faces (the numbers input_faces_index uses) and draw them.

For a picture, index i is the i-th largest face. For an animation or video, faces are tracked
through every frame and index i is the i-th largest face of the reference frame (the first frame
with a face unless ``--reference-frame`` names one); people who first appear later get the next
indexes in order of appearance. ``--json`` prints the contract other tools read.

The analyzer is resolved as ``frameswap swap`` resolves it (the one the engine needs), so the
indexes listed here are the ones ``swap`` uses with the same --engine/--analyzer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from frameswap.options import AnalyzerName, EngineName, SwapOptions, TrackerOptions, choices

DEFAULTS = SwapOptions()  # the one place defaults live
if TYPE_CHECKING:
    from frameswap.pipeline.listing import FaceListing

if TYPE_CHECKING:
    pass


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "faces",
        help="list the faces of a picture, animation or video with their indexes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("path", help="picture, animated GIF/APNG/WebP or video")
    p.add_argument("--json", action="store_true", help="print JSON (the contract other tools read)")
    p.add_argument("--preview", metavar="OUT.png", help="write an image with each face boxed and numbered")
    p.add_argument(
        "--engine",
        choices=choices(EngineName),
        default=SwapOptions().engine,
        help="the swap engine whose indexes to list: auto resolves as `swap` does, and the engine "
        "decides the analyzer (inswapper: insightface, classic: dlib) (default %(default)s)",
    )
    p.add_argument(
        "--analyzer",
        choices=choices(AnalyzerName),
        default=SwapOptions().analyzer,
        help="face analyzer; auto: the one the engine needs (default %(default)s)",
    )
    p.add_argument("--models-dir", type=Path, default=None, help="where model files live")
    p.add_argument(
        "--reference-frame", type=int, default=None, metavar="N", help="frame whose faces define the indexes"
    )
    p.add_argument(
        "--detect-every",
        type=int,
        default=DEFAULTS.tracker.detect_every,
        metavar="N",
        help="full detection every N frames, faces followed in between (default %(default)s)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from frameswap.api import FaceSwapper
    from frameswap.models.store import resolve_models_dir

    models_dir = resolve_models_dir(args.models_dir and str(args.models_dir), os.environ)
    # the indexes come from FaceSwapper.faces, which resolves the analyzer as `swap` does
    swapper = FaceSwapper(models_dir=models_dir)
    options = SwapOptions(
        engine=args.engine,
        analyzer=args.analyzer,
        reference_frame=args.reference_frame,
        tracker=TrackerOptions(detect_every=args.detect_every),
    )
    listing = swapper.faces(args.path, options)
    report = listing.to_json(str(args.path))
    if args.preview:
        _write_preview(args.path, args.preview, listing, options)
        report["preview"] = str(args.preview)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(report, listing.animated)
    return 0


def _write_preview(path: str, out: str, listing: FaceListing, options: SwapOptions) -> None:
    """The reference frame with its faces numbered, and crops of people who appear later."""
    from frameswap.faces.preview import compose_preview, crop_face, save_image_atomic
    from frameswap.pipeline.listing import listing_frames

    images = listing_frames(path, listing, options)
    at_ref = [(f.index, f.box) for f in listing.faces if f.at_reference]
    crops = [(f.index, crop_face(images[f.first_frame], f.box)) for f in listing.faces if not f.at_reference]
    save_image_atomic(out, compose_preview(images[listing.reference_frame], at_ref, crops))


def _print_table(report: dict, animated: bool) -> None:
    faces = report["faces"]
    head = f"{report['path']}: {len(faces)} face(s) ({report['analyzer']} analyzer)"
    if animated:
        head += f", {report['frame_count']} frames, indexes from frame {report['reference_frame']}"
    print(head)
    for f in faces:
        x1, y1, x2, y2 = f["box"]
        line = f"  {f['index']:>3}  box {x1:.0f},{y1:.0f},{x2:.0f},{y2:.0f}  score {f['score']:.3f}"
        if animated:
            line += f"  first frame {f['first_frame']}, seen in {f['frames_seen']} frame(s)"
        print(line)
    if "preview" in report:
        print(f"preview: {report['preview']}")
