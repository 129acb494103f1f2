"""The endpoints: hosted-compatible sync swap (v1), async jobs (v2), health and info."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from frameswap._version import __version__
from frameswap.errors import CancelledError
from frameswap.options import SwapOptions
from frameswap.server.auth import require_api_key
from frameswap.server.context import ServerContext
from frameswap.server.errors import ERROR_RESPONSES, JobNotFoundError, error_payload, error_response
from frameswap.server.jobs import Job, JobOutcome
from frameswap.server.openapi_docs import body_doc
from frameswap.server.schemas import (
    FaceSwapRequest,
    ImageResponse,
    JobAccepted,
    JobDeleted,
    JobError,
    JobProgress,
    JobState,
)
from frameswap.server.waiting import job_outcome

router = APIRouter()
log = logging.getLogger("frameswap.server")

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
    **ERROR_RESPONSES,
}


def context(request: Request) -> ServerContext:
    return request.app.state.frameswap


Ctx = Annotated[ServerContext, Depends(context)]
Owner = Annotated[str, Depends(require_api_key)]

def _json_bytes(model: BaseModel) -> bytes:
    """``model`` as the JSON body FastAPI would send (same separators, same encoding).

    Why the routes build it themselves, on a worker thread: a result's base64 is tens of MiB, and
    FastAPI validates a ``response_model`` and dumps the JSON on the event loop, which would stall
    ``/health`` and every other request for as long as that takes."""
    return json.dumps(
        model.model_dump(mode="json"), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def _image_json(outcome: JobOutcome) -> bytes:
    """The v1 ``base64: true`` answer (run it on a worker thread: it encodes the whole file)."""
    return _json_bytes(
        ImageResponse(
            image=base64.b64encode(outcome.data).decode("ascii"),
            content_type=outcome.content_type,
            format=outcome.format,
            frame_count=outcome.frame_count,
        )
    )


async def read_body(request: Request) -> bytes:
    """The raw request body (the key was checked from the headers before any of it was read)."""
    try:
        return await request.body()
    except ClientDisconnect:  # hung up mid-body: nobody to answer, nothing to do
        raise CancelledError("the client disconnected while sending its request") from None


async def _parsed(request: Request, ctx: ServerContext) -> tuple[FaceSwapRequest, SwapOptions]:
    return await run_in_threadpool(ctx.parse, await read_body(request))


@router.post(
    "/v1/models/faceswap-v2",
    responses=_V1_RESPONSES,
    tags=["faceswap"],
    summary="Swap faces (sync)",
    openapi_extra=body_doc(FaceSwapRequest),
)
@router.post("/v1/faceswap-v2", responses=_V1_RESPONSES, tags=["faceswap"], include_in_schema=False)
async def faceswap_v1(request: Request, ctx: Ctx, owner: Owner) -> Response:
    """Swap `source_img`'s face into `target_img` and answer with the result, as the hosted API does."""
    body, options = await _parsed(request, ctx)
    job = ctx.jobs.submit(ctx.work_for(body, options), owner=owner)
    try:
        outcome = await job_outcome(request, ctx.jobs, job)
    except Exception as exc:
        return error_response(exc)
    headers = {"X-Frame-Count": str(outcome.frame_count)}
    if body.base64:
        content = await run_in_threadpool(_image_json, outcome)
        return Response(content=content, media_type="application/json", headers=headers)
    return Response(content=outcome.data, media_type=outcome.content_type, headers=headers)


def _persist(ctx: ServerContext, job_id: str) -> Callable[[concurrent.futures.Future[JobOutcome]], None]:
    """What a finished v2 job leaves in the store: its result file, or its error."""

    def done(future: concurrent.futures.Future[JobOutcome]) -> None:
        try:
            if future.cancelled():
                raise CancelledError("the job was cancelled")
            error = future.exception()
            if error is None:
                outcome = future.result()
                ctx.store.complete(
                    job_id,
                    outcome.data,
                    content_type=outcome.content_type,
                    format=outcome.format,
                    frame_count=outcome.frame_count,
                )
                return
            raise error
        except BaseException as exc:  # the job's own error, or one storing its result
            status, payload = error_payload(exc)
            try:
                ctx.store.fail(job_id, status, payload)
            except Exception:  # the store itself failing must not kill the worker thread
                log.exception("cannot record the end of job %s", job_id)

    return done


def _submit_stored(ctx: ServerContext, body: FaceSwapRequest, options: SwapOptions, owner: str) -> str:
    """Record the job, then queue it (a worker thread: the store writes to disk)."""
    job_id = ctx.store.create(owner)
    work = ctx.work_for(body, options)

    def stored_work(job: Job) -> JobOutcome:
        if not ctx.store.started(job_id):
            raise CancelledError("the job was deleted before it started")
        return work(job)

    try:
        job = ctx.jobs.submit(
            stored_work,
            owner=owner,
            job_id=job_id,
            watch=lambda done, total: ctx.store.progress(job_id, done, total),
        )
    except BaseException:
        ctx.store.delete(job_id, owner)
        raise
    job.future.add_done_callback(_persist(ctx, job_id))
    return job_id


@router.post(
    "/v2/models/faceswap-v2",
    status_code=202,
    response_model=JobAccepted,
    responses=ERROR_RESPONSES,
    tags=["faceswap"],
    summary="Swap faces (async job)",
    openapi_extra=body_doc(FaceSwapRequest),
)
@router.post("/v2/faceswap-v2", status_code=202, response_model=JobAccepted, include_in_schema=False)
async def faceswap_v2_submit(request: Request, ctx: Ctx, owner: Owner) -> JobAccepted:
    """Queue the swap and answer at once with its id; poll `GET /v2/jobs/{request_id}`.
    The job and its result are kept on disk: they survive a restart until they expire."""
    body, options = await _parsed(request, ctx)
    job_id = await run_in_threadpool(_submit_stored, ctx, body, options, owner)
    return JobAccepted(request_id=job_id, status="QUEUED", poll_url=f"/v2/jobs/{job_id}")


