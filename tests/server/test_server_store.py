"""Issue 11 item 7: v2 jobs are durable, bounded per key, deletable, and expire with their files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from frameswap.server.store import JobStore, StoreLimits
from kit.server import FakeSwapper, assert_error, b64, body, gif_bytes, gif_durations, has_mark

V2 = "/v2/models/faceswap-v2"


def wait_for(client, job_id, statuses=("COMPLETED", "FAILED"), headers=None):
    for _ in range(1000):
        state = client.get(f"/v2/jobs/{job_id}", headers=headers).json()
        if state.get("status") in statuses:
            return state
        threading.Event().wait(0.01)
    raise AssertionError(f"job {job_id} never reached {statuses}: {state}")


def test_finished_jobs_survive_a_restart(make_client, tmp_path):
    paths = {"jobs_db": tmp_path / "j.sqlite3", "results_dir": tmp_path / "results"}
    first = make_client(**paths)
    job_id = first.post(V2, json=body(target_img=b64(gif_bytes()))).json()["request_id"]
    before = first.get(f"/v2/jobs/{job_id}/result").content if wait_for(first, job_id) else None
    first.app.state.frameswap.store.close()  # the process ends
    second = make_client(**paths)  # a new process on the same paths
    state = second.get(f"/v2/jobs/{job_id}").json()
    assert state["status"] == "COMPLETED"
    after = second.get(f"/v2/jobs/{job_id}/result")
    assert after.content == before and has_mark(after.content)
    assert gif_durations(after.content) == [40, 120, 70]


def test_a_dead_process_jobs_fail_with_a_reason_and_a_live_one_keeps_its_own(tmp_path):
    db, results = tmp_path / "j.sqlite3", tmp_path / "results"
    live = JobStore(db, results)
    live_job = live.create("owner")
    live.started(live_job)
    # another process records a job, then dies without any cleanup (as under SIGKILL)
    script = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from frameswap.server.store import JobStore
        store = JobStore(Path({str(db)!r}), Path({str(results)!r}))
        print(store.create("owner"), flush=True)
        (Path({str(results)!r}) / ("." + "x" * 24 + ".gif.0123456789ab.part")).write_bytes(b"half")
        os._exit(0)
        """
    )
    dead_job = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    dead_id = dead_job.stdout.strip()
    restarted = JobStore(db, results)
    restarted.open()
    failed = restarted.get(dead_id, "owner")
    assert failed.status == "FAILED" and failed.error is not None
    assert failed.error["code"] == "server_restarted" and failed.error["status_code"] == 503
    assert live.get(live_job, "owner").status == "PROCESSING"  # its process is alive: left alone
    assert not list(results.glob("*.part"))  # the dead process's temporary file is swept
    live.close()
    restarted.close()


def test_delete_cancels_a_running_job_and_removes_a_finished_one(make_client, tmp_path):
    gate = threading.Event()
    swapper = FakeSwapper(gate=gate)
    results = tmp_path / "results"
    client = make_client(swapper=swapper, results_dir=results)
    finished = client.post(V2, json=body()).json()["request_id"]
    gate.set()
    wait_for(client, finished)
    assert len(list(results.iterdir())) == 1
    deleted = client.delete(f"/v2/jobs/{finished}")
    assert deleted.status_code == 200 and deleted.json()["was"] == "COMPLETED"
    assert not list(results.iterdir())  # the result file is gone with the record
    assert_error(client.get(f"/v2/jobs/{finished}"), 404, "job_not_found")

    gate.clear()
    running = client.post(V2, json=body(target_img=b64(gif_bytes()))).json()["request_id"]
    wait_for(client, running, statuses=("PROCESSING",))
    assert client.delete(f"/v2/jobs/{running}").json()["was"] == "PROCESSING"
    job = client.app.state.frameswap.jobs
    gate.set()
    for _ in range(500):  # the worker stops at the next frame and is free again
        if job.stats()["running"] == 0:
            break
        threading.Event().wait(0.01)
    assert job.stats()["running"] == 0 and swapper.frames_done == 1  # 1 frame of the first job only
    assert_error(client.get(f"/v2/jobs/{running}"), 404)
    assert not list(results.iterdir())


def test_delete_is_for_the_owner_only(make_client):
    client = make_client(api_keys=("alice", "bob"))
    job_id = client.post(V2, json=body(), headers={"x-api-key": "alice"}).json()["request_id"]
    assert_error(client.delete(f"/v2/jobs/{job_id}", headers={"x-api-key": "bob"}), 404)
    assert client.get(f"/v2/jobs/{job_id}", headers={"x-api-key": "alice"}).status_code == 200


