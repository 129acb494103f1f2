"""Every code path of the HTTP API through TestClient, with a fake swapper that does real work."""

from __future__ import annotations

import base64
import io
import logging
import sqlite3
import threading

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from PIL import Image
from pydantic import BaseModel

from frameswap.errors import FaceIndexError, ModelNotFoundError, UnsupportedMediaError
from frameswap.server.app import create_app
from frameswap.server.schemas import ImageResponse, JobState
from frameswap.server.settings import ServerSettings
from kit.server import (
    FakeSwapper,
    Route,
    assert_error,
    b64,
    body,
    gif_bytes,
    gif_durations,
    has_mark,
    png_bytes,
    uniform_png,
)

V1 = "/v1/models/faceswap-v2"


# --- success --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [V1, "/v1/faceswap-v2"])
def test_still_image_answers_the_swapped_image(make_client, fake, path):
    response = make_client().post(path, json=body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert has_mark(response.content)
    call = fake.calls[0]
    assert call["options"].input_faces_index == "0" and call["options"].source_faces_index == "0"
    assert call["options"].face_restore == "codeformer"  # the hosted default


def test_fields_reach_the_swapper(make_client, fake):
    make_client().post(
        V1, json=body(input_faces_index="0, 2", source_faces_index=1, face_restore="GFPGANv1.4.pth")
    )
    options = fake.calls[0]["options"]
    assert (options.input_faces_index, options.source_faces_index) == ("0, 2", "1")
    assert options.face_restore == "gfpgan-1.4"


def test_server_default_face_restore_applies_when_omitted(make_client, fake):
    make_client(default_face_restore="none").post(V1, json=body())
    assert fake.calls[0]["options"].face_restore == "none"


def as_fastapi_sends(model: type[BaseModel], content: bytes) -> bytes:
    """The bytes FastAPI itself sends for this model's value (what a ``response_model`` route did
    before the server built its large JSON answers on a worker thread): they must not change."""
    return JSONResponse(jsonable_encoder(model.model_validate_json(content))).body


def test_base64_true_answers_json(make_client):
    response = make_client().post(V1, json=body(base64=True))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json" and response.headers["x-frame-count"] == "1"
    assert response.content == as_fastapi_sends(ImageResponse, response.content)
    payload = response.json()
    assert (
        payload["content_type"] == "image/png" and payload["format"] == "png" and payload["frame_count"] == 1
    )
    assert has_mark(base64.b64decode(payload["image"]))


def test_jpeg_target_answers_jpeg(make_client):
    buf = io.BytesIO()
    Image.open(io.BytesIO(png_bytes())).save(buf, format="JPEG")
    response = make_client().post(V1, json=body(target_img=b64(buf.getvalue())))
    assert response.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"


def test_gif_target_answers_an_animated_gif_with_its_timing(make_client):
    durations = (40, 120, 70)
    response = make_client().post(V1, json=body(target_img=b64(gif_bytes(durations))))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["x-frame-count"] == "3"
    assert gif_durations(response.content) == list(durations)
    assert has_mark(response.content)


def test_data_uri_and_url_inputs(make_client, loopback_server):
    loopback_server.routes["/t.gif"] = Route(body=gif_bytes())
    client = make_client(allow_loopback_urls=True)
    response = client.post(
        V1,
        json=body(
            source_img="data:image/png;base64," + b64(png_bytes(color=(1, 2, 3))),
            target_img=loopback_server.url("/t.gif"),
        ),
    )
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    assert loopback_server.requests[0]["path"] == "/t.gif"


def test_unknown_fields_are_ignored(make_client):
    assert make_client().post(V1, json=body(seed=3, extra="x")).status_code == 200


# --- auth --------------------------------------------------------------------------------------------


def test_auth_off_is_open(make_client):
    assert make_client().post(V1, json=body()).status_code == 200


def test_auth_on_requires_a_valid_key(make_client, fake):
    client = make_client(api_keys=("k-one", "k-two"))
    assert_error(client.post(V1, json=body()), 401, "unauthorized")
    assert_error(client.post(V1, json=body(), headers={"x-api-key": "k-on"}), 401)
    assert_error(client.get("/v1/info"), 401)
    assert fake.calls == []
    assert client.post(V1, json=body(), headers={"x-api-key": "k-two"}).status_code == 200
    assert client.get("/health").status_code == 200  # liveness needs no key


# --- errors ------------------------------------------------------------------------------------------


def test_bad_base64_is_400(make_client):
    payload = assert_error(make_client().post(V1, json=body(target_img="not base64 !!")), 400, "bad_source")
    assert "target_img" in payload["error"]


def test_missing_field_is_400_naming_it(make_client):
    payload = assert_error(make_client().post(V1, json={"target_img": "x"}), 400, "bad_request")
    assert "source_img" in payload["error"]


def test_unreadable_media_is_400(make_client):
    assert_error(make_client().post(V1, json=body(target_img=b64(b"GIF89a garbage"))), 400)


def test_unsupported_media_is_400(make_client, fake):
    fake.error = UnsupportedMediaError("target_img is not a format frameswap reads")
    assert_error(make_client().post(V1, json=body()), 400, "unsupported_media")


def test_no_face_is_400(make_client):
    assert_error(make_client().post(V1, json=body(source_img=b64(uniform_png()))), 400, "no_face")


def test_index_error_is_400(make_client, fake):
    fake.error = FaceIndexError("input_faces_index 3 is out of range: the target has 2 faces")
    payload = assert_error(make_client().post(V1, json=body(input_faces_index="3")), 400, "bad_face_index")
    assert "out of range" in payload["error"]


def test_unknown_face_restore_is_400_before_queueing(make_client, fake):
    payload = assert_error(make_client().post(V1, json=body(face_restore="gpen")), 400, "bad_option")
    assert "GFPGANv1.4.pth" in payload["error"]
    assert fake.calls == []


def test_refused_url_is_400(make_client, loopback_server):
    loopback_server.routes["/t.png"] = Route(body=png_bytes())
    client = make_client()  # loopback not allowed
    for url in (
        loopback_server.url("/t.png"),
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/",
        "file:///etc/passwd",
    ):
        assert_error(client.post(V1, json=body(target_img=url)), 400, "url_refused")
    assert loopback_server.requests == []


def test_media_over_the_limit_is_413(make_client):
    assert_error(make_client(max_media_bytes=100).post(V1, json=body()), 413, "media_too_large")


def test_a_source_list_shares_one_media_limit(make_client, fake):
    """32 photos at the per-input limit each would hold 32 times that limit in a worker: the list's
    photos together get one ``max_media_bytes``. Two photos fit, the third is refused by name, and
    the swapper never sees the refused request."""
    photo = png_bytes()
    client = make_client(max_media_bytes=2 * len(photo) + len(photo) // 2)
    fits = client.post(V1, json=body(source_img=[b64(photo), b64(photo)]))
    assert fits.status_code == 200 and fake.calls[-1]["source"] == [photo, photo]
    calls = len(fake.calls)
    refused = client.post(V1, json=body(source_img=[b64(photo)] * 3))
    assert_error(refused, 413, "media_too_large")
    assert "source_img[2]" in refused.json()["error"] and len(fake.calls) == calls


def test_body_over_the_limit_is_413(make_client, fake):
    client = make_client(max_body_bytes=2000)
    assert_error(client.post(V1, json=body(target_img=b64(b"x" * 3000))), 413, "body_too_large")

    def chunks():  # no Content-Length: refused while streaming
        yield b'{"source_img": "'
        for _ in range(10):
            yield b"A" * 500

    assert_error(client.post(V1, content=chunks(), headers={"content-type": "application/json"}), 413)
    assert fake.calls == []


def test_missing_model_is_503_with_advice_and_no_path(make_client, fake):
    fake.error = ModelNotFoundError(
        "codeformer.onnx is not in /home/alice/.frameswap/models; run frameswap models"
    )
    payload = assert_error(make_client().post(V1, json=body()), 503, "model_missing")
    assert "/home/alice" not in payload["error"] and '"face_restore": "none"' in payload["hint"]


def test_unexpected_error_is_500_without_trace_or_path(make_client, fake, caplog):
    fake.error = RuntimeError("boom in /srv/secret/frameswap/pipeline.py line 42")
    with caplog.at_level(logging.ERROR, logger="frameswap.server"):
        response = make_client(raise_server_exceptions=False).post(V1, json=body())
    payload = assert_error(response, 500, "internal_error")
    text = response.text
    assert "boom" not in text and "/srv" not in text and "Traceback" not in text and ".py" not in text
    assert any("boom" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)  # logged server-side
    assert payload["error"].startswith("internal server error (ref ")


def test_timeout_is_504_and_cancels_the_swap(make_client):
    slow = FakeSwapper(delay_s=0.05)
    client = make_client(swapper=slow, job_timeout_s=0.1)
    assert_error(client.post(V1, json=body(target_img=b64(gif_bytes((10,) * 50)))), 504, "timeout")
    jobs = client.app.state.frameswap.jobs
    for _ in range(500):
        if jobs.stats()["running"] == 0:
            break
        threading.Event().wait(0.01)
    assert jobs.stats()["running"] == 0
    assert slow.frames_done < 50  # the cancel event stopped the swap, freeing the worker


def test_queue_full_is_429_at_once(make_client):
    gate = threading.Event()
    held = FakeSwapper(gate=gate)
    client = make_client(swapper=held, workers=1, queue_size=1)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(client.post(V1, json=body()).status_code))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    jobs = client.app.state.frameswap.jobs
    for _ in range(200):
        if jobs.stats()["running"] + jobs.stats()["waiting"] == 2:
            break
        threading.Event().wait(0.01)
    response = client.post(V1, json=body())
    assert_error(response, 429, "queue_full")
    assert response.headers["retry-after"] == "1"
    assert client.get("/health").json()["status"] == "ok"  # health answers while swaps are held
    gate.set()
    for t in threads:
        t.join(10)
    assert results == [200, 200]


# --- v2 jobs ------------------------------------------------------------------------------------------


def _age_finished_job(client, job_id: str, seconds: float) -> None:
    """Move a finished job's end ``seconds`` into the past, as the store's own clock would see it
    that much later (the rows are the store's state; the app has no test clock)."""
    with sqlite3.connect(client.app.state.frameswap.store.db_path) as db:
        db.execute("UPDATE jobs SET finished_at = finished_at - ? WHERE id = ?", (seconds, job_id))
    db.close()


def test_v2_job_lifecycle_and_expiry(make_client):
    gate = threading.Event()
    swapper = FakeSwapper(gate=gate)
    client = make_client(swapper=swapper, result_ttl_s=60)
    accepted = client.post("/v2/models/faceswap-v2", json=body(target_img=b64(gif_bytes())))
    assert accepted.status_code == 202
    job_id = accepted.json()["request_id"]
    assert accepted.json()["poll_url"] == f"/v2/jobs/{job_id}"
    state = client.get(f"/v2/jobs/{job_id}").json()
    assert state["status"] in ("QUEUED", "PROCESSING") and state["output"] is None
    gate.set()
    for _ in range(500):
        state = client.get(f"/v2/jobs/{job_id}").json()
        if state["status"] == "COMPLETED":
            break
        threading.Event().wait(0.01)
    assert state["status"] == "COMPLETED"
    raw_state = client.get(f"/v2/jobs/{job_id}")
    assert raw_state.headers["content-type"] == "application/json"
    assert raw_state.content == as_fastapi_sends(JobState, raw_state.content)
    assert state["progress"] == {"done": 3, "total": 3, "fraction": 1.0}
    assert state["output"]["content_type"] == "image/gif" and has_mark(
        base64.b64decode(state["output"]["image"])
    )
    raw = client.get(state["result_url"])
    assert raw.headers["content-type"] == "image/gif" and gif_durations(raw.content) == [40, 120, 70]
    _age_finished_job(client, job_id, 55)  # 55 s (plus the test's own) of a 60 s life: still there
    assert client.get(f"/v2/jobs/{job_id}").status_code == 200
    _age_finished_job(client, job_id, 6)
    assert_error(client.get(f"/v2/jobs/{job_id}"), 404, "job_not_found")
    assert_error(client.get(state["result_url"]), 404)


def test_v2_failed_job_reports_the_error(make_client):
    client = make_client()
    job_id = client.post("/v2/faceswap-v2", json=body(source_img=b64(uniform_png()))).json()["request_id"]
    for _ in range(500):
        state = client.get(f"/v2/jobs/{job_id}").json()
        if state["status"] == "FAILED":
            break
        threading.Event().wait(0.01)
    assert state["error"]["status_code"] == 400 and state["error"]["code"] == "no_face"


def test_v2_jobs_belong_to_their_key(make_client):
    client = make_client(api_keys=("alice", "bob"))
    job_id = client.post("/v2/models/faceswap-v2", json=body(), headers={"x-api-key": "alice"}).json()[
        "request_id"
    ]
    assert client.get(f"/v2/jobs/{job_id}", headers={"x-api-key": "alice"}).status_code == 200
    assert_error(client.get(f"/v2/jobs/{job_id}", headers={"x-api-key": "bob"}), 404)


def test_unknown_job_is_404(make_client):
    assert_error(make_client().get("/v2/jobs/nope"), 404, "job_not_found")


# --- service endpoints --------------------------------------------------------------------------------


def test_info_and_health_and_docs(make_client):
    client = make_client(workers=2, queue_size=3)
    info = client.get("/v1/info").json()
    assert info["swapper"]["engine"] == "fake" and info["workers"] == 2 and info["queue_size"] == 3
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "jobs": {"workers": 2, "running": 0, "waiting": 0, "capacity": 5},
    }
    schema = client.get("/openapi.json").json()
    fields = schema["components"]["schemas"]["FaceSwapRequest"]["properties"]
    assert set(fields) == {
        "source_img",
        "target_img",
        "input_faces_index",
        "source_faces_index",
        "face_restore",
        "base64",
        "engine",  # frameswap's one addition (the page's engine chooser); clients of the hosted API omit it
        "keep",
        "gender",
    }
    assert client.get("/docs").status_code == 200


def test_every_openapi_reference_resolves(fake):
    """The routes parse their bodies themselves and name them by ``$ref`` (``body_doc``); each
    reference, in every route, must lead to a schema in the document (``/docs`` renders a broken
    form otherwise). The oracle is a walk of the whole document, JSON-pointer by JSON-pointer."""
    document = create_app(ServerSettings(), swapper=fake).openapi()
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for ref in set(refs):
        assert ref.startswith("#/"), ref
        target: object = document
        for part in ref[2:].split("/"):
            assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
            target = target[part]
    bodies = {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for path in document["paths"].values()
        for op in path.values()
        if "requestBody" in op
    }
    assert {"#/components/schemas/FaceSwapRequest", "#/components/schemas/FacesRequest"} <= bodies


def test_open_server_on_a_public_interface_warns(fake, caplog):
    with caplog.at_level(logging.WARNING, logger="frameswap.server"):
        create_app(ServerSettings(host="0.0.0.0"), swapper=fake)
    assert any("no API key" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="frameswap.server"):
        create_app(ServerSettings(host="0.0.0.0", api_keys=("k",)), swapper=fake)
        create_app(ServerSettings(), swapper=fake)
    assert not caplog.records
