"""``create_app(settings)``: the FastAPI application factory.

Everything the app uses is built here from ``settings`` and kept on ``app.state``; nothing is
global, so tests build as many apps as they like, each with its own (possibly fake) swapper.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frameswap import __version__
from frameswap.media.fetch import UrlFetcher
from frameswap.server.context import ServerContext, Swapper
from frameswap.server.errors import BodyTooLargeError, error_response, install_error_handlers
from frameswap.server.jobs import JobManager
from frameswap.server.routes import router
from frameswap.server.settings import ServerSettings
from frameswap.server.web import install_web

log = logging.getLogger("frameswap.server")


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413, by header or while streaming.

    A declared ``Content-Length`` over the limit is refused before a byte is read; a chunked body
    is counted as it arrives and refused as soon as it passes the limit, so memory stays bounded.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = BodyTooLargeError(f"the request body is over this server's {self.max_bytes}-byte limit")
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.strip().isdigit() and int(value) > self.max_bytes:
                await error_response(too_large)(scope, receive, send)
                return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise too_large
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if started:
                raise
            await error_response(too_large)(scope, receive, send)


def _default_swapper(settings: ServerSettings) -> Swapper:
    from frameswap.api import FaceSwapper  # imported here: the server module stays importable without it

    return FaceSwapper(models_dir=settings.models_dir, engine=settings.engine)


def create_app(
    settings: ServerSettings | None = None,
    swapper: Swapper | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> FastAPI:
    """Build the app. ``swapper`` defaults to a lazily loading ``FaceSwapper`` (models load once,
    on first use); ``clock`` (monotonic seconds) is for tests of result expiry."""
    settings = settings or ServerSettings()
    if settings.exposed_without_key:
        log.warning(
            "frameswap server bound to %s with no API key: anyone who can reach it can use it; "
            "pass --api-key or --api-keys-file",
            settings.host,
        )
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    jobs = JobManager(
        workers=settings.workers,
        queue_size=settings.queue_size,
        timeout_s=settings.job_timeout_s,
        result_ttl_s=settings.result_ttl_s,
        max_stored_jobs=settings.max_stored_jobs,
        **extra,
    )
    ctx = ServerContext(
        settings=settings,
        swapper=swapper if swapper is not None else _default_swapper(settings),
        jobs=jobs,
        fetcher=UrlFetcher(settings.fetch_policy()),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        log.info("frameswap server stopping: letting running swaps finish")
        jobs.shutdown(wait=True)

    app = FastAPIOffline(  # /docs and /redoc with their assets served from the installed package
        title="frameswap",
        version=__version__,
        description="Self-hosted drop-in for the hosted Faceswap V2 API: pictures, animated GIFs and videos.",
        lifespan=lifespan,
        static_url="/docs-assets",
        swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI calls validator.swagger.io
    )
    app.state.settings = settings
    app.state.frameswap = ctx
    install_error_handlers(app)
    app.include_router(router)
    install_web(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app
