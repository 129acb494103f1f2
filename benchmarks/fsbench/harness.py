"""Run the benchmark: every case with every engine set-up, its floor, the naive baseline, quality.

Library code: it reports progress through an ``on_event`` callback (the CLI prints it) and returns
a JSON-ready dict; nothing here prints or reads the environment.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from frameswap.errors import FrameswapError, OptionsError
from frameswap.options import SwapOptions
from frameswap.pipeline.stats import STAGES
from fsbench.baseline import run_floor, run_naive
from fsbench.batch_case import run_batch_case
from fsbench.cases import CASE_NAMES, BenchCase, build_cases
from fsbench.facepixels import measure_pixels
from fsbench.memory import PeakRss
from fsbench.quality import blur_ceiling, measure_quality
from fsbench.report import evaluate_targets
from fsbench.setups import SETUP_NAMES, Setup, TimedAnalyzer, load_setup
from fsbench.startup import process_start_seconds

MODEL_STAGES = ("source", "detect", "track", "swap", "restore")
# the inswapper set-up runs on these cases only: the sized model's time per face is known from
# them, and the long cases would add minutes without telling more
INSWAPPER_CASES = ("still", "sample_gif")


@dataclass(frozen=True)
class BenchConfig:
    """What to run. ``runs`` timed runs follow ``warmup`` untimed ones; the median is reported."""

    work_dir: Path
    cases: tuple[str, ...] = CASE_NAMES
    engines: tuple[str, ...] = ("classic", "inswapper")
    runs: int = 3
    warmup: int = 1
    baseline_runs: int = 1
    floor_runs: int = 3
    quality: bool = True
    quality_frames: int = 24
    naive: bool = True
    options: SwapOptions = SwapOptions()
    inswapper_width: int = 128
    inswapper_blocks: int = 12
    # the batch case: this many copies of ``batch_input`` serially and on ``batch_workers``
    # processes (None: one per core); 0 files skips it (the CLI runs it by default)
    batch_files: int = 0
    batch_workers: int | None = None
    batch_input: str = "sample_gif"

    def __post_init__(self) -> None:
        if self.runs < 1 or self.warmup < 0 or self.baseline_runs < 0 or self.floor_runs < 1:
            raise OptionsError("runs and floor_runs must be >= 1; warmup and baseline_runs >= 0")
        if self.batch_files < 0 or (self.batch_workers is not None and self.batch_workers < 1):
            raise OptionsError("batch_files must be >= 0 and batch_workers >= 1")
        for engine in self.engines:
            if engine not in SETUP_NAMES:
                raise OptionsError(f"unknown engine {engine!r}; use one of: {', '.join(SETUP_NAMES)}")


Event = Callable[[str], None]


def machine() -> dict[str, Any]:
    """What the figures were measured on, including how busy the machine was."""
    import numpy
    import onnxruntime

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fp:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fp if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def people_indexed(analyzer: Any, target: Path, options: SwapOptions) -> int:
    """How many people a swap of ``target`` indexes: the analysis ``swap`` runs, with its options.

    The truth counts the annotated faces; the swap may index more (a face the frame edge cuts,
    a face in the background), and index order follows size, so selecting "0..k-1" for k truth
    faces can leave a truth face out. Selecting every indexed person is what "every visible face
    swapped" needs."""
    from frameswap.faces.select import IdentityIndex
    from frameswap.media import open_media
    from frameswap.pipeline.analysis import analyze_target

    with open_media(target, limits=options.limits) as reader:
        analysis = analyze_target(reader.frames(), analyzer, tracker_options=options.tracker,
                                  batch_size=options.batch_size)
    return len(IdentityIndex.from_tracks(analysis.faces, options.reference_frame).faces)


def _options_for(setup: Setup, options: SwapOptions, case: BenchCase) -> SwapOptions:
    """The run's options with the set-up's engine and, where the case knows its people, every
    person the analysis indexes selected (see ``people_indexed``), so "every visible face swapped"
    can be judged against the truth boxes."""
    options = replace(options, engine=setup.name, analyzer="auto")
    if case.truth is not None:
        people = people_indexed(setup.analyzer, case.path, options)
        selected = ",".join(map(str, range(people)))
        options = replace(options, input_faces_index=selected, source_faces_index="0")
    return options


