"""The turned-head case: one person's head turned 13-26 degrees, swapped from one photo and from three.

A frontal photo warped onto a turned head squeezes the far half of the face; an identity of three
photos (turned one way, frontal, turned the other way) lets the classic engine warp the photo posed
nearest each frame's head (``frameswap.engines.classic.photos``). Both runs swap the same clip;
the figures are those of :mod:`fsbench.quality` (dlib-descriptor distance of each swapped
face to the person, measured against a frame of her that neither run uses so both compare fairly,
and to the original face; landmark jitter) plus which photo each frame used and how often a track switched.

Real footage, not a pan over ``t1``: the clips are the shared trial media (LivePortrait examples,
see ``/work/shared/media/INDEX.md``), so this case runs only where that folder is, with
``frameswap bench --turned-head DIR``; it is not among the default cases.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from frameswap.engines.base import SwapJob
from frameswap.errors import MediaNotFoundError

TARGET_CLIP = "videos/liveportrait_s18.mp4"  # a woman's head turned 13-26 degrees throughout
TARGET_FRAMES = range(0, 240, 4)  # 60 frames, the most turned part first
TARGET_SIZE = (640, 360)
SOURCE_CLIP = "videos/liveportrait_d3.mp4"  # another woman, turning her head both ways
SOURCE_FRAMES = (0, 204, 276)  # eyes open: frontal, turned one way (about -8 degrees), the other (+20)
REFERENCE_FRAME = 240  # the person as the identity figures see her: a frame neither run uses


@dataclass
class _Recording:
    """Wraps the classic engine to note which prepared photo each swapped face got."""

    inner: Any
    used: list[int | None] = field(default_factory=list)  # per swapped frame: photo number
    photo_ids: dict[int, int] = field(default_factory=dict)  # id(prepared source) -> photo number
    name: str = "classic"
    needs_source_embedding: bool = False

    def prepare_source(self, image: np.ndarray, face: Any) -> Any:
        return self.inner.prepare_source(image, face)

    def prepare_photos(self, photos: Sequence[tuple[np.ndarray, Any]]) -> Any:
        prepared = self.inner.prepare_photos(photos)
        self.photo_ids = {id(s): i for i, s in enumerate(prepared.sources)}
        return prepared

    def measure_tone(self, frame: np.ndarray, face: Any) -> Any:
        return self.inner.measure_tone(frame, face)

    def swap(self, frames: Sequence[np.ndarray], jobs: Sequence[Sequence[SwapJob]]) -> list[np.ndarray]:
        for frame_jobs in jobs:
            self.used.append(self.photo_ids.get(id(frame_jobs[0].source), 0) if frame_jobs else None)
        return self.inner.swap(frames, jobs)


def _frames(path: Path, wanted: Sequence[int], size: tuple[int, int] | None = None) -> list[np.ndarray]:
    import av
    import cv2

    keep, out = set(wanted), {}
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i in keep:
                rgb = frame.to_ndarray(format="rgb24")
                out[i] = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if size else rgb
            if i >= max(keep):
                break
    return [out[i] for i in wanted]


def build_inputs(media_dir: Path, work_dir: Path) -> tuple[Path, list[Path]]:
    """The target clip (an mp4 of ``TARGET_FRAMES``) and the three source photos, under ``work_dir``."""
    from PIL import Image

    from frameswap.media import FrameTiming, MediaInfo, write_media
    from frameswap.media.types import Frame

    for rel in (TARGET_CLIP, SOURCE_CLIP):
        if not (media_dir / rel).is_file():
            raise MediaNotFoundError(f"{media_dir / rel}: the turned-head case needs the shared trial media")
    work_dir.mkdir(parents=True, exist_ok=True)
    photos = []
    wanted = (*SOURCE_FRAMES, REFERENCE_FRAME)
    for n, rgb in zip(wanted, _frames(media_dir / SOURCE_CLIP, wanted), strict=True):
        path = work_dir / f"turned_source_{n}.png"
        if not path.is_file():
            Image.fromarray(rgb).save(path)
        photos.append(path)
    target = work_dir / "turned_target.mp4"
    if not target.is_file():
        from fractions import Fraction

        frames = _frames(media_dir / TARGET_CLIP, list(TARGET_FRAMES), TARGET_SIZE)
        info = MediaInfo(format="mp4", kind="video", width=TARGET_SIZE[0], height=TARGET_SIZE[1],
                         frame_count=len(frames), durations_ms=tuple(100.0 for _ in frames), fps=Fraction(10),
                         time_base=Fraction(1, 10))
        write_media(target, (Frame(i, f, FrameTiming(i, 100, Fraction(1, 10))) for i, f in enumerate(frames)),
                    info)
    return target, photos  # the last is the reference frame, no source


def run_turned_head(media_dir: Path, work_dir: Path, on_event: Callable[[str], None] = lambda m: None,
                    max_frames: int = 30) -> dict[str, Any]:
    """Swap the turned-head clip with the frontal photo alone and with all three; the figures."""
    from frameswap.engines.classic import ClassicEngine
    from frameswap.engines.classic.photos import head_pose
    from frameswap.faces.dlib_backend import DlibAnalyzer
    from frameswap.media import open_media
    from frameswap.options import SwapOptions
    from frameswap.pipeline import Models, run_swap
    from fsbench.quality import identity_and_jitter

    target, photos = build_inputs(media_dir, work_dir)
    reference = photos.pop()
    analyzer = DlibAnalyzer.from_packages()
    judge = DlibAnalyzer.from_packages()  # its own instance for the figures

    def first(path: Path) -> np.ndarray:
        with open_media(path) as reader:
            return next(iter(reader.frames())).rgb

    def read_all(path: Path) -> list[np.ndarray]:
        with open_media(path) as reader:
            return [f.rgb for f in reader.frames()]

    def pose(rgb: np.ndarray) -> list[float]:
        face = max(analyzer.analyze([rgb], embed=False)[0], key=lambda f: f.area)
        return [round(float(v), 1) for v in head_pose(np.asarray(face.landmarks))]

    original = read_all(target)
    step = max(1, len(original) // max_frames)
    target_yaws = [pose(rgb)[0] for rgb in original[::step]]
    report: dict[str, Any] = {
        "target": f"{TARGET_CLIP} frames {TARGET_FRAMES.start}-{TARGET_FRAMES.stop - 1} step "
                  f"{TARGET_FRAMES.step}, {TARGET_SIZE[0]}x{TARGET_SIZE[1]}, {len(original)} frames",
        "target_yaw_range": [min(target_yaws), max(target_yaws)],
        "photos": [{"file": f"{SOURCE_CLIP} frame {n}", "yaw_pitch": pose(first(p))}
                   for n, p in zip(SOURCE_FRAMES, photos, strict=True)],
        "runs": [],
    }
    person = first(reference)
    for label, source in (("one photo (frontal)", photos[0]), ("three photos", list(photos))):
        engine = _Recording(ClassicEngine())
        out = work_dir / f"turned_{len(source) if isinstance(source, list) else 1}.mp4"
        on_event(f"turned head: {label}")
        start = time.perf_counter()
        run_swap(Models(analyzer=analyzer, engine=engine), source, target, out, SwapOptions(engine="classic"))
        seconds = time.perf_counter() - start
        swapped = read_all(out)
        figures = identity_and_jitter(judge, person, original[::step], swapped[::step])
        used = [u for u in engine.used if u is not None]
        switches = sum(a != b for a, b in itertools.pairwise(used))
        report["runs"].append({
            "source": label, "seconds": round(seconds, 2), "output": str(out),
            "photo_use": {str(i): used.count(i) for i in sorted(set(used))}, "photo_switches": switches,
            **figures,
        })
    return report


def format_turned_head(report: dict[str, Any]) -> str:
    """A markdown table of the two runs."""
    lines = [
        f"turned-head case: {report['target']}, yaw {report['target_yaw_range'][0]} to "
        f"{report['target_yaw_range'][1]} degrees; photos (yaw, pitch): "
        + ", ".join(f"{p['file']} {p['yaw_pitch']}" for p in report["photos"]),
        "",
        "| source | seconds | id → person | id → original | closer to person | jitter ratio | photo use "
        "| switches |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        closer = run.get("identity_closer_to_source")
        lines.append(
            f"| {run['source']} | {run['seconds']} | {run.get('identity_to_source')} | "
            f"{run.get('identity_to_original')} | {'-' if closer is None else f'{closer:.0%}'} | "
            f"{run.get('jitter_ratio')} | {run['photo_use']} | {run['photo_switches']} |"
        )
    return "\n".join(lines)
