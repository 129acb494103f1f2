"""The benchmark harness: its report contract, its derived inputs, its targets logic. No timed asserts."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from frameswap.errors import OptionsError
from fsbench import BenchConfig, evaluate_targets, format_report, run_benchmarks
from fsbench.cases import ping_pong_order

CONTRACT_KEYS = {"case", "seconds_median", "fps", "stages", "floor_seconds", "baseline_ratio", "peak_mb"}


@pytest.fixture(scope="module")
def still_report(tmp_path_factory):
    """The harness once, on its smallest case: the still with the classic engine, one run."""
    config = BenchConfig(
        work_dir=tmp_path_factory.mktemp("bench"), cases=("still",), engines=("classic",),
        runs=1, warmup=0, floor_runs=1, baseline_runs=1, quality_frames=1,
    )
    events: list[str] = []
    return run_benchmarks(config, on_event=events.append), events


def test_report_has_the_contract_keys_and_is_json(still_report):
    report, events = still_report
    assert json.loads(json.dumps(report)) == report
    (case,) = report["cases"]
    assert case.keys() >= CONTRACT_KEYS
    assert case["case"] == "still/classic" and case["frames"] == 1
    assert set(case["stages"]) >= {"decode", "detect", "track", "swap", "restore", "encode", "wait"}
    assert case["faces_swapped"] >= 1 and case["baseline_faces_swapped"] >= 1
    assert case["seconds_median"] > 0 and case["floor_seconds"] > 0 and case["peak_mb"] > 0
    assert case["fps"] == pytest.approx(1 / case["seconds_median"], rel=1e-2)
    assert any("still/classic" in e for e in events)


def test_quality_figures_on_the_still(still_report):
    report, _ = still_report
    (case,) = report["cases"]
    assert case["timing_equal"] is True and case["loop_equal"] is True
    # the swapped face was found again, and lies closer to the source than to the original
    assert case["identity_faces"] >= 1
    assert case["identity_to_source"] < case["identity_to_original"]
    # t1's woman in black is turned about 45 degrees and counted apart; every other face reads
    # as the source; the still has no blurred frame
    assert 1 <= case["identity_turned_faces"] < case["identity_faces"]
    assert case["identity_blurred_faces"] == 0
    assert case["identity_closer_to_source_rest"] == 1.0


def test_still_is_measured_against_its_truth_boxes(still_report):
    report, _ = still_report
    (case,) = report["cases"]
    # the still is the sample GIF's first frame: four whole faces (and one the edge cuts); every
    # person the analysis indexes is selected, so every whole face is judged against its truth box
    assert case["input_faces_index"].startswith("0,1,2,3") and case["truth_frames"] == 1
    assert set(case["swap_coverage"]) == {"0", "1", "2", "3"}
    assert case["size_ratio"] > 0 and report["process_start_seconds"] > 0


def test_targets_on_the_still_and_table_renders(still_report):
    report, _ = still_report
    by_name = {t["target"]: t["status"] for t in report["targets"]}
    identity = next(t for t in report["targets"] if "closer to the source" in t["target"])
    assert identity["status"] != "not run" and "still" in identity["detail"]
    # only the two identity targets (every face; faces on blurred frames apart) can run on a still
    unblurred = next(t for t in report["targets"] if "blurred on purpose left out" in t["target"])
    assert unblurred["status"] != "not run" and "still" in unblurred["detail"]
    assert sum(status == "not run" for status in by_name.values()) == len(by_name) - 2
    text = format_report(report)
    assert "still/classic" in text and "not run" in text and "against truth boxes" in text


def _case(name: str, seconds: float, frames: int, **extra):
    return {"case": f"{name}/classic", "input": name, "engine": "classic", "seconds_median": seconds,
            "frames": frames, "floor_seconds": 0.5, **extra}


GOOD = {"swap_coverage_min": 0.98, "outside_differ_share": 0.004, "size_ratio": 1.2,
        "identity_closer_to_source": 0.96, "identity_closer_to_source_unblurred": 0.97}


def _all_cases(**override):
    figures = {**GOOD, **override}
    return [
        _case("sample_gif", 1.9, 48, flicker_ratio=1.2, centre_delta_e=11.0, **figures),
        _case("sample_gif_default", 1.1, 48),  # the speed target's case
        _case("long_gif", 6.0, 300, **figures),
        _case("blurdark_gif", 1.0, 40, **figures),
        _case("sample_apng", 1.1, 48, outside_share_of_changed=0.015),
        _case("hd_group", 5.0, 50, over_floor_and_start_ratio=2.9),
        _case("closeup", 3.0, 50, over_floor_and_start_ratio=2.0, identity_closer_to_source=0.99,
              identity_closer_to_source_unblurred=0.99),
    ]


def test_targets_judge_met_and_missed():
    met = evaluate_targets(_all_cases(), process_start=0.7)
    assert [t["status"] for t in met] == ["met"] * 11
    assert met[0]["value"] == 98.0  # coverage shown in percent
    missed = evaluate_targets([
        _case("sample_gif", 1.1, 48, flicker_ratio=1.4, centre_delta_e=12.5, swap_coverage_min=0.96,
              outside_differ_share=0.006, size_ratio=1.31, identity_closer_to_source=0.9,
              identity_closer_to_source_unblurred=0.9),
        _case("sample_gif_default", 1.3, 48),
        _case("sample_apng", 1.1, 48, outside_share_of_changed=0.021),
        _case("hd_group", 5.0, 50, over_floor_and_start_ratio=3.1),
        _case("closeup", 3.0, 50, over_floor_and_start_ratio=3.5),
    ])
    assert [t["status"] for t in missed] == ["MISSED"] * 11


def test_identity_is_judged_with_and_without_the_blurred_frames_and_the_table_shows_the_ceiling():
    blurdark = _case("blurdark_gif", 1.0, 40, **{**GOOD, "identity_closer_to_source": 0.8},
                     identity_on_blurred_frames=[0, 18], identity_blurred_ceiling=[0, 22])
    cases = [*_all_cases()[:3], blurdark]
    every_face, unblurred = evaluate_targets(cases)[-2:]
    assert every_face["status"] == "MISSED" and "blurdark_gif: 80" in every_face["detail"]
    assert unblurred["status"] == "met" and "blurdark_gif: 97" in unblurred["detail"]
    report = {"machine": {"cpu": "x", "cores": 2, "python": "3.11", "onnxruntime": "1", "load_average": 0},
              "cases": [{**c, "seconds_min": 1, "seconds_max": 1, "fps": 1, "model_load_seconds": 0,
                         "over_floor_ratio": 1, "baseline_seconds": None, "baseline_ratio": None,
                         "peak_mb": 1, "stages": {}, "model_share": 0, "overhead_share": None}
                        for c in cases],
              "targets": []}
    row = next(line for line in format_report(report).splitlines()
               if line.startswith("| blurdark_gif/classic") and "0/18" in line)
    assert "0/18 (0/22)" in row


def test_the_worst_gif_case_decides_and_a_failed_case_misses():
    blurdark = _case("blurdark_gif", 1.0, 40, **{**GOOD, "swap_coverage_min": 0.5})
    coverage = evaluate_targets([*_all_cases()[:2], blurdark])[0]
    assert coverage["status"] == "MISSED" and coverage["value"] == 50.0
    assert "blurdark_gif: 50" in coverage["detail"]
    failed = evaluate_targets([{"case": "sample_gif/classic", "input": "sample_gif", "engine": "classic",
                                "error": "NoFaceError: no face"}])
    assert failed[0]["status"] == "MISSED" and "sample_gif: error" in failed[0]["detail"]
    assert all(t["status"] == "not run" for t in failed if "hd_group" in t["target"])


@pytest.mark.parametrize("n", [2, 5, 48])
def test_ping_pong_never_repeats_a_frame_at_the_turn(n):
    order = ping_pong_order(n, 300)
    assert len(order) == 300
    indexes = [i for _, i in order]
    assert all(0 <= i < n for i in indexes)
    assert all(a != b for a, b in itertools.pairwise(indexes))
    assert set(indexes) == set(range(n))
    # the pass number changes exactly at the turns, so each pass gets its own brightness
    passes = [p for p, _ in order]
    assert passes == sorted(passes) and passes[-1] >= 300 // n - 1


def test_config_refuses_bad_values(tmp_path):
    with pytest.raises(OptionsError):
        BenchConfig(work_dir=tmp_path, runs=0)
    with pytest.raises(OptionsError):
        BenchConfig(work_dir=tmp_path, engines=("nope",))


def test_sized_inswapper_keeps_the_real_contract(tmp_path):
    import onnx
    import onnxruntime as ort

    from fsbench.sized_model import build_sized_inswapper, sized_macs

    path = build_sized_inswapper(tmp_path / "m.onnx", width=8, blocks=2)
    model = onnx.load(str(path))
    assert model.graph.initializer[-1].name == "emap"
    assert onnx.numpy_helper.to_array(model.graph.initializer[-1]).shape == (512, 512)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in session.get_inputs()] == [("target", [1, 3, 128, 128]),
                                                                 ("source", [1, 512])]
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("output", [1, 3, 128, 128])]
    rng = np.random.default_rng(0)
    target = rng.random((1, 3, 128, 128), dtype=np.float32)
    a, b = (rng.standard_normal((1, 512)).astype(np.float32) for _ in range(2))
    out_a = session.run(None, {"target": target, "source": a})[0]
    out_b = session.run(None, {"target": target, "source": b})[0]
    assert out_a.shape == (1, 3, 128, 128) and out_a.min() >= 0 and out_a.max() <= 1
    assert not np.allclose(out_a, out_b)  # the latent is consumed
    assert sized_macs(128, 12) > 12 * 128 * 128 * 9 * 32 * 32  # the style blocks dominate


def test_batch_case_reports_a_ratio_over_identical_outputs(tmp_path):
    """The batch case runs the same files one after another and on the pool, and says whether the
    outputs match byte for byte (so the ratio never compares different work)."""
    from PIL import Image

    from frameswap.media import write_media
    from frameswap.options import SwapOptions
    from fsbench.batch_case import run_batch_case
    from fsbench.cases import BenchCase
    from kit.media_builders import animation_info, panning_frames, photo

    gif, source = tmp_path / "tiny.gif", tmp_path / "face.png"
    write_media(gif, panning_frames([40, 60], (96, 72)), animation_info([40, 60], (96, 72)))
    Image.fromarray(photo((256, 256))).save(source)
    events: list[str] = []
    result = run_batch_case(BenchCase("tiny", gif, source, "tiny"), tmp_path / "work", files=2, workers=2,
                            options=SwapOptions(), on_event=events.append)
    assert result["files"] == 2 and result["workers"] == 2 and result["failed"] == 0
    assert result["outputs_equal"] is True
    assert result["ratio"] == pytest.approx(result["serial_seconds"] / result["pool_seconds"], rel=0.01)
    assert len(list((tmp_path / "work/batch/pool").glob("*.gif"))) == 2
    assert len(events) == 2
