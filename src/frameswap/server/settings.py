"""Server configuration: one frozen record, built from the environment or the command line.

Only the server (and the CLI) read environment variables; everything below them gets this
record passed in. Variables are prefixed ``FRAMESWAP_``; see :meth:`ServerSettings.from_env`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from frameswap.errors import OptionsError
from frameswap.media.fetch import UrlFetchPolicy
from frameswap.options import EngineName, MediaLimits, canonical_restorer

MiB = 1024 * 1024


def read_keys_file(path: str | Path) -> tuple[str, ...]:
    """API keys from a file: one per line; blank lines and ``#`` comments ignored."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OptionsError(f"cannot read the API keys file {path}: {exc.strerror or exc}") from None
    keys = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")
    )
    if not keys:
        raise OptionsError(f"the API keys file {path} holds no key")
    return keys


def is_loopback_host(host: str) -> bool:
    """True when binding ``host`` exposes the server to this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerSettings:
    """Everything the server needs to know; defaults are safe (loopback, bounded, no URL to loopback)."""

    host: str = "127.0.0.1"
    port: int = 8000
    api_keys: tuple[str, ...] = ()
    models_dir: Path | None = None
    engine: EngineName = "auto"
    workers: int = 1  # swap worker threads (models are shared; more threads help on a GPU / many cores)
    queue_size: int = 8  # requests allowed to wait for a worker; one more answers 429 at once
    max_body_bytes: int = 64 * MiB  # the JSON request body (base64 inflates media by 4/3)
    max_media_bytes: int = 48 * MiB  # one decoded input (after base64 or download)
    max_pixels_per_frame: int = 4096 * 4096
    max_frames: int = 3000
    job_timeout_s: float = 300.0  # processing time of one swap; past it: 504
    result_ttl_s: float = 3600.0  # how long an async (v2) result can be fetched
    max_stored_jobs: int = 256  # async jobs kept at once (queued, running or finished)
    allow_loopback_urls: bool = False
    fetch_timeout_s: float = 20.0
    max_redirects: int = 3
    default_face_restore: str = "codeformer-v0.1.0.pth"  # as hosted; used when a request omits it
    log_level: str = "info"

    def __post_init__(self) -> None:
        for name in (
            "workers",
            "queue_size",
            "max_body_bytes",
            "max_media_bytes",
            "max_pixels_per_frame",
            "max_frames",
            "max_stored_jobs",
        ):
            if getattr(self, name) < 1:
                raise OptionsError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("job_timeout_s", "result_ttl_s", "fetch_timeout_s"):
            if getattr(self, name) <= 0:
                raise OptionsError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.port <= 65535:
            raise OptionsError(f"port must be in 0..65535, got {self.port}")
        if any(not key for key in self.api_keys):
            raise OptionsError("an API key must not be empty")
        canonical_restorer(self.default_face_restore)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)

    @property
    def exposed_without_key(self) -> bool:
        """Bound beyond loopback with no key: anyone on the network can use the server."""
        return not self.auth_enabled and not is_loopback_host(self.host)

    def media_limits(self) -> MediaLimits:
        return MediaLimits(
            max_pixels_per_frame=self.max_pixels_per_frame,
            max_frames=self.max_frames,
            max_input_bytes=self.max_media_bytes,
        )

    def fetch_policy(self) -> UrlFetchPolicy:
        return UrlFetchPolicy(
            allow_loopback=self.allow_loopback_urls,
            max_bytes=self.max_media_bytes,
            timeout_s=self.fetch_timeout_s,
            max_redirects=self.max_redirects,
        )

    def with_changes(self, **changes: Any) -> ServerSettings:
        """A copy with some fields changed (``None`` values are ignored, as for unset CLI flags)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ServerSettings:
        """Settings from ``FRAMESWAP_*`` variables; unset ones keep their defaults.

        FRAMESWAP_HOST, _PORT, _API_KEYS (comma-separated), _API_KEYS_FILE, _MODELS_DIR, _ENGINE,
        _WORKERS, _QUEUE_SIZE, _MAX_BODY_BYTES, _MAX_MEDIA_BYTES, _MAX_PIXELS_PER_FRAME, _MAX_FRAMES,
        _JOB_TIMEOUT_S, _RESULT_TTL_S, _MAX_STORED_JOBS, _ALLOW_LOOPBACK_URLS (1/true/yes),
        _FETCH_TIMEOUT_S, _MAX_REDIRECTS, _DEFAULT_FACE_RESTORE, _LOG_LEVEL.
        """

        def get(name: str) -> str | None:
            value = environ.get(f"FRAMESWAP_{name}")
            return value.strip() if value is not None and value.strip() != "" else None

        def number(name: str, kind: type) -> object:
            raw = get(name)
            if raw is None:
                return None
            try:
                return kind(raw)
            except ValueError:
                raise OptionsError(f"FRAMESWAP_{name} must be a number, got {raw!r}") from None

        keys: tuple[str, ...] = ()
        if (raw_keys := get("API_KEYS")) is not None:
            keys = tuple(k.strip() for k in raw_keys.split(",") if k.strip())
        if (keys_file := get("API_KEYS_FILE")) is not None:
            keys += read_keys_file(keys_file)
        loopback = get("ALLOW_LOOPBACK_URLS")
        models_dir = get("MODELS_DIR")
        return cls().with_changes(
            host=get("HOST"),
            port=number("PORT", int),
            api_keys=keys or None,
            models_dir=Path(models_dir).expanduser() if models_dir else None,
            engine=get("ENGINE"),
            workers=number("WORKERS", int),
            queue_size=number("QUEUE_SIZE", int),
            max_body_bytes=number("MAX_BODY_BYTES", int),
            max_media_bytes=number("MAX_MEDIA_BYTES", int),
            max_pixels_per_frame=number("MAX_PIXELS_PER_FRAME", int),
            max_frames=number("MAX_FRAMES", int),
            job_timeout_s=number("JOB_TIMEOUT_S", float),
            result_ttl_s=number("RESULT_TTL_S", float),
            max_stored_jobs=number("MAX_STORED_JOBS", int),
            allow_loopback_urls=None if loopback is None else loopback.lower() in ("1", "true", "yes", "on"),
            fetch_timeout_s=number("FETCH_TIMEOUT_S", float),
            max_redirects=number("MAX_REDIRECTS", int),
            default_face_restore=get("DEFAULT_FACE_RESTORE"),
            log_level=get("LOG_LEVEL"),
        )
