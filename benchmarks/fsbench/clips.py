"""Benchmark clips with known face positions: pans and zooms over insightface's ``t1`` group photo.

Each clip is a :class:`ClipSpec`: a frame size, one :class:`~fsbench.truth.View` per frame
and per-frame effects. Rendering a view is a single exact affine warp, so the hand-annotated face
boxes of ``t1`` map into every frame exactly (:meth:`ClipSpec.truth`): the swap-coverage figures
need no detector. The specs take a frame count and size, so tests can build a tiny version of the
very same clip in a fraction of a second.

- ``blurdark_gif``: a slow pan like the sample GIF where every 4th frame is Gaussian-blurred past
  what dlib's HOG detector finds (sigma 5 px at 480 px wide: upsampled once, HOG finds a face in
  1 of the 10 blurred frames, and 1-3 in the sharp ones) and every 4th, at another offset,
  under-exposed (x0.35 and a little noise). Faces that a detector loses for one frame must still
  be swapped: that is what gap filling is for.
- ``hd_group``: 1280x720 H.264, 2 s at 25 fps, a slow pan and zoom over the upscaled photo; six
  faces visible at the start, two leave the frame on the way.
- ``closeup``: 720x1280 (portrait) H.264, 2 s, the frontal blonde face scaled ~6.4x so it fills
  ~80 % of the frame's width, drifting slightly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from frameswap.errors import OptionsError
from fsbench.rawmedia import fresh, sha256_pixels, stamp, write_gif, write_h264
from fsbench.truth import FrameTruth, View, clip_truth

CLIP_NAMES = ("blurdark_gif", "hd_group", "closeup")
_RECIPE = 1

Window = tuple[float, float, float]  # centre x, centre y, width, in t1 pixels

BLURDARK_SIZE, BLURDARK_FRAMES = (480, 336), 40
_BLURDARK_CAMERA: tuple[Window, Window] = ((560.0, 420.0, 960.0), (700.0, 380.0, 880.0))  # start, end
BLUR_EVERY = (4, 1)  # (period, offset): frames i with i % 4 == 1 are blurred
DARK_EVERY = (4, 3)  # frames i with i % 4 == 3 are under-exposed
BLUR_SIGMA_PER_WIDTH = 5.0 / 480  # Gaussian sigma as a share of the frame width
DARK_GAIN = 0.35
DARK_NOISE = 2.0  # grey levels (standard deviation) of the noise added to dark frames
_GIF_DELAYS_MS = (60, 80, 100)

VIDEO_FPS, VIDEO_FRAMES = 25, 50  # 2 s
HD_GROUP_SIZE = (1280, 720)
_HD_GROUP_CAMERA: tuple[Window, Window] = ((640.0, 370.0, 1200.0), (670.0, 330.0, 1080.0))
CLOSEUP_SIZE = (720, 1280)
# around face 5 of truth.T1_FACES (the frontal blonde woman, 91x124 photo pixels): zoom ~6.4
_CLOSEUP_CAMERA: tuple[Window, Window] = ((1180.0, 332.0, 112.5), (1186.0, 326.0, 116.0))


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides a clip's pixels (its cache key) and its truth boxes."""

    name: str
    size: tuple[int, int]  # width, height
    windows: tuple[Window, ...]  # the camera per frame
    effects: tuple[str, ...]  # per frame: "", "blur" or "dark"
    container: str  # "gif" or "mp4"
    delays_ms: tuple[int, ...] = ()  # gif only
    fps: int = 25  # mp4 only
    seed: int = 0

    @property
    def views(self) -> list[View]:
        return [View.from_window(*w, self.size) for w in self.windows]

    @property
    def suffix(self) -> str:
        return "." + self.container

    def truth(self) -> list[FrameTruth]:
        """Per frame, where each annotated face lies (see :class:`~fsbench.truth.FrameTruth`)."""
        return clip_truth(self.views, self.size)


def _ease(t: float) -> float:
    return 0.5 - 0.5 * float(np.cos(np.pi * t))


def _camera(start: Window, end: Window, frames: int) -> tuple[Window, ...]:
    """An eased move from ``start`` to ``end``: no jolt at either end, like a real slow pan."""
    out = []
    for i in range(frames):
        p = _ease(i / max(1, frames - 1))
        out.append(tuple(a + (b - a) * p for a, b in zip(start, end, strict=True)))
    return tuple(out)  # type: ignore[return-value]


def _scaled(size: tuple[int, int], width: int | None) -> tuple[int, int]:
    """The recipe's size scaled to ``width`` (even sides, as H.264 wants)."""
    if width is None:
        return size
    height = round(size[1] * width / size[0] / 2) * 2
    return (width - width % 2, max(2, height))


def blurdark_spec(frames: int = BLURDARK_FRAMES, width: int | None = None) -> ClipSpec:
    """The blurred-and-dark GIF (see the module docstring); ``width`` < 480 for a quick test copy."""
    if frames < 1:
        raise OptionsError("a clip needs at least one frame")
    effects = tuple(
        "blur" if i % BLUR_EVERY[0] == BLUR_EVERY[1] else "dark" if i % DARK_EVERY[0] == DARK_EVERY[1] else ""
        for i in range(frames)
    )
    return ClipSpec(
        "blurdark_gif", _scaled(BLURDARK_SIZE, width), _camera(*_BLURDARK_CAMERA, frames), effects, "gif",
        delays_ms=tuple(_GIF_DELAYS_MS[i % len(_GIF_DELAYS_MS)] for i in range(frames)),
    )


