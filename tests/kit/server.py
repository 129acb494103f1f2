"""Fixtures for the server tests: a fake swapper that does real, checkable work, small media,
and a loopback HTTP server that serves files for the URL path."""

from __future__ import annotations

import base64
import io
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import uvicorn
from PIL import Image, ImageSequence, UnidentifiedImageError

from frameswap.errors import CancelledError, NoFaceError, UnsupportedMediaError
from frameswap.server.app import create_app
from frameswap.server.settings import ServerSettings

MARK = (255, 0, 0)  # the fake "swap" paints the target's top-left quarter this colour


# --- media ---------------------------------------------------------------------------------------


def png_bytes(size: tuple[int, int] = (32, 24), color: tuple[int, int, int] = (0, 128, 255)) -> bytes:
    rgb = np.zeros((size[1], size[0], 3), np.uint8)
    rgb[:] = color
    rgb[size[1] // 2 :, :, 1] = 200  # some structure, so it is not a uniform image
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def gif_bytes(durations_ms: tuple[int, ...] = (40, 120, 70), size: tuple[int, int] = (24, 16)) -> bytes:
    frames = []
    for i, _ in enumerate(durations_ms):
        rgb = np.zeros((size[1], size[0], 3), np.uint8)
        rgb[:, :, 2] = (60 * (i + 1)) % 256
        rgb[:, : 4 * (i % 5 + 1), 1] = 255
        frames.append(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=list(durations_ms), loop=0
    )
    return buf.getvalue()


def uniform_png() -> bytes:
    """The fake swapper finds 'no face' in a uniform image."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def gif_durations(data: bytes) -> list[int]:
    with Image.open(io.BytesIO(data)) as im:
        return [frame.info["duration"] for frame in ImageSequence.Iterator(im)]


# --- the fake swapper ------------------------------------------------------------------------------


@dataclass
class FakeResult:
    data: bytes | None
    path: None
    format: str
    content_type: str
    frame_count: int


@dataclass
class FakeSwapper:
    """Decodes the target, paints the top-left quarter of every frame red, re-encodes it in the same
    format with the same frame durations. Raises ``NoFaceError`` when the source is uniform.

    ``delay_s`` per frame (checked against ``cancel``), ``error`` to raise, ``gate`` to hold swaps.
    """

    delay_s: float = 0.0
    error: BaseException | None = None
    gate: threading.Event | None = None
    calls: list[dict] = field(default_factory=list)
    frames_done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def describe(self) -> dict:
        return {"engine": "fake", "loaded_engines": ["fake"]}

    def swap(
        self,
        source,
        target,
        output=None,
        *,
        options,
        fetcher=None,
        progress=False,
        on_progress=None,
        cancel=None,
    ):
        with self.lock:
            self.calls.append({"options": options, "source": source, "target": target})
        if self.gate is not None:
            self.gate.wait(10)
        if self.error is not None:
            raise self.error
        photos = source if isinstance(source, list) else [source]  # a list: photos of one person
        assert all(isinstance(p, bytes) for p in [*photos, target]), "the server must hand over bytes"
        try:  # like the real media layer: unreadable bytes are an UnsupportedMediaError
            src = np.asarray(Image.open(io.BytesIO(photos[0])).convert("RGB"))
            im = Image.open(io.BytesIO(target))
        except UnidentifiedImageError:
            raise UnsupportedMediaError("not an image format frameswap reads") from None
        if src.std() == 0:
            raise NoFaceError("no face found in the source image")
        fmt = (im.format or "PNG").lower()
        frames, durations = [], []
        n = getattr(im, "n_frames", 1)
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if cancel is not None and cancel.is_set():
                raise CancelledError("cancelled")
            if self.delay_s:
                time.sleep(self.delay_s)
            rgb = np.array(frame.convert("RGB"))
            rgb[: rgb.shape[0] // 2, : rgb.shape[1] // 2] = MARK
            frames.append(Image.fromarray(rgb))
            durations.append(frame.info.get("duration", 0))
            self.frames_done += 1
            if on_progress:
                on_progress(i + 1, n)
        buf = io.BytesIO()
        if fmt == "gif" and len(frames) > 1:
            pal = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
            pal[0].save(buf, format="GIF", save_all=True, append_images=pal[1:], duration=durations, loop=0)
            content_type = "image/gif"
        elif fmt == "jpeg":
            frames[0].save(buf, format="JPEG", quality=95)
            content_type = "image/jpeg"
        else:
            fmt = "png"
            frames[0].save(buf, format="PNG")
            content_type = "image/png"
        return FakeResult(buf.getvalue(), None, fmt, content_type, len(frames))


def has_mark(data: bytes) -> bool:
    """The fake swap's visible change: the top-left quarter of the first frame is red."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    quarter = rgb[: rgb.shape[0] // 2, : rgb.shape[1] // 2]
    return bool(np.abs(quarter - np.array(MARK)).max() <= 8)


def body(**changes):
    return {"source_img": b64(png_bytes(color=(200, 150, 100))), "target_img": b64(png_bytes()), **changes}


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    payload = response.json()
    assert set(payload) == {"error", "code", "hint"} and payload["error"] and payload["hint"]
    if code:
        assert payload["code"] == code
    return payload


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeSwapper:
    return FakeSwapper()


@pytest.fixture
def make_client(fake):
    """Build a TestClient over an app with the fake swapper and some settings changed."""
    from fastapi.testclient import TestClient

    clients = []

    def build(swapper=None, raise_server_exceptions=True, **changes) -> TestClient:
        settings = ServerSettings(**{"job_timeout_s": 10.0, **changes})
        app = create_app(settings, swapper=swapper or fake)
        client = TestClient(app, raise_server_exceptions=raise_server_exceptions)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.app.state.frameswap.jobs.shutdown(wait=True, timeout=5)
        client.app.state.frameswap.store.close()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunked: bool = False


class LoopbackServer:
    """A tiny HTTP server on 127.0.0.1 that serves ``routes`` and records what it was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append({"path": self.path, "host": self.headers.get("Host", "")})
                route = owner.routes.get(self.path, Route(404, b"not here"))
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                if route.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(route.body), 1000):
                        piece = route.body[i : i + 1000]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def loopback_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


class LiveServer:
    """uvicorn in a thread on a socket bound to a free loopback port (no port race)."""

    def __init__(self, app) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()


@pytest.fixture
def live_server():
    servers = []

    def start(swapper, **changes) -> LiveServer:
        server = LiveServer(create_app(ServerSettings(**changes), swapper=swapper)).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__()