def _one_run(setup: Setup, case: BenchCase, destination: Path, options: SwapOptions):
    from frameswap.pipeline import Models, run_swap

    analyzer = TimedAnalyzer(setup.analyzer)
    models = Models(analyzer=analyzer, engine=setup.engine)
    start, cpu = time.perf_counter(), time.process_time()
    outcome = run_swap(models, case.source, case.path, destination, options)
    wall = time.perf_counter() - start
    stages_cpu = time.process_time() - cpu
    # analyzer time outside the detect stage: the source photo's analysis (and any follower refits)
    stages = dict(outcome.stats.seconds)
    stages["source"] = max(0.0, analyzer.seconds - stages.get("detect", 0.0))
    stages["cpu"] = stages_cpu  # CPU seconds of all threads, for the overhead share
    return wall, outcome, stages


def _median_stages(stage_runs: list[dict[str, float]]) -> dict[str, float]:
    names = ("source", *STAGES, "cpu")
    return {s: round(statistics.median(r.get(s, 0.0) for r in stage_runs), 4) for s in names}


def run_case(setup: Setup, case: BenchCase, config: BenchConfig, out_dir: Path,
             quality_analyzer: Any, on_event: Event, process_start: float | None = None) -> dict[str, Any]:
    """All measurements of one case with one set-up."""
    options = _options_for(setup, config.options, case)
    destination = out_dir / f"{case.name}.{setup.name}{case.out_suffix}"
    for i in range(config.warmup):
        on_event(f"{case.name}/{setup.name}: warm-up {i + 1}/{config.warmup}")
        _one_run(setup, case, destination, options)
    seconds, outcomes, stage_runs = [], [], []
    with PeakRss() as rss:
        for i in range(config.runs):
            wall, outcome, stages = _one_run(setup, case, destination, options)
            seconds.append(wall)
            outcomes.append(outcome)
            stage_runs.append(stages)
            on_event(f"{case.name}/{setup.name}: run {i + 1}/{config.runs} {wall:.2f} s")
    frames = outcomes[0].info.frame_count
    median = statistics.median(seconds)
    stages = _median_stages(stage_runs)
    model_seconds = sum(stages[s] for s in MODEL_STAGES)
    floor_dest = out_dir / f"{case.name}.floor{case.out_suffix}"
    floors = [run_floor(case.path, floor_dest, options) for _ in range(config.floor_runs)]
    floor = statistics.median(wall for wall, _ in floors)
    floor_cpu = statistics.median(cpu for _, cpu in floors)
    run_cpu = stages.pop("cpu")
    on_event(f"{case.name}/{setup.name}: floor {floor:.2f} s")
    result: dict[str, Any] = {
        "case": f"{case.name}/{setup.name}",
        "input": case.name,
        "engine": setup.name,
        "input_note": case.note,
        "input_faces_index": options.input_faces_index,
        "frames": frames,
        "frames_processed": outcomes[0].stats.frames_processed,
        "faces_swapped": outcomes[0].stats.faces_swapped,
        "runs": config.runs,
        "seconds": [round(s, 4) for s in seconds],
        "seconds_median": round(median, 4),
        "seconds_min": round(min(seconds), 4),
        "seconds_max": round(max(seconds), 4),
        "spread_pct": round(100.0 * (max(seconds) - min(seconds)) / median, 1),
        "fps": round(frames / median, 3),
        "model_load_seconds": round(setup.load_seconds, 4),
        "stages": stages,
        "model_share": round(min(1.0, model_seconds / median), 4),
        # Decode, encode, queues and copies: their CPU time (the floor run does exactly that work)
        # over the whole run's CPU time. On 2 cores they compete with the models for the CPU
        # even though they run on their own threads, so this is the honest share of the cost;
        # ``critical_path_overhead_share`` is the wall time left over once the model stages are
        # counted (0 when the pipeline hides decode and encode completely behind them).
        "overhead_share": round(min(1.0, floor_cpu / run_cpu), 4) if run_cpu > 0 else None,
        "critical_path_overhead_share": round(max(0.0, 1.0 - model_seconds / median), 4),
        "cpu_seconds": round(run_cpu, 4),
        "floor_cpu_seconds": round(floor_cpu, 4),
        "floor_seconds": round(floor, 4),
        "over_floor_ratio": round(median / floor, 3) if floor > 0 else None,
        # a one-shot call also starts Python and imports frameswap: the large cases' target
        "over_floor_and_start_ratio": (
            round(median / (floor + process_start), 3) if process_start is not None else None
        ),
        "peak_mb": round(rss.peak_mb, 1),
        "peak_growth_mb": round(rss.peak_mb - rss.start_mb, 1),
        "baseline_seconds": None,
        "baseline_ratio": None,
        "baseline_stages": None,
    }
    if setup.macs_per_face and outcomes[0].stats.faces_swapped:
        swap_s = stages["swap"] / outcomes[0].stats.faces_swapped
        result["swap_seconds_per_face"] = round(swap_s, 5)
        result["macs_per_face"] = setup.macs_per_face
    if config.naive and config.baseline_runs:
        naive = [
            run_naive(setup.analyzer, setup.engine, case.source, case.path,
                      out_dir / f"{case.name}.{setup.name}.naive{case.out_suffix}", options)
            for _ in range(config.baseline_runs)
        ]
        naive_s = statistics.median(n.seconds for n in naive)
        result["baseline_seconds"] = round(naive_s, 4)
        result["baseline_ratio"] = round(naive_s / median, 3)
        result["baseline_stages"] = {k: round(v, 4) for k, v in naive[0].stages.items()}
        result["baseline_faces_swapped"] = naive[0].faces_swapped
        on_event(f"{case.name}/{setup.name}: naive baseline {naive_s:.2f} s")
    if config.quality:
        result.update(measure_quality(quality_analyzer, case.source, case.path, destination,
                                      max_frames=config.quality_frames, identity=setup.identity_meaningful,
                                      blurred=case.blurred))
        if case.truth is not None:
            result.update(measure_pixels(case.truth, case.path, destination, floor_dest))
        if case.unblurred is not None and setup.identity_meaningful:
            # the most "closer to the source" a blur-respecting swap can reach on the blurred frames
            sharp_dest = out_dir / f"{case.name}.{setup.name}.unblurred{case.out_suffix}"
            sharp_case = replace(case, path=case.unblurred)
            _one_run(setup, sharp_case, sharp_dest, _options_for(setup, config.options, sharp_case))
            result.update(blur_ceiling(quality_analyzer, case.source, case.path, sharp_dest, case.blurred,
                                       max_frames=config.quality_frames))
    return result


