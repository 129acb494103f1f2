"""``batch --ray`` on a local Ray instance (2 CPUs): the same files, byte for byte, as the local pool."""

from __future__ import annotations

from frameswap.batching import batch
from kit.batch import GOOD, MEDIA, statuses


def test_ray_gives_the_pool_s_bytes_fails_the_corrupt_file_and_skips_on_rerun(
    local_ray, pool_run, mixed, source, models_dir, tmp_path
):
    pool_out, _ = pool_run
    out = tmp_path / "ray"
    first = batch(source, [mixed], out, ray=True, models_dir=models_dir)
    assert first.workers == 2  # one actor per CPU of the cluster
    assert statuses(first.results, mixed) == {m: "failed" if "broken" in m else "done" for m in MEDIA}
    assert [r.error_code for r in first.failed] == ["corrupt_media"]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(GOOD)
    for name in GOOD:
        assert (out / name).read_bytes() == (pool_out / name).read_bytes(), name
    made = {m: (out / m).stat().st_mtime_ns for m in GOOD}
    again = batch(source, [mixed], out, ray=True, models_dir=models_dir)
    assert statuses(again.results, mixed) == {m: "failed" if "broken" in m else "skipped" for m in MEDIA}
    assert {m: (out / m).stat().st_mtime_ns for m in GOOD} == made
    assert local_ray.is_initialized()  # a Ray the caller started is left running
