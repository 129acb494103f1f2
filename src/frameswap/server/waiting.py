"""Await a job's outcome from a request handler without tying the two lifetimes together.

The handler awaits the job's future (the event loop stays free while a worker runs it). If the
client disconnects, the handler is cancelled; the job is then cancelled too, so a worker never
keeps swapping or analysing for nobody. ``asyncio.shield`` keeps that cancellation from reaching
the future itself, which belongs to the job manager.
"""

from __future__ import annotations

import asyncio

from frameswap.errors import CancelledError
from frameswap.server.jobs import Job, JobManager, JobOutcome


async def job_outcome(jobs: JobManager, job: Job) -> JobOutcome:
    """The job's outcome (or its error, raised); a cancelled wait cancels the job."""
    try:
        return await asyncio.shield(asyncio.wrap_future(job.future))
    except asyncio.CancelledError:  # the client went away: stop the work, free the worker
        jobs.cancel(job, CancelledError("the client disconnected"))
        raise
