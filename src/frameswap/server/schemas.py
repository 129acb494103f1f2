"""Request and response bodies, field for field those of the hosted Faceswap V2 API.

A client of the hosted API changes only the base URL: same field names, same defaults, same
string-typed indexes. Two leniencies a drop-in can afford: an integer index (``0``) is accepted
as ``"0"``, and unknown extra fields are ignored rather than rejected.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from frameswap.identity.build import MAX_PHOTOS
from frameswap.options import EngineName, GenderName, KeepRegion, RestorerName, choices

_IMAGE_HELP = "an http(s) URL, a base64 string, or a data URI (data:image/png;base64,...)"


class FaceSwapRequest(BaseModel):
    """Body of ``POST /v1/models/faceswap-v2`` (and of the async ``/v2`` submission)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "source_img": "https://example.com/face.jpg",
                    "target_img": "https://example.com/party.gif",
                    "input_faces_index": "0",
                    "source_faces_index": "0",
                    "face_restore": "codeformer-v0.1.0.pth",
                    "base64": False,
                }
            ]
        },
    )

    source_img: str | list[str] = Field(
        ...,
        min_length=1,
        description=f"The face to put in: {_IMAGE_HELP}. Also an identity file from `frameswap identity "
        "build` (same forms), or a JSON list of up to 32 photos of one person: they become one identity "
        "(a photo whose face is another person is refused, naming it).",
    )
    target_img: str = Field(
        ...,
        min_length=1,
        description=f"The picture, animation or video whose faces are replaced: {_IMAGE_HELP}.",
    )
    input_faces_index: str = Field(
        "0", description='Target faces to replace, largest first from 0; several with commas ("0,2").'
    )
    source_faces_index: str = Field(
        "0",
        description="Source faces to use, paired by position with input_faces_index; one index goes on all.",
    )
    face_restore: str | None = Field(
        None,
        description=(
            "Face restorer: " + ", ".join(choices(RestorerName)) + ". Omitted: the server's default, "
            "codeformer-v0.1.0.pth as on the hosted API unless the operator changed it."
        ),
    )
    base64: bool = Field(False, description="Answer JSON with the result as base64 instead of the raw bytes.")
    engine: str | None = Field(
        None,
        description="frameswap only (the hosted API has no such field): the swap engine, one of "
        + ", ".join(choices(EngineName))
        + ". Omitted: the server's engine. GET /v1/info lists the installed ones.",
    )
    keep: list[KeepRegion] = Field(
        default_factory=list,
        description="Regions of each target face left exactly as they were: mouth, eyes, brows "
        '(e.g. ["mouth"] keeps the lips of a talking clip).',
    )
    gender: GenderName | None = Field(
        None,
        description="Only target faces of this gender (female or male), indexed among themselves; needs "
        "the insightface analyzer with buffalo_l's genderage.onnx (an error with the embedded engine).",
    )

    @field_validator("source_img")
    @classmethod
    def _photo_count(cls, value: object) -> object:
        if isinstance(value, list) and not 1 <= len(value) <= MAX_PHOTOS:
            raise ValueError(f"source_img as a list takes 1 to {MAX_PHOTOS} photos")
        return value

    @field_validator("input_faces_index", "source_faces_index", mode="before")
    @classmethod
    def _index_as_string(cls, value: object) -> object:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return str(value)
        if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)
        return value


class ImageResponse(BaseModel):
    """The answer when ``base64`` is true: the result file, base64-encoded, and what it is."""

    image: str = Field(..., description="The result file (image, GIF or video), base64-encoded.")
    content_type: str
    format: str
    frame_count: int


JobStatus = Literal["QUEUED", "PROCESSING", "COMPLETED", "FAILED"]


class JobProgress(BaseModel):
    done: int = 0
    total: int = 0
    fraction: float = 0.0


class JobError(BaseModel):
    status_code: int
    error: str
    code: str
    hint: str


class JobAccepted(BaseModel):
    """Answer to an async submission: poll ``poll_url`` until the status is COMPLETED or FAILED."""

    request_id: str
    status: JobStatus
    poll_url: str


class JobState(BaseModel):
    """A job as ``GET /v2/jobs/{id}`` reports it. ``output`` is set once COMPLETED."""

    request_id: str
    status: JobStatus
    progress: JobProgress
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    expires_at: float | None = None
    output: ImageResponse | None = None
    result_url: str | None = None
    error: JobError | None = None


class JobDeleted(BaseModel):
    """Answer to ``DELETE /v2/jobs/{id}``: the job is gone; ``was`` is the status it had."""

    request_id: str
    status: Literal["DELETED"] = "DELETED"
    was: JobStatus


class ErrorBody(BaseModel):
    """Every error answer: what went wrong, a stable code, and what to change."""

    error: str
    code: str
    hint: str
