"""The one place where errors become HTTP answers.

Each answer is JSON ``{"error": <what went wrong>, "code": <stable name>, "hint": <what to fix>}``.
Codes follow the hosted API: 400 for anything wrong with the request or its media, 401 for the
key, 413 for sizes, 429 for a full queue, 504 for a timeout. A 500 says only that the server
failed (with a reference to its log line); filesystem paths are scrubbed from every message.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frameswap import errors as e
from frameswap.server.schemas import ErrorBody

log = logging.getLogger("frameswap.server")


class ServerError(Exception):
    """Errors that only the server raises (queue, timeout, auth, limits on the HTTP body)."""


class QueueFullError(ServerError):
    """Every worker is busy and the waiting queue is full."""


class JobTimeoutError(ServerError):
    """The swap ran past the configured job timeout."""


class ShuttingDownError(ServerError):
    """The server is stopping and takes no new work."""


class AuthError(ServerError):
    """The x-api-key header is missing or matches no configured key."""


class BodyTooLargeError(ServerError, StarletteHTTPException):
    """The HTTP request body is over the configured limit.

    Also an ``HTTPException`` because FastAPI turns any other error raised while it reads the body
    into a generic 400; the ``ServerError`` handler (first in the MRO) still renders it.
    """

    def __init__(self, message: str) -> None:
        StarletteHTTPException.__init__(self, status_code=413, detail=message)

    def __str__(self) -> str:
        return str(self.detail)


class JobNotFoundError(ServerError):
    """No such job, or its result has expired."""


class QuotaError(ServerError):
    """The caller's key (or the whole server) holds as many async jobs or result bytes as allowed."""


class ResultStorageFullError(ServerError):
    """A finished result does not fit in the result storage's byte caps."""


@dataclass(frozen=True)
class ErrorMapping:
    status: int
    code: str
    hint: str
    show_message: bool = True  # False: the message may hold internals; say something generic


# Most specific first: the first matching class wins.
ERROR_MAP: tuple[tuple[type[BaseException], ErrorMapping], ...] = (
    (AuthError, ErrorMapping(401, "unauthorized", "Send a valid key in the x-api-key header.")),
    (
        BodyTooLargeError,
        ErrorMapping(413, "body_too_large", "Send smaller media, or a URL instead of base64."),
    ),
    (QueueFullError, ErrorMapping(429, "queue_full", "The server is busy; retry after a short wait.")),
    (
        QuotaError,
        ErrorMapping(
            429, "quota_exceeded", "DELETE finished jobs you no longer need, or wait for them to expire."
        ),
    ),
    (
        ResultStorageFullError,
        ErrorMapping(507, "storage_full", "DELETE finished jobs you no longer need, or send smaller media."),
    ),
    (
        JobTimeoutError,
        ErrorMapping(504, "timeout", "Send a shorter or smaller target, or raise the job timeout."),
    ),
    (ShuttingDownError, ErrorMapping(503, "shutting_down", "The server is restarting; retry shortly.")),
    (JobNotFoundError, ErrorMapping(404, "job_not_found", "Results expire; submit the job again.")),
    (
        e.MediaLimitError,
        ErrorMapping(413, "media_too_large", "Send smaller media (fewer pixels, frames or bytes)."),
    ),
    (
        e.URLRefusedError,
        ErrorMapping(400, "url_refused", "Use a public http(s) URL, or send the file as base64."),
    ),
    (
        e.SourceError,
        ErrorMapping(400, "bad_source", "Send a reachable http(s) URL, valid base64, or a data URI."),
    ),
    (
        e.UnsupportedMediaError,
        ErrorMapping(400, "unsupported_media", "Send a PNG, JPEG, WebP, GIF, APNG or video."),
    ),
    (
        e.CorruptMediaError,
        ErrorMapping(400, "corrupt_media", "The file is damaged or truncated; send it again."),
    ),
    (
        e.EmptyMediaError,
        ErrorMapping(400, "empty_media", "The file holds no frame; send a real image or video."),
    ),
    (e.MediaNotFoundError, ErrorMapping(400, "bad_source", "Send a URL, base64 or a data URI.")),
    (e.MediaError, ErrorMapping(400, "bad_media", "Send a supported, readable image or video.")),
    (e.NoFaceError, ErrorMapping(400, "no_face", "Send images where a face is clearly visible.")),
    (
        e.FaceIndexError,
        ErrorMapping(
            400,
            "bad_face_index",
            "Use indexes below the face count (0 is the largest face); "
            "lists of equal length, or a single source index.",
        ),
    ),
    (e.OptionsError, ErrorMapping(400, "bad_option", "Fix the named field.")),
    (
        e.ModelNotFoundError,
        ErrorMapping(
            503,
            "model_missing",
            'A model is not installed on this server: send "face_restore": "none" if it is the restorer, '
            "or ask the operator to run `frameswap models download`.",
        ),
    ),
    (
        e.ModelError,
        ErrorMapping(503, "model_unavailable", "The server's models cannot run; tell the operator."),
    ),
    (e.CancelledError, ErrorMapping(503, "cancelled", "The work was cancelled; retry.")),
)