def _state(ctx: ServerContext, job_id: str, owner: str) -> JobState:
    """A job's state from the store (a worker thread: it reads the disk)."""
    record = ctx.store.get(job_id, owner)
    done, total = record.done, record.total
    live = ctx.jobs.find(job_id)
    if live is not None and record.status in ("QUEUED", "PROCESSING"):
        done, total = live.done, live.total  # fresher than the store's twice-a-second copy
    progress = JobProgress(done=done, total=total, fraction=(done / total) if total else 0.0)
    state = JobState(
        request_id=record.id,
        status=record.status,  # type: ignore[arg-type]
        progress=progress,
        created_at=record.created_at,
        started_at=record.started_at,
        finished_at=record.finished_at,
        expires_at=ctx.store.expires_at(record),
    )
    if record.status == "COMPLETED":
        try:
            data = ctx.store.result_path(record).read_bytes()
        except FileNotFoundError:  # deleted a moment ago
            raise JobNotFoundError(f"job {job_id[:40]!r} was deleted") from None
        state.output = ImageResponse(
            image=base64.b64encode(data).decode("ascii"),
            content_type=record.content_type or "application/octet-stream",
            format=record.format or "",
            frame_count=record.frame_count or 0,
        )
        state.result_url = f"/v2/jobs/{record.id}/result"
    elif record.error is not None:
        state.error = JobError(**record.error)  # type: ignore[arg-type]
    return state


def _state_json(ctx: ServerContext, job_id: str, owner: str) -> bytes:
    return _json_bytes(_state(ctx, job_id, owner))


@router.get(
    "/v2/jobs/{job_id}",
    response_model=None,  # the route sends JSON it built off the event loop; the docs keep the model
    responses={200: {"model": JobState, "description": "The job's state."}, **ERROR_RESPONSES},
    tags=["faceswap"],
)
async def job_status(job_id: str, ctx: Ctx, owner: Owner) -> Response:
    """Status and progress of a job; once COMPLETED, `output` holds the result as base64."""
    content = await run_in_threadpool(_state_json, ctx, job_id, owner)
    return Response(content=content, media_type="application/json")


@router.get("/v2/jobs/{job_id}/result", responses=_V1_RESPONSES, tags=["faceswap"])
async def job_result(job_id: str, ctx: Ctx, owner: Owner) -> Response:
    """The raw result file of a COMPLETED job (404 before that, or after it expires)."""
    record = await run_in_threadpool(ctx.store.get, job_id, owner)
    if record.status == "FAILED" and record.error is not None:
        status = int(record.error.get("status_code", 500))  # type: ignore[call-overload]
        return JSONResponse({k: v for k, v in record.error.items() if k != "status_code"}, status_code=status)
    if record.status != "COMPLETED":
        return JSONResponse(
            {
                "error": f"job is {record.status}",
                "code": "not_ready",
                "hint": "Poll the job until COMPLETED.",
            },
            status_code=409,
        )
    path = ctx.store.result_path(record)
    try:
        handle = await run_in_threadpool(path.open, "rb")  # open now: a DELETE later cannot cut it short
    except FileNotFoundError:
        raise JobNotFoundError(f"job {job_id[:40]!r} was deleted") from None
    return StreamingResponse(
        _file_chunks(handle),
        media_type=record.content_type or "application/octet-stream",
        headers={"Content-Length": str(record.result_bytes)},
    )


async def _file_chunks(handle: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await run_in_threadpool(handle.read, 1 << 20):
            yield chunk
    finally:
        handle.close()


def _delete(ctx: ServerContext, job_id: str, owner: str) -> JobDeleted:
    record = ctx.store.delete(job_id, owner)
    live = ctx.jobs.find(job_id)
    if live is not None:
        ctx.jobs.cancel(live, CancelledError("the job was deleted by its owner"))
    return JobDeleted(request_id=record.id, status="DELETED", was=record.status)  # type: ignore[arg-type]


@router.delete("/v2/jobs/{job_id}", response_model=JobDeleted, responses=ERROR_RESPONSES, tags=["faceswap"])
async def job_delete(job_id: str, ctx: Ctx, owner: Owner) -> JobDeleted:
    """Cancel a queued or running job, or delete a finished one and its result file. Afterwards
    the job is gone (404); a running job stops at its next frame and frees its worker."""
    return await run_in_threadpool(_delete, ctx, job_id, owner)


@router.get("/health", tags=["service"])
async def health(ctx: Ctx) -> dict[str, Any]:
    """Liveness: answers while swaps run (they run on worker threads, not the event loop)."""
    return {"status": "ok", "jobs": ctx.jobs.stats()}  # memory only: health never waits on the disk


@router.get("/v1/info", tags=["service"], responses=ERROR_RESPONSES)
async def info(ctx: Ctx, _: Owner) -> dict[str, Any]:
    """The engine and models this server runs, and its limits."""
    described = await run_in_threadpool(ctx.swapper.describe)
    stored = await run_in_threadpool(ctx.store.counts)
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
            "max_pixel_frames": s.max_pixel_frames,
            "max_stored_jobs": s.max_stored_jobs,
            "max_jobs_per_key": s.max_jobs_per_key,
            "max_result_bytes": s.max_result_bytes,
            "max_result_bytes_per_key": s.max_result_bytes_per_key,
        },
        "allow_loopback_urls": s.allow_loopback_urls,
        "async_jobs": stored,  # every key's: stored_jobs, stored_result_bytes
    }
