"""``serve --ray``: the same app on Ray Serve (2 replicas on a local Ray) answers the hosted
request shape with the plain server's bytes, and its auth errors too."""

from __future__ import annotations

import io
import socket
import threading
import time

import pytest
import requests
from PIL import Image

from frameswap.media import encode_bytes
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings
from kit.media_builders import animation_info, panning_frames, photo
from kit.server import b64

V1 = "/v1/models/faceswap-v2"
KEY = "serve-test-key"


def _png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo(size)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")  # one job store for the replicas and the plain app
    return ServerSettings(
        engine="classic",
        default_face_restore="none",
        models_dir=tmp_path_factory.mktemp("models"),
        api_keys=(KEY,),
        job_timeout_s=60.0,
        jobs_db=store / "jobs.sqlite3",
        results_dir=store / "results",
    )


@pytest.fixture(scope="module")
def serve_url(local_ray, settings):
    """What ``frameswap serve --ray --replicas 2`` runs (``run_on_ray``), on the session's Ray, on
    a thread until the module's tests are done."""
    pytest.importorskip("ray.serve")
    from frameswap.server.ray_serve import run_on_ray

    with socket.socket() as probe:  # a free loopback port for Serve's proxy
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop, failed = threading.Event(), []

    def run() -> None:
        try:
            run_on_ray(settings.model_copy(update={"host": "127.0.0.1", "port": port}), None, 2, None, stop)
        except BaseException as exc:  # the fixture reports it instead of waiting forever
            failed.append(exc)

    thread = threading.Thread(target=run, name="serve-ray", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # the replicas build their app and load models: up to a minute on CI
        if failed:
            raise failed[0]
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.1)
    else:
        raise AssertionError("serve --ray never answered /health")
    yield url
    stop.set()
    thread.join(60)
    assert not thread.is_alive() and not failed, failed


@pytest.fixture(scope="module")
def plain(settings):
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings)) as client:
        yield client


def test_replicas_answer_the_hosted_request_with_the_plain_server_s_bytes(serve_url, plain):
    durations = [40, 70, 50]
    gif = encode_bytes(panning_frames(durations, (96, 72)), animation_info(durations, (96, 72)), format="gif")
    bodies = [
        {"source_img": b64(_png((256, 256))), "target_img": b64(_png((96, 72))), "face_restore": "none"},
        {"source_img": b64(_png((256, 256))), "target_img": b64(gif), "input_faces_index": "0",
         "source_faces_index": "0", "face_restore": "none"},
    ]
    for body in bodies:
        expected = plain.post(V1, json=body, headers={"x-api-key": KEY})
        assert expected.status_code == 200, expected.text
        for _ in range(2):  # twice: Serve spreads requests over both replicas
            got = requests.post(serve_url + V1, json=body, headers={"x-api-key": KEY}, timeout=60)
            assert got.status_code == 200, got.text
            assert got.headers["content-type"] == expected.headers["content-type"]
            assert got.content == expected.content


def test_replicas_refuse_a_missing_key_like_the_plain_server(serve_url, plain):
    body = {"source_img": b64(_png((64, 64))), "target_img": b64(_png((64, 64)))}
    expected = plain.post(V1, json=body)
    got = requests.post(serve_url + V1, json=body, timeout=30)
    assert expected.status_code == got.status_code == 401
    assert got.json()["code"] == expected.json()["code"] == "unauthorized"


def test_v2_jobs_can_be_polled_on_any_replica(serve_url, plain):
    """Serve sends each poll to any replica, so the job store must be shared: the SQLite store, at
    the path every replica's identical settings name. With per-replica stores about half of these
    polls answered 404."""
    body = {"source_img": b64(_png((256, 256))), "target_img": b64(_png((96, 72))), "face_restore": "none"}
    headers = {"x-api-key": KEY}
    expected = plain.post(V1, json=body, headers=headers)
    submitted = requests.post(serve_url + "/v2/models/faceswap-v2", json=body, headers=headers, timeout=30)
    assert submitted.status_code == 202, submitted.text
    poll_url = serve_url + submitted.json()["poll_url"]
    state = {"status": "QUEUED"}
    for _ in range(600):  # every poll, whichever replica answers it, must know the job
        polled = requests.get(poll_url, headers=headers, timeout=30)
        assert polled.status_code == 200, polled.text
        state = polled.json()
        if state["status"] in ("COMPLETED", "FAILED"):
            break
        time.sleep(0.1)
    assert state["status"] == "COMPLETED", state
    for _ in range(4):
        result = requests.get(serve_url + state["result_url"], headers=headers, timeout=30)
        assert result.status_code == 200 and result.content == expected.content
