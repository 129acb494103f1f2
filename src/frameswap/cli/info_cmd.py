"""``frameswap info PATH [--json]``: what a picture, animation or video holds, without decoding it all."""

from __future__ import annotations

import argparse
import json

from frameswap.media import open_media


def _summary(durations: list[float]) -> str:
    if not durations:
        return "-"
    if len(set(durations)) == 1:
        return f"{len(durations)} x {durations[0]:g} ms"
    shown = ", ".join(f"{d:g}" for d in durations[:12])
    more = f", ... ({len(durations)} frames, {sum(durations):g} ms in all)" if len(durations) > 12 else ""
    return f"[{shown}{more}] ms"


def run(args: argparse.Namespace) -> int:
    with open_media(args.path) as reader:
        info = reader.info
        data = info.to_json()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    loop = data["loop"]
    loop_text = "absent (play once)" if loop is None else ("forever" if loop == 0 else str(loop))
    rows = [
        ("file", args.path),
        ("format", f"{data['format']} ({data['kind']})"),
        ("size", f"{data['width']}x{data['height']}"),
        ("frames", str(data["frame_count"])),
        ("durations", _summary(list(info.durations_ms))),
        ("loop", loop_text),
        ("fps", "-" if data["fps"] is None else f"{data['fps']:.3f}"),
        ("time base", data["time_base"] or "-"),
        ("audio", data["audio_codec"] if data["has_audio"] else "none"),
        ("alpha", "yes" if data["has_alpha"] else "no"),
    ]
    for key, value in rows:
        print(f"{key:<10} {value}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="show format, size, frame count, per-frame durations, loop and audio of a media file",
        description="Show what a picture, animation or video holds. --json keys are a stable contract: "
        "format, kind, width, height, frame_count, durations_ms, loop, fps, time_base, has_audio, "
        "audio_codec, has_alpha.",
    )
    p.add_argument("path", help="picture, GIF/APNG/WebP animation or video file")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)
