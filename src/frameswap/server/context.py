"""What every route needs, built once per app: settings, swapper, job pool, fetcher, job store."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from frameswap.errors import CancelledError, MediaLimitError, SourceError
from frameswap.faces.select import pair_indexes, parse_indexes
from frameswap.options import SwapOptions
from frameswap.server.errors import JobTimeoutError
from frameswap.server.fetch import UrlFetcher
from frameswap.server.inputs import decode_image_field
from frameswap.server.jobs import Job, JobManager, JobOutcome
from frameswap.server.schemas import FaceSwapRequest
from frameswap.server.settings import ServerSettings
from frameswap.server.store import JobStore

if TYPE_CHECKING:
    from frameswap.pipeline.listing import FaceListing, Role

BodyT = TypeVar("BodyT", bound=BaseModel)


class Swapper(Protocol):
    """The part of :class:`frameswap.api.FaceSwapper` the server uses (a fake fits in tests)."""

    def swap(
        self, source: Any, target: Any, output: Any = None, *, options: Any = None, fetcher: Any = None,
        on_progress: Any = None, cancel: Any = None,
    ) -> Any: ...

    def describe(self) -> dict[str, Any]: ...

    def faces(
        self,
        target: Any,
        options: SwapOptions | None = None,
        *,
        role: Role = "target",
        fetcher: Callable[[str], bytes] | None = None,
        cancel: threading.Event | None = None,
    ) -> FaceListing: ...


def parse_body(model: type[BodyT], raw: bytes) -> BodyT:
    """A JSON request body validated as ``model``; invalid bodies raise FastAPI's 422 error. Run it
    on a worker thread (the body may be tens of MiB)."""
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None


@dataclass(frozen=True)
class ServerContext:
    settings: ServerSettings
    swapper: Swapper
    jobs: JobManager
    fetcher: UrlFetcher
    store: JobStore

    def parse(self, raw: bytes) -> tuple[FaceSwapRequest, SwapOptions]:
        """The request body and the options it asks for. Run on a worker thread, never on the event
        loop: a 64 MiB JSON body or a hostile index list must not freeze ``/health``."""
        request = parse_body(FaceSwapRequest, raw)
        return request, self.options_for(request)

    def options_for(self, request: FaceSwapRequest) -> SwapOptions:
        """The swap options a request asks for; invalid values raise ``OptionsError`` (HTTP 400) now,
        before the request takes a place in the queue."""
        pair_indexes(
            parse_indexes(request.input_faces_index, "input_faces_index"),
            parse_indexes(request.source_faces_index, "source_faces_index"),
        )  # malformed or unpaired index lists are refused here (FaceIndexError, HTTP 400)
        return SwapOptions(
            input_faces_index=request.input_faces_index,
            source_faces_index=request.source_faces_index,
            face_restore=request.face_restore
            if request.face_restore is not None
            else self.settings.default_face_restore,
            engine=request.engine or self.settings.engine,  # type: ignore[arg-type]
            limits=self.settings.media_limits(),
            keep=tuple(request.keep),
            gender=request.gender,
            disclosure=self.settings.disclosure_options(),
        )

    def work_for(self, request: FaceSwapRequest, options: SwapOptions) -> Callable[[Job], JobOutcome]:
        """The function a worker runs: fetch/decode the inputs, swap, and collect the file's bytes."""

        def work(job: Job) -> JobOutcome:
            given = request.source_img
            source: bytes | list[bytes] = (
                self._load_photos(job, given)
                if isinstance(given, list)
                else self._load(job, given, "source_img")
            )
            target = self._load(job, request.target_img, "target_img")
            result = self.swapper.swap(
                source,
                target,
                None,
                options=options,
                fetcher=self.fetcher,
                on_progress=job.report_progress,
                cancel=job.cancel,
            )
            data = result.data if result.data is not None else Path(result.path).read_bytes()
            return JobOutcome(
                data=data,
                content_type=result.content_type,
                format=result.format,
                frame_count=int(result.frame_count),
            )

        return work

    def _load(self, job: Job, value: str, field: str, max_bytes: int | None = None) -> bytes:
        """One input's bytes, fetched within the time ``job`` has left.

        Why here and not only in the swapper: the inputs are loaded before the swapper (and its
        cancel checks) runs, and a list of up to 32 URLs fetched one after another, each allowed the
        full fetch timeout, would hold the worker far past the job timeout. So a job that was
        cancelled or timed out loads nothing more, and each fetch gets the shorter of the fetch
        timeout and the job's remaining time."""
        if job.cancel.is_set():
            raise CancelledError(f"the job was stopped before {field} was loaded")
        out_of_time = JobTimeoutError(
            f"the job ran past this server's {self.settings.job_timeout_s:g} s job timeout "
            f"while loading {field}"
        )
        left = job.remaining()
        if left <= 0:
            raise out_of_time

        def fetch(url: str) -> bytes:
            try:
                return self.fetcher(url, timeout_s=min(self.fetcher.policy.timeout_s, left))
            except SourceError:
                if job.remaining() <= 0:  # cut at the job's deadline, not the fetch's: say so (504)
                    raise out_of_time from None
                raise

        limit = self.settings.max_media_bytes if max_bytes is None else max_bytes
        return decode_image_field(value, field, fetcher=fetch, max_bytes=limit)

    def _load_photos(self, job: Job, values: list[str]) -> list[bytes]:
        """A list of source photos, together no larger than one input may be (``max_media_bytes``):
        32 photos at the per-input limit each would otherwise hold 32 times that in memory."""
        budget = self.settings.max_media_bytes
        photos: list[bytes] = []
        for i, value in enumerate(values):
            used = sum(len(p) for p in photos)
            if used >= budget:
                raise MediaLimitError(
                    f"source_img[{i}]: the photos before it already use this server's "
                    f"{budget}-byte media limit, which the whole list shares"
                )
            try:
                photos.append(self._load(job, value, f"source_img[{i}]", max_bytes=budget - used))
            except MediaLimitError as exc:
                raise MediaLimitError(
                    f"{exc} (the source_img list shares one {budget}-byte limit; "
                    f"{used} bytes are taken by the photos before it)"
                ) from None
        return photos
