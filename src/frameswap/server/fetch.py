"""Fetch http(s) URLs without letting a request reach the fetching machine's own network.

A server that downloads user-supplied URLs is an SSRF target: ``http://169.254.169.254/`` (cloud
metadata), ``http://localhost:6379/`` or a name that resolves to ``10.x`` must never be contacted.
So every hop is checked *before* connecting: the host is resolved once, every resolved address
must be public, and the TCP connection is then made to that very address (pinned) while the
original name still goes in the ``Host`` header and the TLS SNI/certificate check. A DNS server
that answers "public" to the check and "private" to the connect (DNS rebinding) gets nowhere,
because there is no second lookup. Redirects are followed by hand, each hop checked again.

Why one watchdog for the whole fetch: socket timeouts bound each *operation*, not the fetch. A
server that sends one byte every few seconds (headers or body) satisfies every per-read timeout
while the fetch runs forever and pins a worker. So each fetch arms a :class:`FetchDeadline`: at
``timeout_s`` after the first hop it shuts the current socket down, which wakes whatever read,
TLS handshake or header parse is blocked on it, and the fetch fails with a timeout. Name
resolution is the one step it cannot interrupt (the system resolver has its own timeouts).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from frameswap.errors import MediaLimitError, OptionsError, SourceError, URLRefusedError
from frameswap.server.headers import declared_over

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
_MAX_URL_IN_MESSAGE = 120


@dataclass(frozen=True)
class UrlFetchPolicy:
    """What a fetch may do. ``allow_loopback`` admits 127.0.0.0/8 and ::1 only (tests, local use)."""

    allow_loopback: bool = False
    max_bytes: int = 64 * 1024 * 1024
    timeout_s: float = 20.0
    max_redirects: int = 3
    user_agent: str = "frameswap-fetch/1"

    def __post_init__(self) -> None:
        if self.max_bytes <= 0:
            raise OptionsError(f"max_bytes must be positive, got {self.max_bytes}")
        if self.timeout_s <= 0:
            raise OptionsError(f"timeout_s must be positive, got {self.timeout_s}")
        if self.max_redirects < 0:
            raise OptionsError(f"max_redirects must be >= 0, got {self.max_redirects}")


def _short(url: str) -> str:
    return url if len(url) <= _MAX_URL_IN_MESSAGE else url[: _MAX_URL_IN_MESSAGE - 3] + "..."


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, Teredo client), which is what gets reached."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def address_refusal(address: str | IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why ``address`` must not be contacted, or ``None`` when it is a public unicast address.

    Pure function of the address: no traffic. Anything not globally routable is refused
    (private, shared CGNAT, loopback, link-local, multicast, reserved, unspecified, documentation),
    and IPv6 forms that embed an IPv4 address are judged by that IPv4 address.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "a scoped (link-local) IPv6 address"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = address_refusal(inner, allow_loopback=allow_loopback)
            return None if reason is None else f"{reason} (inside the IPv6 address {ip})"
    if ip.is_loopback:
        return None if allow_loopback else "a loopback address"
    for flag, label in (
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, flag):
            return label
    if not ip.is_global:
        return "an address that is not globally routable"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (IPv4 and IPv6), via the system resolver."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class FetchDeadline:
    """One deadline over a whole fetch (every hop: connect, TLS, headers, body).

    A timer shuts down the socket in use when the deadline passes; a blocked read then returns at
    once. It keeps a duplicate of the socket's descriptor (``shutdown`` acts on the connection, not
    the descriptor), so it works whatever wraps the socket later (TLS takes the original over).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return self.ends_at - time.monotonic()

    def watch(self, sock: socket.socket) -> None:
        """Make ``sock`` the connection to cut when the deadline passes."""
        with self._lock:
            self._release_locked()
            self._sock = sock.dup()
            if self.expired:
                self._cut_locked()

    def _cut_locked(self) -> None:
        if self._sock is not None:
            # not connected yet, or already closed: the per-call timeout ends it
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _release_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._cut_locked()

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            self._release_locked()


