"""``POST /v1/faces``: the faces of a picture, animation or video, with the indexes a swap uses.

It answers the ``frameswap faces --json`` shape because it runs the same call,
:meth:`frameswap.api.FaceSwapper.faces`, with the options a swap request would get (the server's
engine unless the request names one), so the page at ``/`` can let people click the faces
that ``input_faces_index`` and ``source_faces_index`` name. The analysis takes seconds on a clip,
so it runs on the swap workers (same queue, same admission control, same job timeout) and never
on the event loop.

With ``images`` the answer also carries what a browser needs to draw the boxes: the reference frame
as a JPEG data URI (scaled down; the boxes stay in the media's pixels, ``width``/``height`` give the
scale), and a crop of every person who first appears after it.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from frameswap.faces.preview import crop_face
from frameswap.options import EngineName, SwapOptions, TrackerOptions, choices
from frameswap.server.context import ServerContext, parse_body
from frameswap.server.errors import ERROR_RESPONSES, error_response
from frameswap.server.inputs import decode_image_field
from frameswap.server.jobs import Job, JobOutcome
from frameswap.server.openapi_docs import body_doc
from frameswap.server.routes import Ctx, Owner, read_body
from frameswap.server.waiting import job_outcome

if TYPE_CHECKING:
    from frameswap.pipeline.listing import FaceListing

router = APIRouter()

PREVIEW_LONG_SIDE = 1280  # the reference frame is sent at most this large (boxes scale with it)
CROP_SIDE = 160


class FacesRequest(BaseModel):
    """Body of ``POST /v1/faces``."""

    model_config = ConfigDict(extra="ignore")

    image: str = Field(
        ..., min_length=1, description="The media: an http(s) URL, a base64 string, or a data URI."
    )
    role: Literal["target", "source"] = Field(
        "target",
        description="target: every frame is tracked and indexed as input_faces_index counts; "
        "source: the first frame only, as source_faces_index counts.",
    )
    engine: str | None = Field(
        None,
        description="The engine the swap will use ("
        + ", ".join(choices(EngineName))
        + "); it decides the analyzer and so the indexes. Omitted: the server's engine.",
    )
    reference_frame: int | None = Field(None, ge=0, description="Frame whose faces define the indexes.")
    images: bool = Field(False, description="Also send the reference frame and crops of later faces.")


class FaceItem(BaseModel):
    index: int
    box: list[float] = Field(..., description="x1, y1, x2, y2 in the media's pixels")
    score: float
    first_frame: int | None = None
    frames_seen: int | None = None


class FacesImages(BaseModel):
    reference: str = Field(..., description="The reference frame, a JPEG data URI.")
    crops: dict[str, str] = Field(
        default_factory=dict, description="Index → JPEG data URI, for people absent from the reference."
    )


class FacesResponse(BaseModel):
    """The ``frameswap faces --json`` shape (``path`` is null: the media came in the request)."""

    path: str | None = None
    kind: str
    analyzer: str
    engine: str
    frame_count: int
    reference_frame: int
    width: int
    height: int
    faces: list[FaceItem]
    images: FacesImages | None = None


def _jpeg_data_uri(rgb: np.ndarray, long_side: int) -> str:
    h, w = rgb.shape[:2]
    scale = min(1.0, long_side / max(h, w))
    if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb[..., :3])).save(buf, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _images(
    media: bytes, listing: FaceListing, options: SwapOptions, cancel: threading.Event
) -> dict[str, Any]:
    # imported here, as the swapper is: the server module loads no pipeline (dlib, ONNX) until used
    from frameswap.pipeline.listing import listing_frames

    frames = listing_frames(media, listing, options, cancel=cancel)
    crops = {
        str(f.index): _jpeg_data_uri(crop_face(frames[f.first_frame], f.box), CROP_SIDE)
        for f in listing.faces
        if not f.at_reference
    }
    return {"reference": _jpeg_data_uri(frames[listing.reference_frame], PREVIEW_LONG_SIDE), "crops": crops}


def _options(ctx: ServerContext, body: FacesRequest) -> SwapOptions:
    """The options a swap request on this server gets, as far as the indexes depend on them."""
    return SwapOptions(
        engine=body.engine or ctx.settings.engine,  # type: ignore[arg-type]
        reference_frame=body.reference_frame,
        tracker=TrackerOptions(),
        limits=ctx.settings.media_limits(),
    )


def _work(ctx: ServerContext, body: FacesRequest, options: SwapOptions) -> Callable[[Job], JobOutcome]:
    def work(job: Job) -> JobOutcome:
        media = decode_image_field(
            body.image, "image", fetcher=ctx.fetcher, max_bytes=ctx.settings.max_media_bytes
        )
        listing = ctx.swapper.faces(media, options, role=body.role, fetcher=ctx.fetcher, cancel=job.cancel)
        report = listing.to_json(None)
        if body.images:
            report["images"] = _images(media, listing, options, job.cancel)
        return JobOutcome(
            data=json.dumps(report).encode("utf-8"),
            content_type="application/json",
            format="json",
            frame_count=listing.analysed_frames,
        )

    return work


@router.post(
    "/v1/faces",
    response_model=FacesResponse,
    responses=ERROR_RESPONSES,
    tags=["faceswap"],
    summary="List faces",
    openapi_extra=body_doc(FacesRequest),
)
async def faces(request: Request, ctx: Ctx, owner: Owner) -> Any:
    """The faces of `image` with the indexes a swap with the same engine uses (largest first; on an
    animation, tracked people in order of the reference frame, then of appearance)."""
    # an invalid body raises RequestValidationError, which the app's handler answers with 400
    body = await run_in_threadpool(parse_body, FacesRequest, await read_body(request))
    try:
        options = _options(ctx, body)
        job = ctx.jobs.submit(_work(ctx, body, options), owner=owner)
        outcome = await job_outcome(request, ctx.jobs, job)
    except Exception as exc:
        return error_response(exc)
    return Response(content=outcome.data, media_type="application/json")
