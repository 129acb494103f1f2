"""Settings from the environment and flags, the key file, constant-time key checks, the job pool."""

from __future__ import annotations

import threading

import pytest

from frameswap.cli import build_parser
from frameswap.errors import OptionsError
from frameswap.server.auth import key_matches
from frameswap.server.errors import JobTimeoutError, QueueFullError, ShuttingDownError, scrub_paths
from frameswap.server.jobs import JobManager, JobOutcome
from frameswap.server.settings import ServerSettings, read_keys_file

OK = JobOutcome(b"x", "image/png", "png", 1)


def test_settings_read_prefixed_variables(tmp_path, monkeypatch):
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nalpha\n\n beta \n")
    for name, value in {
        "FRAMESWAP_HOST": "0.0.0.0",
        "FRAMESWAP_PORT": "9001",
        "FRAMESWAP_API_KEYS": "one, two",
        "FRAMESWAP_API_KEYS_FILE": str(keys),
        "FRAMESWAP_WORKERS": "3",
        "FRAMESWAP_QUEUE_SIZE": "5",
        "FRAMESWAP_ALLOW_LOOPBACK_URLS": "yes",
        "FRAMESWAP_JOB_TIMEOUT_S": "12.5",
        "FRAMESWAP_JOBS_DB": str(tmp_path / "jobs.db"),
        "UNRELATED": "x",
    }.items():
        monkeypatch.setenv(name, value)
    settings = ServerSettings()
    assert (settings.host, settings.port, settings.workers, settings.queue_size) == ("0.0.0.0", 9001, 3, 5)
    assert settings.api_keys == ("one", "two", "alpha", "beta")
    assert settings.allow_loopback_urls and settings.job_timeout_s == 12.5
    assert settings.jobs_db == tmp_path / "jobs.db"
    assert settings.with_changes(port=9002, workers=None).port == 9002  # flags win, unset ones do not
    assert (
        settings.fetch_policy().allow_loopback
        and settings.media_limits().max_input_bytes == settings.max_media_bytes
    )
    monkeypatch.delenv("FRAMESWAP_PORT")
    assert ServerSettings().port == 8000


def test_bad_settings_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMESWAP_PORT", "eighty")
    with pytest.raises(OptionsError, match="port"):
        ServerSettings()
    monkeypatch.delenv("FRAMESWAP_PORT")
    with pytest.raises(OptionsError, match="queue_size"):
        ServerSettings(queue_size=0)
    with pytest.raises(OptionsError, match="face_restore"):
        ServerSettings(default_face_restore="gpen")
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n")
    with pytest.raises(OptionsError, match="no key"):
        read_keys_file(empty)


def test_exposure_needs_a_key():
    assert not ServerSettings().exposed_without_key
    assert not ServerSettings(host="::1").exposed_without_key
    assert ServerSettings(host="0.0.0.0").exposed_without_key
    assert not ServerSettings(host="0.0.0.0", api_keys=("k",)).exposed_without_key


def test_key_matching():
    assert key_matches("b", ("a", "b"))
    assert not key_matches("", ("a",)) and not key_matches("ab", ("a", "b")) and not key_matches("a", ())


def test_serve_flags_parse():
    args = build_parser().parse_args(
        [
            "serve",
            "--host",
            "0.0.0.0",
            "--port",
            "9",
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--workers",
            "2",
            "--queue-size",
            "4",
            "--allow-loopback-urls",
            "--models-dir",
            "/m",
        ]
    )
    assert (args.host, args.port, args.api_key, args.workers, args.queue_size) == (
        "0.0.0.0",
        9,
        ["k1", "k2"],
        2,
        4,
    )
    assert args.allow_loopback_urls is True and str(args.models_dir) == "/m"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--api-key", "k", "--api-keys-file", "f"])


def test_scrub_paths_keeps_urls():
    assert (
        scrub_paths("missing /home/a/m.onnx; see https://x.org/a/b")
        == "missing <path>; see https://x.org/a/b"
    )
    assert scrub_paths(r"open 'C:\Users\a\m.onnx' failed") == "open '<path>' failed"


