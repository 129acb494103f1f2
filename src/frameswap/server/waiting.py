"""Await a job's outcome from a request handler without tying the two lifetimes together.

The handler awaits the job's future (the event loop stays free while a worker runs it) and, at the
same time, the client's ``http.disconnect``: uvicorn does not cancel a handler by itself when the
client hangs up, so without watching for it a worker would keep swapping for nobody until the job
timeout. Whichever comes first wins; a hang-up (or the server cancelling the handler) cancels the
job, so a waiting job is skipped and a running one stops at its next frame.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request

from frameswap.errors import CancelledError
from frameswap.server.jobs import Job, JobManager, JobOutcome


async def _client_gone(request: Request) -> None:
    """Return when the client hangs up. The body has been read, so the next ASGI message the server
    can send is ``http.disconnect``."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def job_outcome(request: Request, jobs: JobManager, job: Job) -> JobOutcome:
    """The job's outcome (or its error, raised); if the client hangs up first, the job is cancelled
    and the worker freed."""
    result: asyncio.Future[Any] = asyncio.ensure_future(asyncio.wrap_future(job.future))
    gone: asyncio.Future[Any] = asyncio.ensure_future(_client_gone(request))
    try:
        await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:  # the server cancelled the handler: stop the work as well
        jobs.cancel(job, CancelledError("the request was cancelled"))
        raise
    finally:
        gone.cancel()
    if not result.done():
        jobs.cancel(job, CancelledError("the client disconnected"))
        result.cancel()
        raise CancelledError("the client disconnected")
    return result.result()