def test_per_key_job_quota_leaves_other_keys_served(make_client):
    gate = threading.Event()
    client = make_client(
        swapper=FakeSwapper(gate=gate), api_keys=("alice", "bob"), max_jobs_per_key=2, queue_size=8
    )
    alice, bob = {"x-api-key": "alice"}, {"x-api-key": "bob"}
    assert [client.post(V2, json=body(), headers=alice).status_code for _ in range(2)] == [202, 202]
    assert_error(client.post(V2, json=body(), headers=alice), 429, "quota_exceeded")
    assert client.post(V2, json=body(), headers=bob).status_code == 202  # one key cannot close v2
    gate.set()


def test_byte_quota_and_result_cap(make_client):
    client = make_client(max_result_bytes_per_key=1)
    first = client.post(V2, json=body()).json()["request_id"]
    state = wait_for(client, first)
    # a result bigger than the key's byte quota is refused when it is stored, with the reason
    assert state["status"] == "FAILED" and state["error"]["code"] == "storage_full"
    assert state["error"]["status_code"] == 507

    roomy = make_client(max_result_bytes_per_key=10**9, max_result_bytes=10**9)
    done = roomy.post(V2, json=body()).json()["request_id"]
    assert wait_for(roomy, done)["status"] == "COMPLETED"
    held = roomy.app.state.frameswap.store.counts()["stored_result_bytes"]
    assert held > 0
    capped = make_client(
        jobs_db=roomy.app.state.frameswap.store.db_path,
        results_dir=roomy.app.state.frameswap.store.results_dir,
        max_result_bytes_per_key=held,
    )
    assert_error(capped.post(V2, json=body()), 429, "quota_exceeded")  # the key's bytes are used up


def test_a_full_disk_is_507_without_a_path(make_client, monkeypatch, fake):
    import errno
    import os

    import frameswap.server.store as store_module

    def full_disk_write(path):  # the result's atomic write finds no space left
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    client = make_client()
    monkeypatch.setattr(store_module, "atomic_output", full_disk_write)
    job = client.post(V2, json=body()).json()["request_id"]
    state = wait_for(client, job)
    assert state["status"] == "FAILED" and state["error"]["code"] == "storage_full"
    assert state["error"]["status_code"] == 507 and "/" not in state["error"]["error"]
    # a swap whose own temporary file fills the disk (the encoder re-raising it as its own error)
    fake.error = RuntimeError("the encoder could not write")
    fake.error.__cause__ = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/tmp/frameswap-x/out.mp4")
    answer = client.post("/v1/models/faceswap-v2", json=body())
    assert_error(answer, 507, "storage_full")
    assert "/tmp" not in answer.text


def test_expiry_sweep_deletes_records_and_files(tmp_path):
    now = [1_000_000.0]
    results = tmp_path / "results"
    store = JobStore(tmp_path / "j.sqlite3", results, StoreLimits(result_ttl_s=60), clock=lambda: now[0])
    job_id = store.create("o")
    store.started(job_id)
    assert store.complete(job_id, b"GIF89a...", content_type="image/gif", format="gif", frame_count=1)
    assert [p.name for p in results.iterdir()] == [f"{job_id}.gif"]
    now[0] += 59
    store.sweep()
    assert store.get(job_id, "o").status == "COMPLETED"
    now[0] += 2
    store.sweep()
    assert not list(results.iterdir())
    assert store.counts() == {"stored_jobs": 0, "stored_result_bytes": 0}
    store.close()


def test_a_result_for_a_deleted_job_is_not_kept(tmp_path):
    store = JobStore(tmp_path / "j.sqlite3", tmp_path / "results")
    job_id = store.create("o")
    store.delete(job_id, "o")
    assert not store.complete(job_id, b"data", content_type="image/png", format="png", frame_count=1)
    assert not list((tmp_path / "results").iterdir())
    store.close()


def test_a_job_deleted_through_another_process_is_told_to_stop(tmp_path):
    """Replicas share one database: a DELETE answered by one reaches the job running in another at
    its next progress report (the Job then sets its cancel event)."""
    runner = JobStore(tmp_path / "j.sqlite3", tmp_path / "results")
    other = JobStore(tmp_path / "j.sqlite3", tmp_path / "results")
    job_id = runner.create("o")
    runner.started(job_id)
    assert runner.progress(job_id, 1, 10)
    assert other.delete(job_id, "o").status == "PROCESSING"
    assert not runner.progress(job_id, 10, 10)  # the last frame always reaches the database
    runner.close()
    other.close()


def test_first_use_from_many_threads_at_once(tmp_path):
    """The store opens lazily; concurrent first calls must open it once (the instance lock is
    exclusive, so a second open would fail) and every job must be recorded."""
    from concurrent.futures import ThreadPoolExecutor

    store = JobStore(tmp_path / "j.sqlite3", tmp_path / "results", StoreLimits(max_jobs_per_key=100))
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda _: store.create("o"), range(16)))
    assert len(set(ids)) == 16 and store.counts()["stored_jobs"] == 16
    store.close()
