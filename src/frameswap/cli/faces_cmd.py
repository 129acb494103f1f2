"""`frameswap faces PATH`: list the indexed faces (the numbers input_faces_index uses) and draw them.

For a picture, index i is the i-th largest face. For an animation or video, faces are tracked
through every frame and index i is the i-th largest face of the reference frame (the first frame
with a face unless ``--reference-frame`` names one); people who first appear later get the next
indexes in order of appearance. ``--json`` prints the contract other tools read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from frameswap.errors import NoFaceError
from frameswap.options import AnalyzerName, SwapOptions, TrackerOptions, choices

DEFAULTS = SwapOptions()  # the one place defaults live


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
    p.add_argument("--analyzer", choices=choices(AnalyzerName), default=DEFAULTS.analyzer,
                   help="face analyzer (default %(default)s)")
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


def _frames(path: str):
    """An iterator of the RGB frames of an input; the reader is closed when the iterator ends."""
    from frameswap.media import open_media

    with open_media(path) as reader:
        for frame in reader.frames():
            yield frame.rgb


def run(args: argparse.Namespace) -> int:
    from frameswap.faces.select import IdentityIndex
    from frameswap.factory import create_analyzer
    from frameswap.media import open_media
    from frameswap.models.store import resolve_models_dir
    from frameswap.pipeline.analysis import analyze_target

    models_dir = resolve_models_dir(args.models_dir and str(args.models_dir), os.environ)
    analyzer = create_analyzer(args.analyzer, models_dir=models_dir, providers=("auto",))
    with open_media(args.path) as reader:
        info = reader.info
        animated = info.kind != "image" and info.frame_count != 1
        if animated:
            # the very pass `frameswap swap` runs, so both give the same indexes
            options = TrackerOptions(detect_every=args.detect_every)
            tracked = analyze_target(reader.frames(), analyzer, tracker_options=options,
                                     batch_size=DEFAULTS.batch_size).faces
        else:
            tracked = [analyzer.analyze([next(iter(reader.frames())).rgb])[0]]
    try:
        if animated:
            index = IdentityIndex.from_tracks(tracked, args.reference_frame)
        else:
            index, tracked[0] = IdentityIndex.from_image(tracked[0])
    except NoFaceError:
        if args.reference_frame is not None:
            raise
        index = None  # nothing found: an empty listing, not an error
    reference = index.reference_frame if index else 0
    report = {
        "path": str(args.path),
        "kind": info.kind,
        "analyzer": getattr(analyzer, "name", args.analyzer),
        "frame_count": len(tracked),
        "reference_frame": reference,
        "width": info.width,
        "height": info.height,
        "faces": [f.to_json(animated) for f in index.faces] if index else [],
    }
    if args.preview:
        _write_preview(args.path, args.preview, index, reference)
        report["preview"] = str(args.preview)
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_table(report, animated)
    return 0


def _write_preview(path: str, out: str, index, reference: int) -> None:
    """Decode again up to the frames needed (the reference, and first frames of later people)."""
    from frameswap.faces.preview import compose_preview, crop_face, save_image_atomic

    faces = list(index.faces) if index else []
    at_ref = [f for f in faces if f.at_reference]
    later = [f for f in faces if f not in at_ref]
    wanted = {reference} | {f.first_frame for f in later}
    images: dict[int, np.ndarray] = {}
    frames = _frames(path)
    for i, rgb in enumerate(frames):
        if i in wanted:
            images[i] = rgb
        if i >= max(wanted):
            break
    frames.close()
    crops = [(f.index, crop_face(images[f.first_frame], f.box)) for f in later if f.first_frame in images]
    picture = compose_preview(images[reference], [(f.index, f.box) for f in at_ref], crops)
    save_image_atomic(out, picture)


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
