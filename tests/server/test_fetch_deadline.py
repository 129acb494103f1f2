"""Issue 11 item 1: one deadline bounds the whole fetch, however slowly a server drips bytes.

The drip server sends a complete, valid answer, only slowly: one byte per tick, each tick far
shorter than any per-read timeout. Before the fix the body was read 64 KiB at a time with the
deadline checked between reads, so these fetches *succeeded* after the whole drip (or, on a long
drip, pinned the worker for as long as the drip lasted). Now each must fail as too slow.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from frameswap.errors import SourceError
from frameswap.server.fetch import UrlFetcher, UrlFetchPolicy

BODY = b"x" * 40
TICK_S = 0.1  # 40 ticks = 4 s of drip against a 0.5 s deadline


class DripServer:
    """Loopback HTTP server that answers every request with ``BODY``, a byte per tick; what it drips
    (status line and headers too, or the body only) is chosen per test."""

    def __init__(self, drip_headers: bool, body: bytes = BODY, tick_s: float = TICK_S) -> None:
        self.drip_headers = drip_headers
        self.body = body
        self.tick_s = tick_s
        self.contacted = threading.Event()  # a fetcher connected (sent a request) at least once
        self.dripped = 0  # bytes dripped on the last connection before it ended
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent_all = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.contacted.set()
            with conn:
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.body)}\r\n\r\n".encode()
                try:
                    conn.recv(4096)
                    if not self.drip_headers:
                        conn.sendall(head)
                    self.dripped = 0
                    for byte in (head if self.drip_headers else b"") + self.body:
                        if self.stop.wait(self.tick_s):
                            return
                        conn.sendall(bytes([byte]))
                        self.dripped += 1
                    self.sent_all.set()
                except OSError:  # the fetcher hung up: what the deadline is for
                    continue

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


@pytest.fixture(params=[False, True], ids=["body-drip", "header-drip"])
def drip(request) -> Iterator[DripServer]:
    server = DripServer(drip_headers=request.param)
    yield server
    server.close()


def test_slow_drip_fails_at_the_deadline(drip):
    fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True, timeout_s=0.5))
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"took longer than 0\.5 s"):
        fetcher(f"http://127.0.0.1:{drip.port}/slow.gif")
    elapsed = time.monotonic() - started
    # the oracle is the server's own record: it had not finished dripping when the fetch gave up,
    # and had dripped about as many bytes as ticks fit in the deadline (5), far from the 39 the
    # old per-read timeout let through on the header drip before giving up
    assert not drip.sent_all.is_set(), f"the fetch waited for the whole drip ({elapsed:.1f} s)"
    deadline_bytes = 0.5 / TICK_S
    assert drip.dripped <= 4 * deadline_bytes, f"{drip.dripped} bytes dripped before the fetch gave up"


def test_a_prompt_server_is_still_fetched_whole():
    """The same server with no drip delay: the watchdog must not cut a fetch that is on time."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY)}\r\n\r\n".encode() + BODY)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True, timeout_s=5))
        assert fetcher(f"http://127.0.0.1:{port}/") == BODY
    finally:
        thread.join(5)
        server.close()


def test_drip_urls_cannot_pin_the_server_workers(make_client):
    """The issue's attack end to end: drip URLs against one worker. Each request is answered (400,
    too slow) at the fetch deadline, so the worker is back for the next one; before, each pinned it
    for the whole drip and the queue filled up with 429s for everyone."""
    servers = [DripServer(drip_headers=False) for _ in range(3)]
    try:
        client = make_client(workers=1, queue_size=1, allow_loopback_urls=True, fetch_timeout_s=0.5)
        for server in servers:
            url = f"http://127.0.0.1:{server.port}/slow.gif"
            response = client.post("/v1/models/faceswap-v2", json={"source_img": url, "target_img": url})
            assert response.status_code == 400 and "took longer than" in response.json()["error"]
        assert not any(server.sent_all.is_set() for server in servers)
    finally:
        for server in servers:
            server.close()


def test_a_list_of_slow_source_urls_ends_with_the_job(make_client):
    """A ``source_img`` list of URLs that each answer in time (0.6 s of drip against a 5 s fetch
    timeout) but together take far longer than the 1 s job timeout. Before the fix the worker went
    on fetching the whole list after the job had timed out; now the job's cancel and remaining time
    stop it. The oracle is the servers' own record: the URLs late in the list are never contacted,
    and the pool is empty again once the 504 is answered and the cut fetch has ended."""
    servers = [DripServer(drip_headers=False, body=b"x" * 6) for _ in range(5)]
    try:
        client = make_client(
            workers=1, queue_size=1, allow_loopback_urls=True, fetch_timeout_s=5.0, job_timeout_s=1.0
        )
        urls = [f"http://127.0.0.1:{server.port}/face.png" for server in servers]
        response = client.post("/v1/models/faceswap-v2", json={"source_img": urls, "target_img": urls[0]})
        assert response.status_code == 504, response.text
        for _ in range(500):  # the worker comes back (bounded poll, not a timing assert)
            stats = client.get("/health").json()["jobs"]
            if stats["running"] == 0 and stats["waiting"] == 0:
                break
            time.sleep(0.02)
        assert stats["running"] == 0 and stats["waiting"] == 0, stats
        contacted = [server.contacted.is_set() for server in servers]
        assert contacted[0] and not any(contacted[2:]), contacted
    finally:
        for server in servers:
            server.close()
