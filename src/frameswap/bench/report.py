"""The issue's targets, judged on a report, and the readable tables (plain text / markdown)."""

from __future__ import annotations

from typing import Any

HOSTED_API_SECONDS = 2.89


def _find(cases: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((c for c in cases if c["case"] == name), None)


def _target(name: str, wanted: str, value: float | None, met: bool | None, detail: str) -> dict[str, Any]:
    status = "not run" if met is None else ("met" if met else "MISSED")
    return {"target": name, "wanted": wanted, "value": value, "status": status, "detail": detail}


def evaluate_targets(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Met / missed / not run for each of the four targets of the benchmark issue."""
    gif = _find(cases, "sample_gif/classic")
    long = _find(cases, "long_gif/classic")
    out = []
    value = gif["seconds_median"] if gif else None
    out.append(_target(
        "sample GIF, classic engine, end to end (models loaded)", "<= 2.9 s", value,
        None if value is None else value <= 2.9, f"hosted API: about {HOSTED_API_SECONDS} s per call",
    ))
    share = gif["overhead_share"] if gif else None
    hidden = gif.get("critical_path_overhead_share") if gif else None
    out.append(_target(
        "everything but model and warp compute (sample GIF, classic)", "<= 15 %",
        None if share is None else round(100 * share, 1), None if share is None else share <= 0.15,
        "CPU time of decode+encode alone (the floor run) / CPU time of the whole swap; on the "
        "critical path (wall time not covered by model stages) it is "
        + ("-" if hidden is None else f"{100 * hidden:.0f} %"),
    ))
    ratio = None
    if gif and long:
        ratio = round((long["seconds_median"] / gif["seconds_median"]) / (long["frames"] / gif["frames"]), 3)
    out.append(_target(
        "cost linear in frames (long GIF vs sample GIF, classic)", "<= 1.1 x the frame ratio", ratio,
        None if ratio is None else ratio <= 1.1,
        "" if not (gif and long) else
        f"{long['frames']}/{gif['frames']} frames, "
        f"{long['seconds_median']:.2f}/{gif['seconds_median']:.2f} s",
    ))
    naive = gif.get("baseline_ratio") if gif else None
    out.append(_target(
        "faster than the naive baseline (sample GIF, classic)", ">= 1.5 x", naive,
        None if naive is None else naive >= 1.5,
        "" if not gif or gif.get("baseline_seconds") is None else
        f"naive {gif['baseline_seconds']:.2f} s vs ours {gif['seconds_median']:.2f} s",
    ))
    return out


def _fmt(value: Any, spec: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return format(value, spec)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def format_report(report: dict[str, Any]) -> str:
    """Markdown tables: speed, stages, quality, then the targets with met / MISSED."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, no GPU, Python {m['python']}, onnxruntime "
        f"{m['onnxruntime']}; load average {m['load_average']} before, {m.get('load_average_after')} after.",
        "",
    ]
    cases = report["cases"]
    lines += _table(
        ["case", "frames", "median s", "min-max s", "fps", "load s", "floor s", "x floor",
         "naive s", "vs naive", "peak MB"],
        [[c["case"], str(c["frames"]), _fmt(c["seconds_median"], ".2f"),
          f"{c['seconds_min']:.2f}-{c['seconds_max']:.2f}", _fmt(c["fps"], ".1f"),
          _fmt(c["model_load_seconds"], ".2f"), _fmt(c["floor_seconds"], ".2f"),
          _fmt(c["over_floor_ratio"], ".1f"),
          _fmt(c["baseline_seconds"], ".2f"), _fmt(c["baseline_ratio"], ".2f"), _fmt(c["peak_mb"], ".0f")]
         for c in cases],
    )
    lines.append("")
    stage_names = ["source", "decode", "detect", "track", "swap", "restore", "encode", "wait"]
    lines += _table(
        ["case (stage s, median)", *stage_names, "model+warp % of wall", "decode+encode % of CPU"],
        [[c["case"], *(_fmt(c["stages"].get(s), ".2f") for s in stage_names),
          _fmt(100 * c["model_share"], ".0f"), _fmt(100 * c["overhead_share"], ".0f")] for c in cases],
    )
    lines.append("")
    lines += _table(
        ["case (quality)", "faces", "id→source", "id→original", "closer to source", "jitter swapped",
         "jitter original", "jitter ratio", "timing equal"],
        [[c["case"], _fmt(c.get("identity_faces")), _fmt(c.get("identity_to_source"), ".3f"),
          _fmt(c.get("identity_to_original"), ".3f"), _fmt(c.get("identity_closer_to_source"), ".0%"),
          _fmt(c.get("jitter_swapped"), ".4f"), _fmt(c.get("jitter_original"), ".4f"),
          _fmt(c.get("jitter_ratio"), ".2f"), _fmt(c.get("timing_equal"))] for c in cases],
    )
    lines.append("")
    lines += _table(
        ["target", "wanted", "measured", "status", "detail"],
        [[t["target"], t["wanted"], _fmt(t["value"]), t["status"], t["detail"]] for t in report["targets"]],
    )
    return "\n".join(lines)
