"""Server configuration: one frozen, validated record, from ``FRAMESWAP_*`` variables or arguments.

Why pydantic-settings: it is the library made for this (environment variables with a prefix,
types, bounds and defaults declared once on the fields, the way FastAPI projects do it), so the
variable names, their parsing and their checks cannot drift apart. ``ServerSettings()`` reads the
process environment; keyword arguments win over it (the CLI passes its flags that way through
:meth:`ServerSettings.with_changes`). Only the server and the CLI build this record; everything
below them gets it passed in.

Every field ``name`` is read from ``FRAMESWAP_<NAME>``: FRAMESWAP_API_KEYS is comma-separated,
FRAMESWAP_API_KEYS_FILE names a file of keys (one a line), booleans take 1/true/yes/on.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from frameswap.errors import OptionsError
from frameswap.options import DisclosureOptions, MediaLimits, canonical_restorer
from frameswap.server.fetch import UrlFetchPolicy
from frameswap.server.store import StoreLimits

MiB = 1024 * 1024
GiB = 1024 * MiB


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


def _options_error(exc: ValidationError) -> OptionsError:
    parts = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        parts.append(f"{name}: {err.get('msg', 'invalid')}")
    return OptionsError("invalid server settings: " + "; ".join(parts))


class ServerSettings(BaseSettings):
    """Everything the server needs to know; defaults are safe (loopback, bounded, no URL to loopback)."""

    model_config = SettingsConfigDict(env_prefix="FRAMESWAP_", frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    api_keys: Annotated[tuple[str, ...], NoDecode] = ()
    api_keys_file: Path | None = None  # its keys are added to api_keys
    models_dir: Path | None = None
    engine: str = "auto"
    workers: int = Field(1, ge=1)  # swap worker threads (models are shared)
    queue_size: int = Field(8, ge=1)  # requests allowed to wait for a worker; one more answers 429
    max_body_bytes: int = Field(64 * MiB, ge=1)  # the JSON request body (base64 inflates media by 4/3)
    max_media_bytes: int = Field(48 * MiB, ge=1)  # one decoded input (after base64 or download)
    max_pixels_per_frame: int = Field(4096 * 4096, ge=1)
    max_frames: int = Field(3000, ge=1)
    # canvas pixels x frames of one input, from its header: the decoding work, which a tiny file with
    # a huge canvas and thousands of 1x1 frames would otherwise make enormous (1080p x 2000 frames)
    max_pixel_frames: int = Field(1920 * 1080 * 2000, ge=1)
    job_timeout_s: float = Field(300.0, gt=0)  # processing time of one swap; past it: 504
    result_ttl_s: float = Field(3600.0, gt=0)  # how long an async (v2) result can be fetched
    # the durable job store (see server/store.py); None: under $FRAMESWAP_HOME/server (~/.frameswap)
    jobs_db: Path | None = None
    results_dir: Path | None = None
    max_stored_jobs: int = Field(256, ge=1)  # async jobs kept at once, every key together
    max_jobs_per_key: int = Field(32, ge=1)  # async jobs one key may hold (queued, running or finished)
    max_result_bytes: int = Field(4 * GiB, ge=1)  # result files kept at once, every key together
    max_result_bytes_per_key: int = Field(1 * GiB, ge=1)
    allow_loopback_urls: bool = False
    fetch_timeout_s: float = Field(20.0, gt=0)  # one deadline for a whole URL fetch (every hop)
    max_redirects: int = Field(3, ge=0)
    default_face_restore: str = "codeformer-v0.1.0.pth"  # as hosted; used when a request omits it
    log_level: str = "info"
    # AI disclosure on every output (see DisclosureOptions): the XMP statement (off only for research
    # deployments), a visible label, and a C2PA manifest signed with this certificate and key
    disclosure: bool = True
    label: str | None = None
    c2pa_cert: Path | None = None
    c2pa_key: Path | None = None

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _options_error(exc) from None

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("api_keys")
    @classmethod
    def _no_empty_key(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not key for key in value):
            raise ValueError("an API key must not be empty")
        return value

    @field_validator("default_face_restore")
    @classmethod
    def _known_restorer(cls, value: str) -> str:
        try:
            canonical_restorer(value)
        except OptionsError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _disclosure_checked(self) -> ServerSettings:
        self.disclosure_options()  # a lone certificate or key, or a bad label, fails here
        return self

    @model_validator(mode="after")
    def _keys_from_file(self) -> ServerSettings:
        if self.api_keys_file is not None:
            merged = tuple(dict.fromkeys(self.api_keys + read_keys_file(self.api_keys_file)))
            object.__setattr__(self, "api_keys", merged)  # frozen: set once, while validating
        return self

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
            max_pixel_frames=self.max_pixel_frames,
        )

    def store_limits(self) -> StoreLimits:
        return StoreLimits(
            result_ttl_s=self.result_ttl_s,
            max_jobs=self.max_stored_jobs,
            max_jobs_per_key=self.max_jobs_per_key,
            max_result_bytes=self.max_result_bytes,
            max_result_bytes_per_key=self.max_result_bytes_per_key,
        )

    def disclosure_options(self) -> DisclosureOptions:
        return DisclosureOptions(
            machine_readable=self.disclosure,
            label=self.label,
            c2pa_cert=self.c2pa_cert,
            c2pa_key=self.c2pa_key,
        )

    def fetch_policy(self) -> UrlFetchPolicy:
        return UrlFetchPolicy(
            allow_loopback=self.allow_loopback_urls,
            max_bytes=self.max_media_bytes,
            timeout_s=self.fetch_timeout_s,
            max_redirects=self.max_redirects,
        )

    def with_changes(self, **changes: object) -> ServerSettings:
        """A validated copy with some fields changed (``None`` values are ignored, as for unset
        CLI flags); the environment is not read again."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            raise _options_error(exc) from None