def open_pinned_socket(
    ip: str, port: int, timeout: float, deadline: FetchDeadline | None = None
) -> socket.socket:
    """A TCP connection to exactly ``ip`` (a literal): no name lookup can happen on the way,
    unlike ``socket.create_connection``, which resolves its host argument again."""
    family = socket.AF_INET6 if ipaddress.ip_address(ip).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        if deadline is not None:
            deadline.watch(sock)
        sock.settimeout(timeout)
        sock.connect((ip, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a fixed, pre-checked IP; ``host`` stays the name for the Host header."""

    def __init__(
        self, host: str, port: int, pinned_ip: str, timeout: float, deadline: FetchDeadline | None = None
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._pinned_ip = pinned_ip
        self._timeout_s = timeout
        self._deadline = deadline

    def connect(self) -> None:
        self.sock = open_pinned_socket(self._pinned_ip, self.port, self._timeout_s, self._deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """As above for TLS: connect to the pinned IP, but SNI and certificate check use the name."""

    def __init__(
        self,
        host: str,
        port: int,
        pinned_ip: str,
        timeout: float,
        context: ssl.SSLContext,
        deadline: FetchDeadline | None = None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._pinned_ip = pinned_ip
        self._timeout_s = timeout
        self._tls_context = context
        self._deadline = deadline

    def connect(self) -> None:
        raw = open_pinned_socket(self._pinned_ip, self.port, self._timeout_s, self._deadline)
        try:
            self.sock = self._tls_context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


class UrlFetcher:
    """Callable ``fetcher(url) -> bytes`` that applies a :class:`UrlFetchPolicy` to every hop.

    ``resolver`` and ``ssl_context`` are injectable so tests can exercise the checks without DNS.
    """

    def __init__(
        self,
        policy: UrlFetchPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy or UrlFetchPolicy()
        self._resolver = resolver or system_resolver
        self._ssl_context = ssl_context

    def __call__(self, url: str, *, timeout_s: float | None = None) -> bytes:
        """The body at ``url``. ``timeout_s`` shortens the policy's deadline for this one fetch
        (never lengthens it): a job with little time left must not wait the full fetch timeout."""
        seconds = self.policy.timeout_s if timeout_s is None else min(timeout_s, self.policy.timeout_s)
        if seconds <= 0:
            raise self._too_slow(url, seconds)
        deadline = FetchDeadline(seconds)
        try:
            current = url
            for _hop in range(self.policy.max_redirects + 1):
                status, location, body = self._fetch_once(current, deadline, original=url)
                if status in _REDIRECT_STATUSES:
                    if not location:
                        raise SourceError(
                            f"{_short(current)} answered HTTP {status} without a Location header"
                        )
                    current = urljoin(current, location)
                    continue
                return body
        finally:
            deadline.close()
        raise URLRefusedError(
            f"{_short(url)} redirected more than {self.policy.max_redirects} times; refusing to follow"
        )

    # -- one hop -------------------------------------------------------------------------------

    def check_url(self, url: str) -> tuple[str, str, int, str]:
        """Validate ``url`` and resolve it: (scheme, host, port, pinned ip). Sends nothing."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise URLRefusedError(f"{_short(url)} is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise URLRefusedError(
                f"{_short(url)}: only http and https URLs are fetched, not {scheme or 'none'!r}"
            )
        host = parts.hostname
        if not host:
            raise URLRefusedError(f"{_short(url)} has no host")
        port = port or (443 if scheme == "https" else 80)
        try:
            literal = ipaddress.ip_address(host)
            addresses = [str(literal)]
        except ValueError:
            try:
                addresses = list(self._resolver(host, port))
            except (OSError, UnicodeError) as exc:
                raise SourceError(f"cannot resolve the host of {_short(url)}: {exc}") from None
        if not addresses:
            raise SourceError(f"the host of {_short(url)} resolves to no address")
        for address in addresses:
            try:
                reason = address_refusal(address, allow_loopback=self.policy.allow_loopback)
            except ValueError:
                reason = "an unparseable address"
            if reason is not None:
                raise URLRefusedError(
                    f"{_short(url)} is refused: {host} resolves to {address}, {reason}; "
                    "only public addresses are fetched"
                )
        return scheme, host, port, addresses[0]

    def _connection(
        self, scheme: str, host: str, port: int, ip: str, timeout: float, deadline: FetchDeadline
    ) -> http.client.HTTPConnection:
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
            return _PinnedHTTPSConnection(host, port, ip, timeout, context, deadline)
        return _PinnedHTTPConnection(host, port, ip, timeout, deadline)

    def _too_slow(self, original: str, seconds: float) -> SourceError:
        return SourceError(f"fetching {_short(original)} took longer than {max(seconds, 0.0):.3g} s")

    def _fetch_once(
        self, url: str, deadline: FetchDeadline, *, original: str
    ) -> tuple[int, str | None, bytes]:
        scheme, host, port, ip = self.check_url(url)
        parts = urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        remaining = deadline.remaining()
        if remaining <= 0 or deadline.expired:
            raise self._too_slow(original, deadline.seconds)
        conn = self._connection(scheme, host, port, ip, remaining, deadline)
        try:
            conn.request(
                "GET",
                target,
                headers={
                    "User-Agent": self.policy.user_agent,
                    "Accept-Encoding": "identity",
                    "Accept": "*/*",
                },
            )
            response = conn.getresponse()
            if response.status in _REDIRECT_STATUSES:
                return response.status, response.getheader("Location"), b""
            if response.status != 200:
                raise SourceError(
                    f"fetching {_short(url)} failed: HTTP {response.status} {response.reason}".rstrip()
                )
            body = self._read_capped(response, url, deadline, conn)
            if deadline.expired:  # the watchdog cut the connection: whatever came is not the file
                raise self._too_slow(original, deadline.seconds)
            return response.status, None, body
        except TimeoutError:
            raise self._too_slow(original, deadline.seconds) from None
        except ssl.SSLError as exc:
            if deadline.expired:
                raise self._too_slow(original, deadline.seconds) from None
            raise SourceError(f"TLS failed for {_short(url)}: {exc.reason or exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired:
                raise self._too_slow(original, deadline.seconds) from None
            raise SourceError(f"fetching {_short(url)} failed: {exc.__class__.__name__}: {exc}") from None
        finally:
            conn.close()

    def _read_capped(
        self,
        response: http.client.HTTPResponse,
        url: str,
        deadline: FetchDeadline,
        conn: http.client.HTTPConnection,
    ) -> bytes:
        cap = self.policy.max_bytes
        declared = response.getheader("Content-Length")
        if declared_over(declared, cap):
            raise MediaLimitError(
                f"{_short(url)} declares a Content-Length over the {cap}-byte limit for fetched media"
            )
        chunks: list[bytes] = []
        total = 0
        while True:
            remaining = deadline.remaining()
            if remaining <= 0 or deadline.expired:
                raise TimeoutError
            if conn.sock is not None:
                conn.sock.settimeout(remaining)
            # read1: what one receive brings, not a wait until 64 KiB have trickled in
            chunk = response.read1(min(_CHUNK_BYTES, cap + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise MediaLimitError(f"{_short(url)} is over the {cap}-byte limit for fetched media")
            chunks.append(chunk)
        return b"".join(chunks)
