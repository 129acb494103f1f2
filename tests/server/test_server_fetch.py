"""The safe URL fetcher: address checks (no traffic), pinning, redirects, size cap, timeout."""

from __future__ import annotations

import socket
import threading

import pytest
from srvkit import Route, png_bytes

from frameswap.errors import MediaLimitError, SourceError, URLRefusedError
from frameswap.server import fetch as fetch_mod
from frameswap.server.fetch import UrlFetcher, UrlFetchPolicy, address_refusal

REFUSED = [
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "127.0.0.1",
    "127.1.2.3",
    "0.0.0.0",
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert address_refusal(address) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_refusal(address) is None


def test_loopback_allowance_admits_loopback_only():
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert address_refusal(address, allow_loopback=True) is None
    for address in ("10.0.0.1", "169.254.169.254", "192.168.1.1", "0.0.0.0", "fe80::1"):
        assert address_refusal(address, allow_loopback=True) is not None


@pytest.fixture
def no_connect(monkeypatch):
    """Fail the test if anything opens a TCP connection."""
    attempts = []

    def refuse(sock, address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"a connection to {address} was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@pytest.fixture
def loopback_only(monkeypatch):
    """Record every TCP connection; any to a non-loopback address fails the test before it is made."""
    targets = []
    real_connect = socket.socket.connect

    def spy(sock, address, *args, **kwargs):
        targets.append(address[0])
        if address_refusal(address[0], allow_loopback=True) is not None:
            raise AssertionError(f"a connection to {address} was attempted")
        return real_connect(sock, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return targets


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/a.png",
        "http://192.168.1.1/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/a.png",
        "http://127.0.0.1/a.png",
        "https://[::ffff:10.0.0.1]/a.png",
        "http://2130706433/a.png",  # 127.0.0.1 written as one integer
        "http://0x7f000001/a.png",
        "http://localhost/a.png",
    ],
)
def test_private_urls_are_refused_before_connecting(url, no_connect):
    with pytest.raises(URLRefusedError, match="refused"):
        UrlFetcher(UrlFetchPolicy())(url)
    assert no_connect == []


def test_a_name_resolving_to_a_private_address_is_refused(no_connect):
    fetcher = UrlFetcher(UrlFetchPolicy(), resolver=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(URLRefusedError, match=r"10\.1\.2\.3"):
        fetcher("http://rebind.example/a.png")
    assert no_connect == []


@pytest.mark.parametrize("url", ["ftp://example.com/a.png", "file:///etc/passwd", "gopher://x/", "//x/a"])
def test_other_schemes_are_refused(url, no_connect):
    with pytest.raises(URLRefusedError, match="only http and https"):
        UrlFetcher()(url)
    assert no_connect == []


def test_dns_failure_is_a_source_error():
    def fail(host, port):
        raise socket.gaierror(-2, "Name or service not known")

    with pytest.raises(SourceError, match="cannot resolve"):
        UrlFetcher(resolver=fail)("http://nowhere.invalid/a.png")


# --- against a real loopback server ------------------------------------------------------------------


def test_fetches_from_loopback_when_allowed(loopback_server):
    body = png_bytes()
    loopback_server.routes["/a.png"] = Route(body=body, headers={"Content-Type": "image/png"})
    assert UrlFetcher(UrlFetchPolicy(allow_loopback=True))(loopback_server.url("/a.png")) == body


def test_loopback_is_refused_without_the_allowance(loopback_server):
    loopback_server.routes["/a.png"] = Route(body=png_bytes())
    with pytest.raises(URLRefusedError):
        UrlFetcher(UrlFetchPolicy())(loopback_server.url("/a.png"))
    assert loopback_server.requests == []


def test_connection_is_pinned_to_the_checked_address(loopback_server, monkeypatch, loopback_only):
    """The name is resolved once; the connection goes to that address, the name goes in Host."""
    body = png_bytes()
    loopback_server.routes["/p.png"] = Route(body=body)
    lookups = []

    def resolver(host, port):
        lookups.append(host)
        return ["127.0.0.1"]

    # A second lookup (as a naive client would do when connecting) would get a private address.
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.9.9.9", 80))])
    fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True), resolver=resolver)
    assert fetcher(f"http://images.test:{loopback_server.port}/p.png") == body
    assert lookups == ["images.test"]
    assert loopback_only == ["127.0.0.1"]
    assert loopback_server.requests[0]["host"] == f"images.test:{loopback_server.port}"


def test_redirects_are_followed_and_each_hop_checked(loopback_server):
    body = png_bytes()
    loopback_server.routes["/r1"] = Route(302, headers={"Location": "/r2"})
    loopback_server.routes["/r2"] = Route(301, headers={"Location": loopback_server.url("/final.png")})
    loopback_server.routes["/final.png"] = Route(body=body)
    assert UrlFetcher(UrlFetchPolicy(allow_loopback=True))(loopback_server.url("/r1")) == body


def test_a_redirect_to_a_private_address_is_refused(loopback_server, loopback_only):
    loopback_server.routes["/go"] = Route(
        302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(URLRefusedError, match=r"169\.254\.169\.254"):
        UrlFetcher(UrlFetchPolicy(allow_loopback=True))(loopback_server.url("/go"))
    assert loopback_only == ["127.0.0.1"]  # the metadata address was never contacted


def test_too_many_redirects_are_refused(loopback_server):
    loopback_server.routes["/loop"] = Route(302, headers={"Location": "/loop"})
    with pytest.raises(URLRefusedError, match="redirected more than 2"):
        UrlFetcher(UrlFetchPolicy(allow_loopback=True, max_redirects=2))(loopback_server.url("/loop"))
    assert len(loopback_server.requests) == 3


def test_a_declared_body_over_the_cap_is_refused(loopback_server):
    loopback_server.routes["/big"] = Route(body=b"x" * 5000)
    with pytest.raises(MediaLimitError, match="4096-byte limit"):
        UrlFetcher(UrlFetchPolicy(allow_loopback=True, max_bytes=4096))(loopback_server.url("/big"))


def test_a_streamed_body_over_the_cap_is_refused(loopback_server):
    loopback_server.routes["/chunked"] = Route(body=b"x" * 5000, chunked=True)
    fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True, max_bytes=4096))
    with pytest.raises(MediaLimitError):
        fetcher(loopback_server.url("/chunked"))
    loopback_server.routes["/small"] = Route(body=b"y" * 4096, chunked=True)
    assert fetcher(loopback_server.url("/small")) == b"y" * 4096


def test_http_errors_are_source_errors(loopback_server):
    with pytest.raises(SourceError, match="HTTP 404"):
        UrlFetcher(UrlFetchPolicy(allow_loopback=True))(loopback_server.url("/missing"))


def test_a_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()
    try:
        fetcher = UrlFetcher(UrlFetchPolicy(allow_loopback=True, timeout_s=0.3))
        with pytest.raises(SourceError, match=r"longer than 0\.3 s"):
            fetcher(f"http://127.0.0.1:{listener.getsockname()[1]}/slow")
    finally:
        stop.set()
        listener.close()


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        UrlFetchPolicy(max_bytes=0)
    with pytest.raises(ValueError):
        UrlFetchPolicy(timeout_s=0)
    assert fetch_mod.UrlFetchPolicy().allow_loopback is False
