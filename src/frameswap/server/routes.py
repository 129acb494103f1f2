"""The endpoints: hosted-compatible sync swap (v1), async jobs (v2), health and info."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from frameswap import __version__
from frameswap.server.auth import require_api_key
from frameswap.server.context import ServerContext
from frameswap.server.errors import error_payload, error_response
from frameswap.server.jobs import Job, JobOutcome
from frameswap.server.schemas import (
    ErrorBody,
    FaceSwapRequest,
    ImageResponse,
    JobAccepted,
    JobError,
    JobProgress,
    JobState,
)
from frameswap.server.waiting import job_outcome

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad base64, unreadable media, no face, bad index, unknown face_restore, refused URL.",
        401: "Missing or invalid x-api-key.",
        413: "Body or media over this server's limits.",
        429: "The job queue is full; retry shortly.",
        500: "Internal error (no details leak).",
        503: "A model is not installed, or the server is shutting down.",
        504: "The swap ran past the job timeout.",
    }.items()
}

_V1_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The result file with its content type (the target's kind: still image, animated GIF "
        "with its timing, or video); or, when base64 is true, JSON with the file as base64.",
        "content": {
            "image/png": {},
            "image/jpeg": {},
            "image/gif": {},
            "image/webp": {},
            "video/mp4": {},
            "application/json": {"schema": ImageResponse.model_json_schema()},
        },
    },
    **_ERRORS,
}


def context(request: Request) -> ServerContext:
    return request.app.state.frameswap


Ctx = Annotated[ServerContext, Depends(context)]
Owner = Annotated[str, Depends(require_api_key)]


def _image_body(outcome: JobOutcome) -> ImageResponse:
    return ImageResponse(
        image=base64.b64encode(outcome.data).decode("ascii"),
        content_type=outcome.content_type,
        format=outcome.format,
        frame_count=outcome.frame_count,
    )


@router.post(
    "/v1/models/faceswap-v2", responses=_V1_RESPONSES, tags=["faceswap"], summary="Swap faces (sync)"
)
@router.post("/v1/faceswap-v2", responses=_V1_RESPONSES, tags=["faceswap"], include_in_schema=False)
async def faceswap_v1(body: FaceSwapRequest, ctx: Ctx, owner: Owner) -> Response:
    """Swap `source_img`'s face into `target_img` and answer with the result, as the hosted API does."""
    options = ctx.options_for(body)
    job = ctx.jobs.submit(ctx.work_for(body, options), owner=owner)
    try:
        outcome = await job_outcome(ctx.jobs, job)
    except Exception as exc:
        return error_response(exc)
    headers = {"X-Frame-Count": str(outcome.frame_count)}
    if body.base64:
        return JSONResponse(_image_body(outcome).model_dump(), headers=headers)
    return Response(content=outcome.data, media_type=outcome.content_type, headers=headers)


@router.post(
    "/v2/models/faceswap-v2",
    status_code=202,
    response_model=JobAccepted,
    responses=_ERRORS,
    tags=["faceswap"],
    summary="Swap faces (async job)",
)
@router.post("/v2/faceswap-v2", status_code=202, response_model=JobAccepted, include_in_schema=False)
async def faceswap_v2_submit(body: FaceSwapRequest, ctx: Ctx, owner: Owner) -> JobAccepted:
    """Queue the swap and answer at once with its id; poll `GET /v2/jobs/{request_id}`."""
    options = ctx.options_for(body)
    job = ctx.jobs.submit(ctx.work_for(body, options), owner=owner, store=True)
    return JobAccepted(request_id=job.id, status="QUEUED", poll_url=f"/v2/jobs/{job.id}")


def _state(ctx: ServerContext, job: Job) -> JobState:
    total = job.total
    progress = JobProgress(done=job.done, total=total, fraction=(job.done / total) if total else 0.0)
    state = JobState(
        request_id=job.id,
        status=job.status,  # type: ignore[arg-type]
        progress=progress,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        expires_at=ctx.jobs.expires_at(job),
    )
    if (outcome := job.outcome()) is not None:
        state.output = _image_body(outcome)
        state.result_url = f"/v2/jobs/{job.id}/result"
    elif (error := job.error()) is not None:
        status, payload = error_payload(error)
        state.error = JobError(status_code=status, **payload)
    return state


@router.get("/v2/jobs/{job_id}", response_model=JobState, responses=_ERRORS, tags=["faceswap"])
async def job_status(job_id: str, ctx: Ctx, owner: Owner) -> JobState:
    """Status and progress of a job; once COMPLETED, `output` holds the result as base64."""
    return _state(ctx, ctx.jobs.get(job_id, owner))


@router.get("/v2/jobs/{job_id}/result", responses=_V1_RESPONSES, tags=["faceswap"])
async def job_result(job_id: str, ctx: Ctx, owner: Owner) -> Response:
    """The raw result file of a COMPLETED job (404 before that, or after it expires)."""
    job = ctx.jobs.get(job_id, owner)
    outcome = job.outcome()
    if outcome is None:
        error = job.error()
        if error is not None:
            return error_response(error)
        return JSONResponse(
            {"error": f"job is {job.status}", "code": "not_ready", "hint": "Poll the job until COMPLETED."},
            status_code=409,
        )
    return Response(content=outcome.data, media_type=outcome.content_type)


@router.get("/health", tags=["service"])
async def health(ctx: Ctx) -> dict[str, Any]:
    """Liveness: answers while swaps run (they run on worker threads, not the event loop)."""
    return {"status": "ok", "jobs": ctx.jobs.stats()}


@router.get("/v1/info", tags=["service"], responses=_ERRORS)
async def info(ctx: Ctx, _: Owner) -> dict[str, Any]:
    """The engine and models this server runs, and its limits."""
    described = await run_in_threadpool(ctx.swapper.describe)
    s = ctx.settings
    return {
        "version": __version__,
        "swapper": described,
        "auth": s.auth_enabled,
        "workers": s.workers,
        "queue_size": s.queue_size,
        "default_face_restore": s.default_face_restore,
        "limits": {
            "max_body_bytes": s.max_body_bytes,
            "max_media_bytes": s.max_media_bytes,
            "max_pixels_per_frame": s.max_pixels_per_frame,
            "max_frames": s.max_frames,
            "job_timeout_s": s.job_timeout_s,
            "result_ttl_s": s.result_ttl_s,
        },
        "allow_loopback_urls": s.allow_loopback_urls,
    }
