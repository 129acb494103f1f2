"""``frameswap info PATH [--json]``: what a picture, animation or video holds, without decoding it all."""

from __future__ import annotations

import argparse
import json
from typing import Any

from frameswap.media import open_media


def _summary(durations: list[float]) -> str:
    if not durations:
        return "-"
    if len(set(durations)) == 1:
        return f"{len(durations)} x {durations[0]:g} ms"
    shown = ", ".join(f"{d:g}" for d in durations[:12])
    more = f", ... ({len(durations)} frames, {sum(durations):g} ms in all)" if len(durations) > 12 else ""
    return f"[{shown}{more}] ms"


def _provenance_rows(provenance: dict[str, Any]) -> list[tuple[str, str]]:
    """``ai``: the XMP statement; ``c2pa``: the manifest's state, signer and actions, when present."""
    kind = provenance["digital_source_type"]
    ai = "no statement" if kind is None else kind.rsplit("/", 1)[-1]
    if provenance["creator_tool"]:
        ai += f" (by {provenance['creator_tool']})"
    c2pa = provenance["c2pa"]
    if c2pa is None:
        c2pa_text = "none"
    elif not c2pa["checked"]:
        c2pa_text = f"not checked: {c2pa['reason']}"
    elif "error" in c2pa:
        c2pa_text = f"unreadable: {c2pa['error']}"
    else:
        status = ", ".join(c2pa["status"]) or "no issue"
        c2pa_text = (
            f"{c2pa['validation_state']} ({status}); signed by {c2pa['signer']} ({c2pa['issuer']}); "
            f"actions {', '.join(c2pa['actions'])}"
        )
    return [("ai", ai), ("c2pa", c2pa_text)]


def run(args: argparse.Namespace) -> int:
    from frameswap.provenance.report import describe

    with open_media(args.path) as reader:
        data = reader.info.to_json()
        path = reader.path
    data["provenance"] = describe(path) if path is not None else None
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
        ("durations", _summary(list(data["durations_ms"]))),  # type: ignore[arg-type]
        ("loop", loop_text),
        ("fps", "-" if data["fps"] is None else f"{data['fps']:.3f}"),
        ("time base", data["time_base"] or "-"),
        ("audio", data["audio_codec"] if data["has_audio"] else "none"),
        ("alpha", "yes" if data["has_alpha"] else "no"),
    ]
    if data["provenance"] is not None:
        rows += _provenance_rows(data["provenance"])  # type: ignore[arg-type]
    for key, value in rows:
        print(f"{key:<10} {value}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="show format, size, frame count, per-frame durations, loop, audio and AI disclosure of a file",
        description="Show what a picture, animation or video holds, and what it says about being made with "
        "AI (its XMP digital source type and tool; its C2PA manifest when c2pa-python is installed). "
        "--json keys are a stable contract: format, kind, width, height, frame_count, durations_ms, loop, "
        "fps, time_base, has_audio, audio_codec, has_alpha, provenance (digital_source_type, creator_tool, "
        "ai_disclosed, c2pa: null or validation_state, status, signer, issuer, claim_generator, actions, "
        "digital_source_types, ingredients).",
    )
    p.add_argument("path", help="picture, GIF/APNG/WebP animation or video file")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.set_defaults(func=run)