# --- the job pool -----------------------------------------------------------------------------------


def manager(**kw) -> JobManager:
    return JobManager(**{"workers": 1, "queue_size": 1, "timeout_s": 5, **kw})


def test_admission_is_bounded_by_workers_plus_queue():
    jobs = manager(workers=2, queue_size=1)
    gate = threading.Event()
    admitted = [jobs.submit(lambda job: (gate.wait(5), OK)[1]) for _ in range(3)]
    with pytest.raises(QueueFullError):
        jobs.submit(lambda job: OK)
    gate.set()
    assert [job.future.result(5) for job in admitted] == [OK] * 3
    jobs.submit(lambda job: OK).future.result(5)  # room again once they finished
    jobs.shutdown()


def test_a_job_past_its_timeout_fails_and_is_asked_to_stop():
    jobs = manager(timeout_s=0.05)
    seen_cancel = threading.Event()

    def work(job):
        if job.cancel.wait(5):
            seen_cancel.set()
        return OK

    job = jobs.submit(work)
    with pytest.raises(JobTimeoutError):
        job.future.result(5)
    assert seen_cancel.wait(5) and job.status == "FAILED"
    jobs.shutdown()


def test_shutdown_lets_running_jobs_finish_and_fails_waiting_ones():
    jobs = manager(workers=1, queue_size=2)
    started, release = threading.Event(), threading.Event()

    def running(job):
        started.set()
        release.wait(5)
        return OK

    first = jobs.submit(running)
    waiting = jobs.submit(lambda job: OK)
    assert started.wait(5)
    stopper = threading.Thread(target=jobs.shutdown)
    stopper.start()
    with pytest.raises(ShuttingDownError):
        waiting.future.result(5)
    with pytest.raises(ShuttingDownError):
        jobs.submit(lambda job: OK)
    release.set()
    stopper.join(5)
    assert first.future.result(0) == OK and first.status == "COMPLETED"


def test_disclosure_settings_from_env_reach_every_request(tmp_path, monkeypatch):
    from frameswap.server.context import ServerContext
    from frameswap.server.schemas import FaceSwapRequest

    monkeypatch.setenv("FRAMESWAP_DISCLOSURE", "off")
    monkeypatch.setenv("FRAMESWAP_LABEL", "AI-edited")
    settings = ServerSettings()
    assert settings.disclosure is False and settings.label == "AI-edited"
    ctx = ServerContext(settings=settings, swapper=None, jobs=None, fetcher=None, store=None)  # type: ignore[arg-type]
    request = FaceSwapRequest(source_img="a", target_img="b", face_restore="none")
    disclosure = ctx.options_for(request).disclosure
    assert disclosure.machine_readable is False and disclosure.label == "AI-edited"
    monkeypatch.delenv("FRAMESWAP_DISCLOSURE")
    assert ServerSettings().disclosure_options().machine_readable  # on unless turned off
    monkeypatch.setenv("FRAMESWAP_C2PA_CERT", str(tmp_path / "chain.pem"))
    with pytest.raises(OptionsError, match="both"):
        ServerSettings()


def test_serve_flags_override_the_disclosure_settings():
    args = build_parser().parse_args(["serve", "--no-disclosure", "--label", "AI"])
    assert args.disclosure is False and args.label == "AI"
    unset = build_parser().parse_args(["serve"])
    assert unset.disclosure is None  # so FRAMESWAP_DISCLOSURE is not overridden
    assert build_parser().parse_args(["swap", "a.png", "b.gif"]).disclosure is True


def test_a_bad_c2pa_certificate_stops_the_server_at_start(tmp_path):
    pytest.importorskip("c2pa")
    from frameswap.server.app import create_app

    cert, key = tmp_path / "chain.pem", tmp_path / "signer.key"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    with pytest.raises(OptionsError, match=r"chain\.pem"):
        create_app(ServerSettings(c2pa_cert=cert, c2pa_key=key), swapper=object())  # type: ignore[arg-type]
