"""The web page at ``/``: pick a source and a target, click the faces, swap, watch, download.

The page is three plain files (``static/index.html``, ``app.js``, ``style.css``) shipped as package
data. Why no framework and no build step: the page is one form, a few fetch calls and some
absolutely placed buttons, which the browser does natively; a bundler would add a Node toolchain
to the release and a generated artefact to review, for nothing the page needs. Why no CDN: the
server is self-hosted and often offline, so everything it sends comes from itself; the
Content-Security-Policy below makes the browser enforce that (no script, style, image or request
may go to another host).

The page uses the public API only (``/v1/info``, ``/v1/faces``, ``/v2/...`` jobs), with the same
key as any client: the page itself and its assets hold nothing secret, so they are served without
a key, and the page asks for one when the API answers 401.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from frameswap.server.faces_api import router as faces_router

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Everything from this origin; images and media may also be data: (face previews) or blob: (results).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


async def page() -> FileResponse:
    """The single page (also at ``/index.html``)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


def install_web(app: FastAPI) -> None:
    """Add the page, its assets under ``/ui`` and ``POST /v1/faces`` to ``app``."""
    app.include_router(faces_router)
    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.add_api_route("/index.html", page, methods=["GET"], include_in_schema=False)
    app.mount("/ui", StaticFiles(directory=STATIC_DIR), name="ui")
