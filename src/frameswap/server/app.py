"""``create_app(settings)``: the FastAPI application factory, and the two ASGI guards in front of it
(API key from the headers first, then the body-size cap).

Everything the app uses is built here from ``settings`` and kept on ``app.state``; nothing is
global, so tests build as many apps as they like, each with its own (possibly fake) swapper.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frameswap._version import __version__
from frameswap.atomic import sweep_stale_temp_dirs
from frameswap.server.auth import API_KEY_HEADER, key_matches
from frameswap.server.context import ServerContext, Swapper
from frameswap.server.errors import AuthError, BodyTooLargeError, error_response, install_error_handlers
from frameswap.server.faces_api import FacesRequest
from frameswap.server.fetch import UrlFetcher
from frameswap.server.headers import declared_over
from frameswap.server.jobs import JobManager
from frameswap.server.openapi_docs import add_body_schemas
from frameswap.server.routes import router
from frameswap.server.schemas import FaceSwapRequest
from frameswap.server.settings import ServerSettings
from frameswap.server.store import JobStore, default_server_home
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
            if name == b"content-length" and declared_over(value, self.max_bytes):
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


class ApiKeyMiddleware:
    """Refuse API requests (``/v1/...``, ``/v2/...``) without a valid key with 401 *before* a byte
    of their body is read.

    Why a middleware and not only the route dependency: FastAPI reads and parses a body before it
    runs dependencies, so eight key-less 63 MiB bodies cost a gigabyte before being refused. This
    checks the header alone. (The route dependency still names the caller for job ownership.)
    """

    def __init__(self, app: ASGIApp, keys: tuple[str, ...]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or not scope["path"].startswith(("/v1/", "/v2/")):
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers", ()) if k == API_KEY_HEADER.encode()), None)
        if not given:
            problem = AuthError(f"missing the {API_KEY_HEADER} header")
        elif not key_matches(given.decode("latin-1"), self.keys):
            problem = AuthError(f"the {API_KEY_HEADER} header holds no valid key")
        else:
            await self.app(scope, receive, send)
            return
        response = error_response(problem)
        response.headers["Connection"] = "close"  # the unread body makes the connection unusable
        await response(scope, receive, send)


SWEEP_EVERY_S = 60.0


def build_store(settings: ServerSettings) -> JobStore:
    """The durable job store at the configured paths (defaults under ``$FRAMESWAP_HOME/server``)."""
    home = default_server_home(os.environ)
    return JobStore(
        settings.jobs_db or home / "jobs.sqlite3",
        settings.results_dir or home / "results",
        settings.store_limits(),
    )


def _default_swapper(settings: ServerSettings) -> Swapper:
    from frameswap.api import FaceSwapper  # imported here: the server module stays importable without it

    return FaceSwapper(models_dir=settings.models_dir, engine=settings.engine)


def create_app(settings: ServerSettings | None = None, swapper: Swapper | None = None) -> FastAPI:
    """Build the app. ``swapper`` defaults to a lazily loading ``FaceSwapper`` (models load once,
    on first use)."""
    settings = settings or ServerSettings()
    if settings.c2pa_cert is not None and settings.c2pa_key is not None:
        from frameswap.provenance import C2paCredentials

        C2paCredentials.load(settings.c2pa_cert, settings.c2pa_key)  # a bad certificate fails at start
    if settings.exposed_without_key:
        log.warning(
            "frameswap server bound to %s with no API key: anyone who can reach it can use it; "
            "pass --api-key or --api-keys-file",
            settings.host,
        )
    jobs = JobManager(
        workers=settings.workers, queue_size=settings.queue_size, timeout_s=settings.job_timeout_s
    )
    store = build_store(settings)
    ctx = ServerContext(
        settings=settings,
        swapper=swapper if swapper is not None else _default_swapper(settings),
        jobs=jobs,
        fetcher=UrlFetcher(settings.fetch_policy()),
        store=store,
    )

    async def sweep_forever() -> None:
        while True:
            try:
                await run_in_threadpool(store.sweep)
                await run_in_threadpool(sweep_stale_temp_dirs)  # encoders' directories of killed servers
            except Exception:  # a full or read-only disk must not end the sweeping for good
                log.exception("sweeping expired jobs failed")
            await asyncio.sleep(SWEEP_EVERY_S)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(store.open)  # recovers a dead process's jobs, sweeps what it left
        sweeper = asyncio.create_task(sweep_forever())
        yield
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        log.info("frameswap server stopping: letting running swaps finish")
        await run_in_threadpool(jobs.shutdown, wait=True)
        store.close()

    # /docs with its assets served from the installed package. No /redoc: ReDoc's bundle fetches
    # its logo from cdn.redoc.ly whatever page serves it (Redocly/redoc#2108), and no page this
    # server sends may reach another host.
    app = FastAPIOffline(
        title="frameswap",
        version=__version__,
        description="Self-hosted drop-in for the hosted Faceswap V2 API: pictures, animated GIFs and videos.",
        lifespan=lifespan,
        static_url="/docs-assets",
        redoc_url=None,
        swagger_ui_parameters={"validatorUrl": None},  # else Swagger UI calls validator.swagger.io
    )
    app.state.settings = settings
    app.state.frameswap = ctx
    install_error_handlers(app)
    app.include_router(router)
    install_web(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ApiKeyMiddleware, keys=settings.api_keys)  # outermost: before any body is read
    _document_request_body(app)
    return app


# Every model a route names with ``openapi_docs.body_doc``: the routes parse their bodies themselves,
# off the event loop, so FastAPI would not list these models (tests walk every $ref of the document).
BODY_MODELS: tuple[type[BaseModel], ...] = (FaceSwapRequest, FacesRequest)


def _document_request_body(app: FastAPI) -> None:
    """Put the request body models in the OpenAPI components, where the routes' ``$ref`` point."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            add_body_schemas(schema, BODY_MODELS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
