"""``frameswap swap SOURCE TARGET -o OUT``: the main job from the command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from frameswap.atomic import sweep_stale_parts
from frameswap.cli.disclosure_args import add_disclosure_arguments, disclosure_options
from frameswap.options import (
    AnalyzerName,
    EngineName,
    GenderName,
    KeepRegion,
    MediaLimits,
    ProviderName,
    RestorerName,
    SwapOptions,
    choices,
)

# the option records are the one place defaults live; the flags show and use theirs
DEFAULTS = SwapOptions()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "swap",
        help="swap a face from SOURCE into TARGET (picture, GIF/APNG/WebP or video)",
        description="Swap faces from the SOURCE photo into TARGET, keeping every frame's timing, "
        "the loop count and the audio. Faces are indexed large to small (0 is the largest); on an "
        "animation an index names a tracked person.",
    )
    p.add_argument("source", help="photo with the face to put in: a path, an http(s) URL or base64; or an "
                   "identity file from 'frameswap identity build' (same forms)")
    p.add_argument("target", help="picture, animated GIF/APNG/WebP or video whose face is replaced: "
                   "a path or an http(s) URL. URLs are downloaded with the server's guarded fetcher: "
                   "public addresses and this machine only (no private network), "
                   f"{URL_TIMEOUT_S:g} s for the whole download, redirects checked")
    p.add_argument("-o", "--output", help="output file; its extension picks the format "
                   "(default: TARGET's name with .swapped before the extension)")
    add_swap_options(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print a JSON summary with per-stage seconds")
    p.set_defaults(func=run)


def add_swap_options(p: argparse.ArgumentParser) -> None:
    """The flags of one swap (faces, restorer, engine, models, tracking, encoding); ``batch`` too."""
    p.add_argument("--input-faces-index", default=DEFAULTS.input_faces_index,
                   help='target faces, e.g. "0" or "0,1" (default %(default)s)')
    p.add_argument("--source-faces-index", default=DEFAULTS.source_faces_index,
                   help='source faces, e.g. "0" or "1,0" (default %(default)s)')
    p.add_argument("--face-restore", default=DEFAULTS.face_restore, choices=choices(RestorerName),
                   metavar="NAME", help=f"restorer: {', '.join(choices(RestorerName))} (default %(default)s)")
    p.add_argument("--restore-weight", type=float, default=DEFAULTS.restore_weight,
                   help="CodeFormer fidelity in [0,1] (default %(default)s)")
    p.add_argument("--restore-blend", type=float, default=DEFAULTS.restore_blend,
                   help="restored face visibility in [0,1] (default %(default)s)")
    p.add_argument("--engine", default=DEFAULTS.engine, choices=choices(EngineName),
                   help="swap engine (default %(default)s: inswapper when its models are present, "
                   "else classic)")
    p.add_argument("--analyzer", default=DEFAULTS.analyzer, choices=choices(AnalyzerName),
                   help="face analyzer (default %(default)s: the one the engine needs)")
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
    p.add_argument("--detect-every", type=int, default=DEFAULTS.tracker.detect_every,
                   help="full face detection every N frames, faces followed in between (default %(default)s)")
    p.add_argument("--quality", type=int, default=DEFAULTS.encode.quality,
                   help="output quality 0-100 (default %(default)s)")
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size,
                   help="frames per processing batch (default %(default)s)")
    add_disclosure_arguments(p)


URL_TIMEOUT_S = 120.0


def url_fetcher(limits: MediaLimits) -> Callable[[str], bytes]:
    """The fetcher for URL inputs: the server's SSRF-guarded one (the media layer never fetches),
    with this machine allowed, since the user running the command already reaches it. It needs
    the standard library only, so it works without the server extra."""
    from frameswap.server.fetch import UrlFetcher, UrlFetchPolicy

    return UrlFetcher(
        UrlFetchPolicy(allow_loopback=True, max_bytes=limits.max_input_bytes, timeout_s=URL_TIMEOUT_S)
    )


def default_output(target: str) -> Path:
    """``clip.gif`` → ``clip.swapped.gif`` next to the target (never the target itself)."""
    path = Path(target)
    if not path.suffix:
        return path.with_name(path.name + ".swapped.png")
    return path.with_name(f"{path.stem}.swapped{path.suffix}")


def _is_url(value: str) -> bool:
    return value.strip()[:8].lower().startswith(("http://", "https://"))


def options_from(args: argparse.Namespace) -> SwapOptions:
    """The swap options the flags ask for; a flag not given keeps the option record's default."""
    return replace(
        DEFAULTS,
        input_faces_index=args.input_faces_index,
        source_faces_index=args.source_faces_index,
        face_restore=args.face_restore,
        restore_weight=args.restore_weight,
        restore_blend=args.restore_blend,
        engine=args.engine,
        analyzer=args.analyzer,
        reference_frame=args.reference_frame,
        tracker=replace(DEFAULTS.tracker, detect_every=args.detect_every),
        encode=replace(DEFAULTS.encode, quality=args.quality),
        batch_size=args.batch_size,
        keep=tuple(args.keep),
        gender=args.gender,
        disclosure=disclosure_options(args),
    )


def run(args: argparse.Namespace) -> int:
    from frameswap.api import FaceSwapper
    from frameswap.models.store import resolve_models_dir

    options = options_from(args)
    output = Path(args.output) if args.output else default_output(args.target)
    if _is_url(args.target) and not args.output:
        output = default_output(Path(urlsplit(args.target).path).name or "download.png")
    for stale in sweep_stale_parts(output.parent if str(output.parent) else "."):
        print(f"frameswap: removed {stale}, left by a run that was killed", file=sys.stderr)
    swapper = FaceSwapper(
        models_dir=resolve_models_dir(args.models_dir, os.environ), providers=args.providers
    )
    result = swapper.swap(
        args.source,
        args.target,
        output,
        options=options,
        progress=not args.quiet,
        fetcher=url_fetcher(options.limits),
    )
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
        unchanged = result.stats.faces_unchanged
        left = f", {unchanged} left as they were (profiles, or too small to swap)" if unchanged else ""
        print(
            f"wrote {result.path} ({result.format}, {result.frame_count} frame"
            f"{'s' if result.frame_count != 1 else ''}, {result.stats.faces_swapped} faces swapped{left}, "
            f"engine {result.engine}) in {result.stats.wall_seconds:.2f} s",
            file=sys.stdout,
        )
    return 0
