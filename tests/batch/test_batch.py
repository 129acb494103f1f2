"""``frameswap batch`` on this machine: discovery, the local pool, skipping, the report, the CLI."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import types

import pytest

from frameswap.batching import batch
from frameswap.batching.discover import discover
from frameswap.batching.work import Job, SwapWorker, WorkerSpec
from frameswap.cli import main
from frameswap.cli.exit_codes import BATCH_FAILURES
from frameswap.cluster.ray_runtime import ray_connection
from frameswap.errors import MediaNotFoundError, MissingDependencyError, OptionsError, OverwriteInputError
from frameswap.options import SwapOptions
from kit.batch import DURATIONS, GOOD, MEDIA, VIDEO_PTS, statuses


def _touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_discovery_keeps_relative_paths_takes_media_only_and_skips_the_output_folder(tmp_path):
    root = tmp_path / "in"
    for name in ("x.gif", "sub/y.MP4", "sub/deeper/z.jpeg", "sub/readme.md", "out/old.gif"):
        _touch(root / name)
    items = discover([root], root / "out")
    pairs = [(i.input.relative_to(root).as_posix(), i.output.relative_to(root / "out").as_posix())
             for i in items]
    assert pairs == [
        ("x.gif", "x.gif"),
        ("sub/y.MP4", "sub/y.MP4"),
        ("sub/deeper/z.jpeg", "sub/deeper/z.jpeg"),
    ]  # readme.md is not media; out/old.gif is last run's output, not an input


def test_globs_are_relative_to_their_root_and_format_sets_the_extension(tmp_path):
    root = tmp_path / "in"
    for name in ("a/x.gif", "a/b/y.gif", "a/b/z.png"):
        _touch(root / name)
    items = discover([f"{root}/a/**/*.gif"], tmp_path / "out", "mp4")
    assert [i.output.relative_to(tmp_path / "out").as_posix() for i in items] == ["b/y.mp4", "x.mp4"]
    apng = discover([root / "a/b/z.png"], tmp_path / "out", "apng")
    assert apng[0].output.name == "z.png"


def test_unsafe_batches_are_refused_before_any_work(tmp_path):
    a, b = _touch(tmp_path / "one/clip.gif"), _touch(tmp_path / "two/clip.gif")
    with pytest.raises(OptionsError, match="both be written"):
        discover([a, b], tmp_path / "out")
    with pytest.raises(OptionsError, match="both be written"):  # two formats, one name, one --format
        discover([a, _touch(tmp_path / "one/clip.png")], tmp_path / "out", "mp4")
    with pytest.raises(OptionsError, match="outputs would replace it"):
        discover([tmp_path / "one"], tmp_path / "one")
    with pytest.raises(OptionsError, match="over the input"):
        discover([_touch(tmp_path / "out/x.gif")], tmp_path / "out")
    with pytest.raises(MediaNotFoundError):
        discover([tmp_path / "nowhere"], tmp_path / "out")
    with pytest.raises(MediaNotFoundError, match="no media file"):
        discover([f"{tmp_path}/*.webm"], tmp_path / "out")


def test_a_report_over_the_source_an_input_or_an_output_is_refused_before_any_work(tmp_path):
    source = _touch(tmp_path / "me.jpg", "source")
    clip = _touch(tmp_path / "in/clip.gif", "input")
    done = _touch(tmp_path / "out/clip.gif", "output")
    for report, error in ((source, OverwriteInputError), (clip, OverwriteInputError),
                          (tmp_path / "in/../in/clip.gif", OverwriteInputError), (done, OptionsError)):
        with pytest.raises(error, match="the report would overwrite"):
            batch(source, [tmp_path / "in"], tmp_path / "out", report=report, force=True)
    assert (source.read_text(), clip.read_text(), done.read_text()) == ("source", "input", "output")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["clip.gif", "clip.gif", "in", "me.jpg", "out"]


def test_pool_outputs_equal_one_swap_at_a_time_and_the_corrupt_file_fails_alone(
    pool_run, mixed, source, models_dir
):
    from frameswap.api import FaceSwapper
    from frameswap.media import open_media

    out, result = pool_run
    assert list(statuses(result.results, mixed)) == MEDIA
    assert statuses(result.results, mixed) == {m: "failed" if "broken" in m else "done" for m in MEDIA}
    (broken,) = result.failed
    assert broken.error_code == "corrupt_media" and broken.error_message
    assert not (out / "clips/broken.gif").exists()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(GOOD)
    reference = FaceSwapper(models_dir=models_dir)
    for name in GOOD:  # the reference: the same swap, one file at a time, in this process
        expected = reference.swap(source.read_bytes(), mixed / name, out.parent / "ref" / name)
        assert (out / name).read_bytes() == expected.path.read_bytes(), name
    with open_media(out / "a.gif") as reader:
        assert list(reader.info.durations_ms) == DURATIONS
    with open_media(out / "clips/c.mp4") as reader:
        assert reader.info.frame_count == len(VIDEO_PTS)
    done = {r.input: r for r in result.results if r.status == "done"}
    assert done[str(mixed / "a.gif")].frames == 4 and done[str(mixed / "a.gif")].faces_swapped == 4


def test_report_has_one_line_per_input_in_order(pool_run, mixed):
    out, _ = pool_run
    lines = [json.loads(line) for line in (out.parent / "report.jsonl").read_text().splitlines()]
    assert [line["input"] for line in lines] == [str(mixed / m) for m in MEDIA]
    assert [line["output"] for line in lines] == [str(out / m) for m in MEDIA]
    assert {line["status"] for line in lines} == {"done", "failed"}
    failed = [line for line in lines if line["status"] == "failed"]
    assert failed == [{**failed[0], "error_code": "corrupt_media"}] and failed[0]["frames"] is None
    assert all(set(line) >= {"frames", "faces_swapped", "seconds"} for line in lines)


def test_rerun_skips_what_is_done_redoes_a_changed_input_and_force_redoes_all(
    pool_run, mixed, tmp_path, source, models_dir
):
    shutil.copytree(mixed, tmp_path / "in")  # copy2 keeps the times: every output stays newer than its input
    shutil.copytree(pool_run[0], tmp_path / "out")
    mixed, out = tmp_path / "in", tmp_path / "out"
    made = {m: (out / m).stat().st_mtime_ns for m in GOOD}
    left = out / "clips" / ".c.mp4.0123456789ab.part"  # what a run killed mid-write leaves behind
    left.write_bytes(b"half a video")
    report = tmp_path / "again.jsonl"
    args = ["batch", str(source), str(mixed), "--out-dir", str(out), "--models-dir", str(models_dir), "-q"]
    assert main([*args, "--workers", "1", "--report", str(report)]) == BATCH_FAILURES  # the corrupt one
    again = [json.loads(line) for line in report.read_text().splitlines()]
    assert {r["input"]: r["status"] for r in again} == {
        str(mixed / m): "failed" if "broken" in m else "skipped" for m in MEDIA
    }
    assert {m: (out / m).stat().st_mtime_ns for m in GOOD} == made  # nothing rewritten
    assert not left.exists()
    newer = made["d.jpg"] + 10**9
    os.utime(mixed / "d.jpg", ns=(newer, newer))  # the input changed after its output was made
    assert main([*args, "--workers", "1", "--force"]) == BATCH_FAILURES
    assert all((out / m).stat().st_mtime_ns > made[m] for m in GOOD)  # --force redid every one
    made = {m: (out / m).stat().st_mtime_ns for m in GOOD}
    os.utime(mixed / "d.jpg", ns=(made["d.jpg"] + 10**9,) * 2)
    changed = batch(source, [mixed / "d.jpg", mixed / "a.gif"], out, workers=1, models_dir=models_dir)
    assert [r.status for r in changed.results] == ["done", "skipped"]


def test_ray_without_ray_installed_says_how_to_install_it(tmp_path, source, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes "import ray" fail as if it were not installed
    (tmp_path / "in").mkdir()
    _touch(tmp_path / "in/x.gif")
    with pytest.raises(MissingDependencyError, match=r"frameswap\[ray\]"):
        batch(source, [tmp_path / "in"], tmp_path / "out", ray=True)


def test_a_local_ray_starts_without_usage_stats_and_the_environment_is_left_as_it_was(monkeypatch):
    seen = []
    fake = types.SimpleNamespace(
        is_initialized=lambda: False,
        init=lambda **kwargs: seen.append(os.environ.get("RAY_USAGE_STATS_ENABLED")),
        shutdown=lambda: None,
    )
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    with ray_connection(None):
        assert "RAY_USAGE_STATS_ENABLED" not in os.environ
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "1")  # the user's choice wins
    with ray_connection("local"):
        pass
    assert seen == ["0", "1"]
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "1"


@pytest.mark.parametrize("address", ["127.0.0.1:{port}", "ray://127.0.0.1:{port}"])
def test_an_address_where_nothing_answers_is_one_clear_error(monkeypatch, address):
    """Ray retries such an address for minutes (``host:port``) or ends in a traceback (``ray://``):
    a closed port is refused at once, naming the address, and Ray is never asked."""
    import socket

    from frameswap.errors import OptionsError

    asked = []
    fake = types.SimpleNamespace(is_initialized=lambda: False, init=lambda **kw: asked.append(kw),
                                 shutdown=lambda: None)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    given = address.format(port=port)
    with pytest.raises(OptionsError, match=rf"--ray {given}: nothing answers there"), ray_connection(given):
        pass
    assert asked == []
    with socket.create_server(("127.0.0.1", 0)) as listening:  # something answers: Ray is asked
        given = address.format(port=listening.getsockname()[1])
        with ray_connection(given):
            pass
    assert asked == [{"address": given, "logging_level": 30}]


def test_a_port_of_non_ascii_digits_is_left_to_ray_not_a_crash(monkeypatch):
    # "²" passes str.isdigit() but not int(): it is no port to probe, so Ray gets the address
    asked = []
    fake = types.SimpleNamespace(is_initialized=lambda: False, init=lambda **kw: asked.append(kw),
                                 shutdown=lambda: None)
    monkeypatch.setitem(sys.modules, "ray", fake)
    with ray_connection("127.0.0.1:²"):
        pass
    assert asked == [{"address": "127.0.0.1:²", "logging_level": 30}]


def test_a_worker_that_dies_fails_only_its_file_and_is_replaced(mixed, source, models_dir, tmp_path):
    """A worker killed while it holds a file (as a decoder crash would) fails that file alone; a
    worker that died while idle is replaced before it is given work."""
    import threading
    import time

    from frameswap.batching.discover import BatchItem
    from frameswap.batching.local import LocalPoolExecutor
    from frameswap.batching.work import WorkerSpec
    from frameswap.options import SwapOptions

    pool = LocalPoolExecutor(WorkerSpec(models_dir=models_dir), source.read_bytes(), SwapOptions(), workers=1)
    items = [BatchItem(mixed / "d.jpg", tmp_path / name) for name in ("first.jpg", "second.jpg")]
    try:
        idle = pool._slots[0].process
        idle.kill()
        idle.join()

        def kill_the_first_job() -> None:
            while pool._slots[0].item is None:
                time.sleep(0.001)
            pool._slots[0].process.kill()

        killer = threading.Thread(target=kill_the_first_job)
        killer.start()
        results = list(pool.run(items))
        killer.join()
    finally:
        pool.close()
    assert [(r.status, r.error_code) for r in results] == [("failed", "worker_crashed"), ("done", None)]
    assert not (tmp_path / "first.jpg").exists() and (tmp_path / "second.jpg").is_file()


def test_a_bug_in_a_worker_leaves_its_traceback_in_the_log_and_a_bad_input_does_not(tmp_path, caplog):
    worker = SwapWorker(WorkerSpec(models_dir=tmp_path), b"", SwapOptions())
    job = Job(input="clip.gif", output_name="clip.gif", target=b"GIF89a broken")
    caplog.set_level(logging.ERROR, logger="frameswap.batching.work")
    bad = worker.run(job).result  # an empty source photo: a FrameswapError, the input's fault
    assert bad.status == "failed" and bad.error_code != "internal"
    assert caplog.records == []

    def bug(*args, **kwargs):
        return {}["missing"]

    worker.swapper.swap = bug  # a bug anywhere under swap()
    failed = worker.run(job).result
    assert (failed.status, failed.error_code) == ("failed", "internal")
    assert failed.error_message == "KeyError: 'missing'"
    [record] = caplog.records
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert "clip.gif" in record.getMessage()