# A path starts a word (after a space, quote, bracket or '=') with '/', '~/', '\\' or 'C:\'; URLs
# ("https://host/...") do not match because their '/' follows ':'.
# The error answers every API route may give, for the OpenAPI docs (``responses=`` of each route).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad base64, unreadable media, no face, bad index, unknown face_restore, refused URL.",
        401: "Missing or invalid x-api-key.",
        413: "Body or media over this server's limits.",
        404: "No such job (never existed, deleted, expired, or another key's).",
        429: "The job queue is full, or the key's (or server's) async job quota is used up.",
        500: "Internal error (no details leak).",
        503: "A model is not installed, or the server is shutting down.",
        504: "The swap ran past the job timeout.",
        507: "The result does not fit in the server's result storage, or its disk is full.",
    }.items()
}

_PATH = re.compile(
    r"""(?:(?<=^)|(?<=[\s'"(\[=]))"""  # at the start of a word
    r"""(?:[A-Za-z]:[\\/]|\\\\|~/|/)"""  # a root: C:\ or C:/, \\server, ~/ or /
    r"""[^\s'"]*?(?=[.,;:)\]]*(?:[\s'"]|$))"""  # up to a space or quote, trailing punctuation kept
)


def scrub_paths(message: str) -> str:
    """Replace anything that looks like a filesystem path with ``<path>``; URLs are left alone."""
    return _PATH.sub("<path>", message)


# a disk that fills up under the server (a result, a temporary file) is an operator's matter:
# no path or errno text goes to the client
DISK_FULL = ErrorMapping(
    507, "storage_full", "The server's disk is full; tell the operator.", show_message=False
)


def mapping_for(exc: BaseException) -> ErrorMapping | None:
    if e.disk_full_error(exc) is not None:
        return DISK_FULL
    for cls, mapping in ERROR_MAP:
        if isinstance(exc, cls):
            return mapping
    return None


def error_payload(exc: BaseException) -> tuple[int, dict[str, str]]:
    """(status, JSON body) for any exception; unknown ones become an opaque 500 and are logged."""
    mapping = mapping_for(exc)
    if mapping is None:
        ref = uuid.uuid4().hex[:12]
        log.error("internal error (ref %s)", ref, exc_info=(type(exc), exc, exc.__traceback__))
        return 500, {
            "error": f"internal server error (ref {ref})",
            "code": "internal_error",
            "hint": "Retry; if it persists, report the ref to the operator.",
        }
    message = scrub_paths(str(exc)) if mapping.show_message else mapping.code.replace("_", " ")
    return mapping.status, {
        "error": message or mapping.code.replace("_", " "),
        "code": mapping.code,
        "hint": mapping.hint,
    }


def error_response(exc: BaseException) -> JSONResponse:
    status, body = error_payload(exc)
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    if status == 401:
        headers = {"WWW-Authenticate": "ApiKey"}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request body"


_SWAP_BODY_HINT = (
    "Send a JSON body with source_img and target_img (strings) and the optional "
    "input_faces_index, source_faces_index, face_restore and base64 fields."
)
_BODY_HINTS = {  # routes whose body is not a swap request
    "/v1/faces": "Send a JSON body with image (an http(s) URL, base64 or a data URI) and the optional "
    "role, engine, reference_frame and images fields.",
}


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers so every error, expected or not, answers as described above."""

    async def on_known(_: Request, exc: Exception) -> JSONResponse:
        return error_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, RequestValidationError):
            return error_response(exc)
        return JSONResponse(
            {
                "error": scrub_paths(_validation_message(exc)),
                "code": "bad_request",
                "hint": _BODY_HINTS.get(request.url.path, _SWAP_BODY_HINT),
            },
            status_code=400,
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        if not isinstance(exc, StarletteHTTPException):
            return error_response(exc)
        return JSONResponse(
            {
                "error": str(exc.detail),
                "code": f"http_{exc.status_code}",
                "hint": "Check the URL and method.",
            },
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    app.add_exception_handler(e.FrameswapError, on_known)
    app.add_exception_handler(ServerError, on_known)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_known)
