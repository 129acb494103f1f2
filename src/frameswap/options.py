"""Frozen, validated option records: the one place defaults live.

Each set of choices has one source of truth, a ``Literal`` type; ``choices(...)`` turns it into
the tuple the CLI, the server schema and the docs use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

from frameswap.errors import OptionsError

EngineName = Literal["auto", "inswapper", "classic"]
AnalyzerName = Literal["auto", "insightface", "dlib"]
DlibDetectorName = Literal["centerface", "hog", "cnn"]
ProviderName = Literal["auto", "cuda", "coreml", "cpu"]
KeepRegion = Literal["mouth", "eyes", "brows"]  # target face regions that stay the original's
GenderName = Literal["female", "male"]
# Restorer names exactly as the hosted API spells them, plus short names.
RestorerName = Literal[
    "none",
    "codeformer",
    "gfpgan-1.4",
    "gfpgan-1.3",
    "codeformer-v0.1.0.pth",
    "GFPGANv1.4.pth",
    "GFPGANv1.3.pth",
]
CanonicalRestorer = Literal["none", "codeformer", "gfpgan-1.4", "gfpgan-1.3"]

RESTORER_ALIASES: dict[str, CanonicalRestorer] = {
    "none": "none",
    "": "none",
    "codeformer": "codeformer",
    "codeformer-v0.1.0.pth": "codeformer",
    "gfpgan-1.4": "gfpgan-1.4",
    "GFPGANv1.4.pth": "gfpgan-1.4",
    "gfpgan-1.3": "gfpgan-1.3",
    "GFPGANv1.3.pth": "gfpgan-1.3",
}


def choices(literal: object) -> tuple[str, ...]:
    """The values of a ``Literal`` type, for CLI choices and schemas."""
    return tuple(get_args(literal))


def canonical_restorer(name: str | None) -> CanonicalRestorer:
    """Map any accepted spelling (hosted API ``.pth`` name or short name) to the short name."""
    key = "none" if name is None else name.strip()
    if key in RESTORER_ALIASES:
        return RESTORER_ALIASES[key]
    lowered = {k.lower(): v for k, v in RESTORER_ALIASES.items()}
    if key.lower() in lowered:
        return lowered[key.lower()]
    raise OptionsError(
        f"unknown face_restore {name!r}; use one of: {', '.join(choices(RestorerName))}"
    )


def _check_choice(value: str, literal: object, what: str) -> None:
    if value not in get_args(literal):
        raise OptionsError(f"unknown {what} {value!r}; use one of: {', '.join(get_args(literal))}")


@dataclass(frozen=True)
class MediaLimits:
    """Caps checked before decoding, so a decompression bomb or a 10-hour video is refused early."""

    max_pixels_per_frame: int = 8192 * 8192
    max_frames: int = 20_000
    max_input_bytes: int = 2 * 1024**3
    # canvas pixels x frame count: the decoding work. Per-frame and frame caps alone let a 69 KB GIF
    # (4096x4096 canvas, 3000 frames of 1x1) cost 5e10 pixels of compositing. The default (4K x
    # 20,000) is for one's own files and still admits that GIF; the server's (1080p x 2,000) refuses it
    max_pixel_frames: int = 3840 * 2160 * 20_000

    def __post_init__(self) -> None:
        for name in ("max_pixels_per_frame", "max_frames", "max_input_bytes", "max_pixel_frames"):
            if getattr(self, name) <= 0:
                raise OptionsError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class EncodeOptions:
    """How outputs are encoded. ``quality`` is 0-100 (higher is better) for every format."""

    quality: int = 80
    video_codec: str | None = None  # None: H.264 for mp4/mov/mkv, VP9 for webm
    gif_colors: int = 256

    def __post_init__(self) -> None:
        if not 0 <= self.quality <= 100:
            raise OptionsError(f"quality must be in 0..100, got {self.quality}")
        if not 2 <= self.gif_colors <= 256:
            raise OptionsError(f"gif_colors must be in 2..256, got {self.gif_colors}")


@dataclass(frozen=True)
class TrackerOptions:
    """Identity tracking across frames (see ``frameswap.faces.track``)."""

    max_missed_frames: int = 30  # keep a lost track alive (and re-identifiable) this long
    iou_threshold: float = 0.3
    # cosine distance under which two ArcFace embeddings are one person (dlib's 128-D descriptors use
    # their own Euclidean 0.6 rule, see frameswap.faces.track.AssociationTuning)
    embedding_threshold: float = 0.5
    # full detection every N frames, faces followed (landmarks refreshed) in between. 2 is the
    # default: on the sample GIF it cuts a quarter of the CPU (1.82 s against 2.27 s end to end)
    # with every visible face still swapped in every frame of the blurred-and-dark GIF, and kept
    # 99.3 % recall and every identity on a real 275-frame clip; a missed face is followed either way
    detect_every: int = 2

    def __post_init__(self) -> None:
        if self.max_missed_frames < 0:
            raise OptionsError("max_missed_frames must be >= 0")
        if not 0.0 <= self.iou_threshold <= 1.0:
            raise OptionsError("iou_threshold must be in [0, 1]")
        if self.detect_every < 1:
            raise OptionsError("detect_every must be >= 1")


MAX_LABEL_CHARS = 80


@dataclass(frozen=True)
class DisclosureOptions:
    """What an output says about being made with AI (see :mod:`frameswap.provenance`).

    ``machine_readable`` (default on) writes the IPTC digital source type and the tool's name and
    version into the file's XMP; off (``--no-disclosure``) is meant for research pipelines only.
    ``c2pa_cert`` and ``c2pa_key`` (PEM files, both or neither) also embed a signed C2PA manifest;
    ``label`` draws a small visible text in a corner of every frame.
    """

    machine_readable: bool = True
    label: str | None = None
    c2pa_cert: Path | None = None
    c2pa_key: Path | None = None

    def __post_init__(self) -> None:
        if self.label is not None:
            label = self.label.strip()
            if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
                raise OptionsError(
                    f"the label must be one line of 1 to {MAX_LABEL_CHARS} printable characters, "
                    f"got {self.label!r:.100}"
                )
            object.__setattr__(self, "label", label)
        if (self.c2pa_cert is None) != (self.c2pa_key is None):
            raise OptionsError("C2PA signing needs both a certificate and a key (c2pa_cert and c2pa_key)")
        if self.c2pa_cert is not None and not self.machine_readable:
            raise OptionsError(
                "C2PA signing is a machine-readable disclosure: drop the certificate and key, or the "
                "opt-out (--no-disclosure)"
            )


@dataclass(frozen=True)
class SwapOptions:
    """Everything one swap request can set; the API, CLI and server all build one of these."""

    input_faces_index: str = "0"
    source_faces_index: str = "0"
    face_restore: str = "none"
    restore_weight: float = 0.5  # CodeFormer fidelity w in [0, 1]
    restore_blend: float = 1.0  # visibility of the restored face in [0, 1]
    engine: EngineName = "auto"
    analyzer: AnalyzerName = "auto"
    reference_frame: int | None = None  # animation frame whose faces define the indexes
    tracker: TrackerOptions = field(default_factory=TrackerOptions)
    limits: MediaLimits = field(default_factory=MediaLimits)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    output_format: str | None = None  # None: from the output extension, else the input's
    batch_size: int = 8  # frames processed per batch
    keep: tuple[KeepRegion, ...] = ()  # regions of each target face left as they were
    gender: GenderName | None = None  # only target faces of this gender (insightface analyzer)
    disclosure: DisclosureOptions = field(default_factory=DisclosureOptions)

    def __post_init__(self) -> None:
        object.__setattr__(self, "face_restore", canonical_restorer(self.face_restore))
        _check_choice(self.engine, EngineName, "engine")
        _check_choice(self.analyzer, AnalyzerName, "analyzer")
        if not 0.0 <= self.restore_weight <= 1.0:
            raise OptionsError(f"restore_weight must be in [0, 1], got {self.restore_weight}")
        if not 0.0 <= self.restore_blend <= 1.0:
            raise OptionsError(f"restore_blend must be in [0, 1], got {self.restore_blend}")
        if self.batch_size < 1:
            raise OptionsError("batch_size must be >= 1")
        keep = (self.keep,) if isinstance(self.keep, str) else tuple(self.keep)
        for region in keep:
            _check_choice(region, KeepRegion, "keep region")
        object.__setattr__(self, "keep", tuple(dict.fromkeys(keep)))  # repeats collapse, order kept
        if self.gender is not None:
            _check_choice(self.gender, GenderName, "gender")
        if self.reference_frame is not None and self.reference_frame < 0:
            raise OptionsError("reference_frame must be >= 0")
