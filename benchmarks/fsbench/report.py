"""The issue's targets, judged on a report, and the readable tables (plain text / markdown)."""

from __future__ import annotations

from typing import Any

SAMPLE_GIF_SECONDS = 1.2
LARGE_CASE_RATIO = 3.0  # x (decode+encode floor + process start)
COVERAGE = 0.97
LOSSLESS_OUTSIDE_SHARE = 0.02
FLICKER_RATIO = 1.3
CENTRE_DELTA_E = 12.0
GIF_OUTSIDE_DIFFER = 0.005
GIF_SIZE_RATIO = 1.3
IDENTITY_SHARE = 0.95
COVERAGE_CASES = ("sample_gif", "long_gif", "blurdark_gif")  # the GIF cases, blurred and dark frames too
GIF_TO_GIF_CASES = ("sample_gif", "long_gif", "blurdark_gif")
LARGE_CASES = ("hd_group", "closeup")
SLOW_PAN = "sample_gif"
LOSSLESS = "sample_apng"
ENGINE = "classic"


def _find(cases: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((c for c in cases if c["case"] == f"{name}/{ENGINE}"), None)


def _target(name: str, wanted: str, value: float | None, met: bool | None, detail: str) -> dict[str, Any]:
    status = "not run" if met is None else ("met" if met else "MISSED")
    return {"target": name, "wanted": wanted, "value": value, "status": status, "detail": detail}


def _judge(name: str, wanted: str, cases: list[dict[str, Any]], names: tuple[str, ...], key: str,
           worst: Any, ok: Any, scale: float = 1.0) -> dict[str, Any]:
    """One target over several cases: the worst figure among those run decides; a case that failed
    or could not measure the figure misses the target (it cannot show that it meets it)."""
    found = [(n, _find(cases, n)) for n in names]
    ran = [(n, c) for n, c in found if c is not None]
    if not ran:
        return _target(name, wanted, None, None, "cases: " + ", ".join(names))
    values = [(n, c.get(key)) for n, c in ran]
    detail = ", ".join(
        f"{n}: " + ("error" if "error" in c else "-" if v is None else f"{v * scale:.4g}")
        for (n, c), (_, v) in zip(ran, values, strict=True)
    )
    measured = [v for _, v in values if v is not None]
    if len(measured) < len(values):
        partial = round(worst(measured) * scale, 4) if measured else None
        return _target(name, wanted, partial, False, detail)
    value = worst(measured)
    return _target(name, wanted, round(value * scale, 4), ok(value), detail)


def evaluate_targets(cases: list[dict[str, Any]], process_start: float | None = None) -> list[dict[str, Any]]:
    """Met / missed / not run for each target of the "embedded engine v2" issue (classic engine)."""
    out = [
        _judge("every visible selected face swapped (GIF cases; truth from how each clip was built)",
               f">= {COVERAGE:.0%} of frames, per face", cases, COVERAGE_CASES, "swap_coverage_min",
               min, lambda v: v >= COVERAGE, 100.0),
        _judge("lossless output (APNG): changed pixels outside the faces grown by 25 %",
               f"<= {LOSSLESS_OUTSIDE_SHARE:.0%} of all changed pixels", cases, (LOSSLESS,),
               "outside_share_of_changed", max, lambda v: v <= LOSSLESS_OUTSIDE_SHARE, 100.0),
        _judge("frame-to-frame change inside swapped faces on the slow pan, output / input",
               f"<= {FLICKER_RATIO} x", cases, (SLOW_PAN,), "flicker_ratio", max,
               lambda v: v <= FLICKER_RATIO),
        _judge("mean CIE76 Lab distance, output vs input face centres (slow pan)", f"<= {CENTRE_DELTA_E:g}",
               cases, (SLOW_PAN,), "centre_delta_e", max, lambda v: v <= CENTRE_DELTA_E),
        _judge("GIF to GIF: pixels outside the grown face boxes that differ from the input",
               f"<= {GIF_OUTSIDE_DIFFER:.1%} of outside pixels", cases, GIF_TO_GIF_CASES,
               "outside_differ_share", max, lambda v: v <= GIF_OUTSIDE_DIFFER, 100.0),
        _judge("GIF to GIF: output size / input size", f"<= {GIF_SIZE_RATIO} x", cases, GIF_TO_GIF_CASES,
               "size_ratio", max, lambda v: v <= GIF_SIZE_RATIO),
        _judge("sample GIF end to end, models loaded, default request (face 0) (s)",
               f"<= {SAMPLE_GIF_SECONDS} s", cases, ("sample_gif_default",), "seconds_median", max,
               lambda v: v <= SAMPLE_GIF_SECONDS),
    ]
    start = "-" if process_start is None else f"{process_start:.2f} s"
    for name in LARGE_CASES:
        target = _judge(f"{name}: end to end / (decode+encode floor + process start)",
                        f"<= {LARGE_CASE_RATIO:g} x", cases, (name,), "over_floor_and_start_ratio", max,
                        lambda v: v <= LARGE_CASE_RATIO)
        case = _find(cases, name)
        if case is not None and "error" not in case:
            target["detail"] = (f"{case['seconds_median']:.2f} s vs floor {case['floor_seconds']:.2f} s "
                                f"+ start {start}")
        out.append(target)
    identity_cases = tuple(c["input"] for c in cases
                           if c.get("engine") == ENGINE and c.get("identity_closer_to_source") is not None)
    out.append(_judge("swapped faces closer to the source than to the original (dlib descriptor)",
                      f">= {IDENTITY_SHARE:.0%} of swapped faces, every case", cases, identity_cases,
                      "identity_closer_to_source", min, lambda v: v >= IDENTITY_SHARE, 100.0))
    # the same without the faces on frames a clip blurs on purpose: there the best a swap that
    # keeps its frame's focus can do is measured apart (``identity_blurred_ceiling``)
    out.append(_judge("the same, faces on frames a clip blurred on purpose left out",
                      f">= {IDENTITY_SHARE:.0%} of swapped faces, every case", cases, identity_cases,
                      "identity_closer_to_source_unblurred", min, lambda v: v >= IDENTITY_SHARE, 100.0))
    return out


def _on_blurred(case: dict[str, Any]) -> str:
    """The faces on the frames the clip blurred: closer to the source / judged, then the same for
    the ceiling in brackets ("0/18 (0/21)"); "-" when the clip blurred none."""
    closer, judged = case.get("identity_on_blurred_frames") or (0, 0)
    if not judged:
        return "-"
    ceiling = case.get("identity_blurred_ceiling")
    return f"{closer}/{judged}" + (f" ({ceiling[0]}/{ceiling[1]})" if ceiling else "")


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
    """Markdown tables: speed, stages, quality, truth-based pixel figures, then the targets."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, no GPU, Python {m['python']}, onnxruntime "
        f"{m['onnxruntime']}; load average {m['load_average']} before, {m.get('load_average_after')} after. "
        "Process start (python -c 'import frameswap.api'): "
        f"{_fmt(report.get('process_start_seconds'), '.2f')} s.",
        "",
    ]
    failed = [c for c in report["cases"] if "error" in c]
    cases = [c for c in report["cases"] if "error" not in c]
    lines += _table(
        ["case", "frames", "median s", "min-max s", "fps", "load s", "floor s", "x floor", "x (floor+start)",
         "naive s", "vs naive", "peak MB"],
        [[c["case"], str(c["frames"]), _fmt(c["seconds_median"], ".2f"),
          f"{c['seconds_min']:.2f}-{c['seconds_max']:.2f}", _fmt(c["fps"], ".1f"),
          _fmt(c["model_load_seconds"], ".2f"), _fmt(c["floor_seconds"], ".2f"),
          _fmt(c["over_floor_ratio"], ".1f"), _fmt(c.get("over_floor_and_start_ratio"), ".2f"),
          _fmt(c["baseline_seconds"], ".2f"), _fmt(c["baseline_ratio"], ".2f"), _fmt(c["peak_mb"], ".0f")]
         for c in cases],
    )
    lines.append("")
    stage_names = ["source", "decode", "detect", "track", "swap", "restore", "encode", "wait"]
    lines += _table(
        ["case (stage s, median)", *stage_names, "model+warp % of wall", "decode+encode % of CPU"],
        [[c["case"], *(_fmt(c["stages"].get(s), ".2f") for s in stage_names),
          _fmt(100 * c["model_share"], ".0f"),
          _fmt(None if c["overhead_share"] is None else 100 * c["overhead_share"], ".0f")] for c in cases],
    )
    lines.append("")
    lines += _table(
        ["case (quality)", "faces", "id→source", "id→original", "closer to source",
         "of them turned / on blurred frames / closer, the rest", "closer, off blurred frames",
         "closer on blurred frames (ceiling)", "jitter swapped", "jitter original", "jitter ratio",
         "timing equal"],
        [[c["case"], _fmt(c.get("identity_faces")), _fmt(c.get("identity_to_source"), ".3f"),
          _fmt(c.get("identity_to_original"), ".3f"), _fmt(c.get("identity_closer_to_source"), ".0%"),
          f"{_fmt(c.get('identity_turned_faces'))} / {_fmt(c.get('identity_blurred_faces'))} / "
          f"{_fmt(c.get('identity_closer_to_source_rest'), '.0%')}",
          _fmt(c.get("identity_closer_to_source_unblurred"), ".0%"), _on_blurred(c),
          _fmt(c.get("jitter_swapped"), ".4f"), _fmt(c.get("jitter_original"), ".4f"),
          _fmt(c.get("jitter_ratio"), ".2f"), _fmt(c.get("timing_equal"))] for c in cases],
    )
    lines.append("")
    truth_cases = [c for c in cases if "swap_coverage" in c]
    if truth_cases:
        lines += _table(
            ["case (against truth boxes)", "faces selected", "swapped frames, worst face", "per face",
             "outside / changed", "outside differ", "flicker ratio", "centre ΔE76", "size ratio"],
            [[c["case"], c.get("input_faces_index") or "-", _fmt(c.get("swap_coverage_min"), ".1%"),
              " ".join(f"{f}:{r:.0%}" for f, r in c["swap_coverage"].items()),
              _fmt(c.get("outside_share_of_changed"), ".2%"), _fmt(c.get("outside_differ_share"), ".2%"),
              _fmt(c.get("flicker_ratio"), ".2f"), _fmt(c.get("centre_delta_e"), ".1f"),
              _fmt(c.get("size_ratio"), ".2f")] for c in truth_cases],
        )
        lines.append("")
    batch = report.get("batch")
    if batch:
        lines += _table(
            ["case (batch)", "files", "workers", "one after another s", "pool s", "ratio", "ratio / workers",
             "cores busy, serial", "CPU s serial / pool", "load average", "outputs equal", "failed"],
            [[batch["case"], str(batch["files"]), str(batch["workers"]), _fmt(batch["serial_seconds"], ".1f"),
              _fmt(batch["pool_seconds"], ".1f"), _fmt(batch["ratio"], ".2f"),
              _fmt(None if batch["ratio"] is None else batch["ratio"] / batch["workers"], ".0%"),
              _fmt(batch["serial_cores_busy"], ".2f"),
              f"{batch['serial_cpu_seconds']:.1f} / {batch['pool_cpu_seconds']:.1f}",
              str(batch["load_average"]), _fmt(batch["outputs_equal"]), str(batch["failed"])]],
        )
        lines.append("")
    if failed:
        lines += _table(["case (failed)", "error"], [[c["case"], c["error"]] for c in failed])
        lines.append("")
    lines += _table(
        ["target", "wanted", "measured", "status", "detail"],
        [[t["target"], t["wanted"], _fmt(t["value"]), t["status"], t["detail"]] for t in report["targets"]],
    )
    return "\n".join(lines)