def hd_group_spec(frames: int = VIDEO_FRAMES, width: int | None = None) -> ClipSpec:
    """The 1280x720 group pan (see the module docstring)."""
    if frames < 1:
        raise OptionsError("a clip needs at least one frame")
    return ClipSpec("hd_group", _scaled(HD_GROUP_SIZE, width), _camera(*_HD_GROUP_CAMERA, frames),
                    ("",) * frames, "mp4", fps=VIDEO_FPS)


def closeup_spec(frames: int = VIDEO_FRAMES, width: int | None = None) -> ClipSpec:
    """The 720x1280 portrait close-up (see the module docstring)."""
    if frames < 1:
        raise OptionsError("a clip needs at least one frame")
    return ClipSpec("closeup", _scaled(CLOSEUP_SIZE, width), _camera(*_CLOSEUP_CAMERA, frames),
                    ("",) * frames, "mp4", fps=VIDEO_FPS)


def clip_spec(name: str, frames: int | None = None, width: int | None = None) -> ClipSpec:
    """A clip's spec by name, optionally shorter and smaller (for tests)."""
    makers = {"blurdark_gif": blurdark_spec, "hd_group": hd_group_spec, "closeup": closeup_spec}
    if name not in makers:
        raise OptionsError(f"unknown clip {name!r}; use one of: {', '.join(CLIP_NAMES)}")
    return makers[name](width=width) if frames is None else makers[name](frames, width=width)


def t1_rgb() -> np.ndarray:
    """insightface's ``t1`` group photo as RGB (a copy: the package caches and shares its array)."""
    from insightface.data import get_image

    return np.ascontiguousarray(get_image("t1")[:, :, ::-1])


def render_view(photo: np.ndarray, view: View, size: tuple[int, int], prescale: float = 1.0) -> np.ndarray:
    """The frame ``view`` shows. ``photo`` is the full photo shrunk by ``prescale`` (area averaging,
    so a strong reduction does not alias); the warp maps pixel edges exactly as :class:`View` says."""
    import cv2

    z = view.zoom / prescale
    # frame pixel centre u + 0.5 = zoom * (x + 0.5 - left) with x in full-size photo pixels
    matrix = np.array([[z, 0.0, 0.5 * z - view.zoom * view.left - 0.5],
                       [0.0, z, 0.5 * z - view.zoom * view.top - 0.5]])
    return cv2.warpAffine(photo, matrix, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT101)


def defocus(rgb: np.ndarray) -> np.ndarray:
    """A frame blurred as ``blurdark_gif`` blurs its frames (the sigma scales with the width)."""
    import cv2

    return cv2.GaussianBlur(rgb, (0, 0), BLUR_SIGMA_PER_WIDTH * rgb.shape[1])


def without_blur(spec: ClipSpec) -> ClipSpec:
    """The same clip with its blurred frames left sharp (the under-exposed ones stay dark)."""
    effects = tuple("" if effect == "blur" else effect for effect in spec.effects)
    return replace(spec, name=f"{spec.name}_unblurred", effects=effects)


def _apply(effect: str, rgb: np.ndarray, index: int, spec: ClipSpec) -> np.ndarray:
    if effect == "blur":
        return defocus(rgb)
    if effect == "dark":
        noise = np.random.default_rng((spec.seed, index)).normal(0.0, DARK_NOISE, rgb.shape)
        return np.clip(rgb * DARK_GAIN + noise, 0, 255).round().astype(np.uint8)
    return rgb


def render_frames(spec: ClipSpec, photo: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """The clip's RGB frames, in order (``photo`` defaults to :func:`t1_rgb`)."""
    import cv2

    photo = t1_rgb() if photo is None else photo
    views = spec.views
    prescale = min(1.0, max(v.zoom for v in views))  # the closest view maps 1:1, the others shrink
    if prescale < 1.0:
        h, w = photo.shape[:2]
        photo = cv2.resize(photo, (round(w * prescale), round(h * prescale)), interpolation=cv2.INTER_AREA)
    for i, (view, effect) in enumerate(zip(views, spec.effects, strict=True)):
        yield _apply(effect, render_view(photo, view, spec.size, prescale), i, spec)


def build_clip(spec: ClipSpec, out: Path) -> Path:
    """Write the clip to ``out`` (its suffix should be ``spec.suffix``); reused while its recipe holds."""
    photo = t1_rgb()
    key = json.dumps([_RECIPE, asdict(spec), sha256_pixels(photo)])
    if fresh(out, key):
        return out
    if spec.container == "gif":
        write_gif(out, list(render_frames(spec, photo)), list(spec.delays_ms), 0, dither=False)
    else:
        write_h264(out, render_frames(spec, photo), spec.fps)
    stamp(out, key)
    return out