def run_benchmarks(config: BenchConfig, on_event: Event = lambda message: None) -> dict[str, Any]:
    """Run everything ``config`` asks for; returns the JSON report (machine, cases, targets)."""
    started = time.perf_counter()
    work_dir = Path(config.work_dir)
    out_dir = work_dir / "outputs"
    out_dir.mkdir(parents=True, exist_ok=True)
    on_event("building the inputs")
    cases = build_cases(work_dir, config.cases)
    report: dict[str, Any] = {"machine": machine(), "cases": [], "setups": {}}
    on_event("measuring process start")
    start_s = process_start_seconds()
    report["process_start_seconds"] = round(start_s, 4)
    quality_analyzer = None
    if config.quality:
        from frameswap.faces.dlib_backend import DlibAnalyzer

        quality_analyzer = DlibAnalyzer.from_packages()  # its own instance: never the one timed
    for name in config.engines:
        on_event(f"loading {name}")
        setup = load_setup(name, work_dir, inswapper_width=config.inswapper_width,
                           inswapper_blocks=config.inswapper_blocks)
        report["setups"][name] = {"note": setup.note, "model_load_seconds": round(setup.load_seconds, 4),
                                  "macs_per_face": setup.macs_per_face}
        for case in cases:
            if name == "inswapper" and case.name not in INSWAPPER_CASES:
                continue
            try:
                result = run_case(setup, case, config, out_dir, quality_analyzer, on_event, start_s)
            except FrameswapError as error:  # one failing case (e.g. no face found) must not hide the rest
                on_event(f"{case.name}/{name}: FAILED: {error}")
                result = {"case": f"{case.name}/{name}", "input": case.name, "engine": name,
                          "error": f"{type(error).__name__}: {error}"}
            report["cases"].append(result)
    if config.batch_files:
        from frameswap.batching.runner import default_workers

        (case,) = build_cases(work_dir, (config.batch_input,))
        report["batch"] = run_batch_case(case, work_dir, files=config.batch_files,
                                         workers=config.batch_workers or default_workers(),
                                         options=config.options, on_event=on_event)
    report["targets"] = evaluate_targets(report["cases"], start_s)
    machine_after = machine()
    report["machine"]["load_average_after"] = machine_after["load_average"]
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    return report
