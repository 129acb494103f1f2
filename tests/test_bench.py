"""The benchmark harness: its report contract, its derived inputs, its targets logic. No timed asserts."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from frameswap.bench import BenchConfig, evaluate_targets, format_report, run_benchmarks
from frameswap.bench.cases import ping_pong_order
from frameswap.errors import OptionsError

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


def test_targets_not_run_on_the_still_and_table_renders(still_report):
    report, _ = still_report
    assert [t["status"] for t in report["targets"]] == ["not run"] * 4
    text = format_report(report)
    assert "still/classic" in text and "not run" in text


def _case(name: str, seconds: float, frames: int, **extra):
    return {"case": name, "seconds_median": seconds, "frames": frames, "overhead_share": 0.1,
            "baseline_ratio": None, "baseline_seconds": None, **extra}


def test_targets_judge_met_and_missed():
    met = evaluate_targets([
        _case("sample_gif/classic", 2.0, 48, baseline_ratio=2.0, baseline_seconds=4.0),
        _case("long_gif/classic", 12.5, 300),  # 6.25x time for 6.25x frames: ratio 1.0
    ])
    assert [t["status"] for t in met] == ["met"] * 4
    missed = evaluate_targets([
        _case("sample_gif/classic", 3.0, 48, overhead_share=0.3, baseline_ratio=1.2, baseline_seconds=3.6),
        _case("long_gif/classic", 3.0 * 6.25 * 1.2, 300),
    ])
    assert [t["status"] for t in missed] == ["MISSED"] * 4


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

    from frameswap.bench.sized_model import build_sized_inswapper, sized_macs

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
