"""Issue 11 items 2, 3, 5, 6: each attack reproduced against the app, and the fixed answer.

* a key-less large body is refused with 401 before the server reads a byte of it (3);
* a 40,000-item index and a 5,000-digit index are 400s, and request parsing runs off the event
  loop, so ``/health`` answers while a request is being parsed (2, 6);
* a client that hangs up cancels its job and frees the worker (5);
* a 5,000-digit Content-Length, on a request or on a fetched URL, is refused as too large, not a
  500 (``int()`` refuses over 4,300 digits) (6).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading

import requests

from frameswap.server.app import create_app
from frameswap.server.context import ServerContext
from frameswap.server.settings import ServerSettings
from kit.server import FakeSwapper, assert_error, b64, body, png_bytes

V1 = "/v1/models/faceswap-v2"


def _call_asgi(app, path: str, headers: list[tuple[bytes, bytes]], chunks: int) -> tuple[int, int]:
    """Send a POST whose body is ``chunks`` MiB straight into the ASGI app; returns the status and
    how many body chunks the app pulled from the client."""
    pulled = 0
    status: list[int] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * (1 << 20), "more_body": pulled < chunks}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    return status[0], pulled


def test_a_keyless_body_is_refused_before_it_is_read(fake):
    app = create_app(ServerSettings(api_keys=("secret",)), swapper=fake)
    for headers in ([], [(b"x-api-key", b"wrong")]):
        status, pulled = _call_asgi(app, V1, headers, chunks=63)
        assert status == 401
        assert pulled == 0, f"the server read {pulled} MiB of a key-less body"
    # with the key the same body is read (here: refused as bad JSON once read), so the check is real
    status, pulled = _call_asgi(app, V1, [(b"x-api-key", b"secret")], chunks=3)
    assert status == 400 and pulled == 3


HUGE_LENGTH = b"9" * 5000  # int() refuses more than 4,300 digits


def test_a_5000_digit_content_length_is_413_not_500(fake):
    app = create_app(ServerSettings(), swapper=fake)
    status, pulled = _call_asgi(app, V1, [(b"content-length", HUGE_LENGTH)], chunks=1)
    assert (status, pulled) == (413, 0)


def test_a_url_declaring_a_5000_digit_length_is_a_media_limit_error():
    from frameswap.errors import MediaLimitError
    from frameswap.server.fetch import UrlFetcher, UrlFetchPolicy

    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " + HUGE_LENGTH + b"\r\n\r\nGIF89a")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True, timeout_s=10))
        try:
            fetcher(f"http://127.0.0.1:{server.getsockname()[1]}/big.gif")
        except MediaLimitError as exc:
            assert "Content-Length" in str(exc)
        else:
            raise AssertionError("a 5,000-digit Content-Length was fetched")
    finally:
        thread.join(5)
        server.close()


def test_hostile_index_lists_are_400s(make_client):
    client = make_client()
    many = ",".join(str(i) for i in range(40_000))
    payload = assert_error(client.post(V1, json=body(input_faces_index=many)), 400, "bad_face_index")
    assert "at most 1000" in payload["error"]
    huge = "9" * 5000  # int() refuses strings over 4,300 digits: was a 500
    assert_error(client.post(V1, json=body(input_faces_index=huge)), 400, "bad_face_index")
    assert_error(client.post(V1, json=body(source_faces_index=f"0,{huge}")), 400, "bad_face_index")


def test_request_parsing_never_blocks_the_event_loop(live_server, monkeypatch):
    """A request stuck in parsing (as a 10 s quadratic parse was) must leave /health answering."""
    entered, release = threading.Event(), threading.Event()
    original = ServerContext.parse

    def slow_parse(self, raw):
        entered.set()
        release.wait(20)
        return original(self, raw)

    monkeypatch.setattr(ServerContext, "parse", slow_parse)
    server = live_server(FakeSwapper())
    payload = {"source_img": b64(png_bytes(color=(9, 99, 199))), "target_img": b64(png_bytes())}
    answer: list[int] = []
    poster = threading.Thread(
        target=lambda: answer.append(requests.post(f"{server.url}{V1}", json=payload, timeout=30).status_code)
    )
    poster.start()
    try:
        assert entered.wait(10)
        health = requests.get(f"{server.url}/health", timeout=5)  # times out if parsing held the loop
        assert health.status_code == 200
    finally:
        release.set()
        poster.join(30)
    assert answer == [200]


class HoldingSwapper(FakeSwapper):
    """Holds every swap until its cancel event is set (or 20 s pass), recording what it saw."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()
        self.cancelled = threading.Event()

    def swap(self, source, target, output=None, *, cancel=None, **kwargs):
        if self.started.is_set():  # only the first call holds; later ones swap normally
            return super().swap(source, target, output, cancel=cancel, **kwargs)
        self.started.set()
        if cancel is not None and cancel.wait(20):
            self.cancelled.set()
        return super().swap(source, target, output, cancel=cancel, **kwargs)


def test_a_client_that_hangs_up_cancels_its_job(live_server):
    swapper = HoldingSwapper()
    server = live_server(swapper, workers=1, queue_size=1, job_timeout_s=60)
    payload = json.dumps({"source_img": b64(png_bytes(color=(9, 99, 199))), "target_img": b64(png_bytes())})
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            f"POST {V1} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n{payload}".encode()
        )
        assert swapper.started.wait(10)
    # the socket is closed: the job must be cancelled long before its 60 s timeout
    assert swapper.cancelled.wait(15), "the job kept its worker after the client left"
    again = requests.post(f"{server.url}{V1}", data=payload, timeout=30)  # the one worker is free again
    assert again.status_code == 200
