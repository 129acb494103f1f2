"""``frameswap swap SOURCE TARGET -o OUT``: the main job from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from frameswap.options import (
    AnalyzerName,
    EncodeOptions,
    EngineName,
    GenderName,
    KeepRegion,
    ProviderName,
    RestorerName,
    SwapOptions,
    TrackerOptions,
    choices,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "swap",
        help="swap a face from SOURCE into TARGET (picture, GIF/APNG/WebP or video)",
        description="Swap faces from the SOURCE photo into TARGET, keeping every frame's timing, "
        "the loop count and the audio. Faces are indexed large to small (0 is the largest); on an "
        "animation an index names a tracked person.",
    )
    p.add_argument("source", help="photo with the face to put in (path, URL or base64), or an identity "
                   "file from 'frameswap identity build'")
    p.add_argument("target", help="picture, animated GIF/APNG/WebP or video whose face is replaced")
    p.add_argument("-o", "--output", help="output file; its extension picks the format "
                   "(default: TARGET's name with .swapped before the extension)")
    p.add_argument("--input-faces-index", default="0", help='target faces, e.g. "0" or "0,1" (default 0)')
    p.add_argument("--source-faces-index", default="0", help='source faces, e.g. "0" or "1,0" (default 0)')
    p.add_argument("--face-restore", default="none", choices=choices(RestorerName), metavar="NAME",
                   help=f"restorer: {', '.join(choices(RestorerName))} (default none)")
    p.add_argument("--restore-weight", type=float, default=0.5, help="CodeFormer fidelity in [0,1]")
    p.add_argument("--restore-blend", type=float, default=1.0, help="restored face visibility in [0,1]")
    p.add_argument("--engine", default="auto", choices=choices(EngineName))
    p.add_argument("--analyzer", default="auto", choices=choices(AnalyzerName))
    p.add_argument(
        "--models-dir", help="model directory (default: $FRAMESWAP_HOME/models, else ~/.frameswap/models)"
    )
    p.add_argument("--providers", nargs="+", default=["auto"], choices=choices(ProviderName),
                   help="onnxruntime providers in order of preference (default auto: CUDA when present)")
    p.add_argument("--keep", action="append", default=[], choices=choices(KeepRegion),
                   help="leave this region of each target face as it was (repeatable: --keep mouth "
                   "--keep eyes); lips and gaze stay exactly the original's")
    p.add_argument("--gender", choices=choices(GenderName),
                   help="only target faces of this gender, indexed among themselves (insightface analyzer "
                   "with buffalo_l's genderage.onnx; an error with the dlib analyzer)")
    p.add_argument("--reference-frame", type=int, help="animation frame whose faces define the indexes")
    p.add_argument("--detect-every", type=int, default=TrackerOptions().detect_every,
                   help="full face detection every N frames, faces followed in between (default %(default)s)")
    p.add_argument("--quality", type=int, default=80, help="output quality 0-100 (default 80)")
    p.add_argument("--batch-size", type=int, default=8, help="frames per processing batch (default 8)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print a JSON summary with per-stage seconds")
    p.set_defaults(func=run)


def default_output(target: str) -> Path:
    """``clip.gif`` → ``clip.swapped.gif`` next to the target (never the target itself)."""
    path = Path(target)
    if not path.suffix:
        return path.with_name(path.name + ".swapped.png")
    return path.with_name(f"{path.stem}.swapped{path.suffix}")


def run(args: argparse.Namespace) -> int:
    from frameswap.api import FaceSwapper
    from frameswap.models.store import resolve_models_dir

    options = SwapOptions(
        input_faces_index=args.input_faces_index,
        source_faces_index=args.source_faces_index,
        face_restore=args.face_restore,
        restore_weight=args.restore_weight,
        restore_blend=args.restore_blend,
        engine=args.engine,
        analyzer=args.analyzer,
        reference_frame=args.reference_frame,
        tracker=TrackerOptions(detect_every=args.detect_every),
        encode=EncodeOptions(quality=args.quality),
        batch_size=args.batch_size,
        keep=tuple(args.keep),
        gender=args.gender,
    )
    output = Path(args.output) if args.output else default_output(args.target)
    swapper = FaceSwapper(
        models_dir=resolve_models_dir(args.models_dir, os.environ), providers=args.providers
    )
    result = swapper.swap(args.source, args.target, output, options=options, progress=not args.quiet)
    summary = {
        "output": str(result.path),
        "format": result.format,
        "frames": result.frame_count,
        "faces_found": result.faces_found,
        "faces_swapped": result.stats.faces_swapped,
        "engine": result.engine,
        "stats": result.stats.to_json(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"wrote {result.path} ({result.format}, {result.frame_count} frame"
            f"{'s' if result.frame_count != 1 else ''}, {result.stats.faces_swapped} faces swapped, "
            f"engine {result.engine}) in {result.stats.wall_seconds:.2f} s",
            file=sys.stdout,
        )
    return 0
