"""Build the bundled sample media (source photo, target GIF, short video) from photos that packages ship.

Why a builder instead of committed files: the insightface ``t1`` group photo has no stated licence, so
nothing derived from it may be committed; tests, benchmarks and the README build the samples on demand
instead. The builder is deterministic, takes a few seconds, and skips outputs that are already up to
date (a manifest records a key of the recipe, its parameters and the input pixels for each output).

The samples are written with Pillow, PyAV, numpy and OpenCV directly (not ``frameswap.media``) so they
are an independent reference for the media layer: the delays, loop count and frame counts below are the
ground truth that tests read back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from frameswap.atomic import atomic_output

__all__ = [
    "SAMPLE_GIF_DELAYS_MS",
    "SAMPLE_GIF_FRAMES",
    "SAMPLE_GIF_HOLD",
    "SAMPLE_GIF_LOOP",
    "SAMPLE_GIF_SIZE",
    "SAMPLE_SOURCE_NAME",
    "SAMPLE_VIDEO_AUDIO_RATE",
    "SAMPLE_VIDEO_FPS",
    "SAMPLE_VIDEO_FRAMES",
    "SAMPLE_VIDEO_SIZE",
    "SamplePaths",
    "build_samples",
]

# Bump when the recipe changes in a way the parameters below do not capture: outputs are then rebuilt.
_RECIPE_VERSION = 1

SAMPLE_SOURCE_NAME = "source_astronaut.jpg"
SAMPLE_GIF_NAME = "target_group.gif"
SAMPLE_VIDEO_NAME = "target_group.mp4"
_MANIFEST_NAME = "samples-manifest.json"

# --- source photo: the astronaut, cropped above the mission patch (which HOG detectors take for a face)
_SOURCE_CROP = (20, 0, 420, 330)  # x0, y0, x1, y1 in skimage.data.astronaut() (512x512)
_SOURCE_JPEG_QUALITY = 92

# --- target GIF: a smooth pan/zoom across the t1 group photo
SAMPLE_GIF_SIZE = (480, 336)  # width, height
SAMPLE_GIF_FRAMES = 48
SAMPLE_GIF_LOOP = 0  # NETSCAPE loop count: 0 = forever
# Frames SAMPLE_GIF_HOLD[0] .. SAMPLE_GIF_HOLD[1]-1 are pixel-identical (the camera stops): GIFs often
# hold a picture this way, and the pipeline should process such a run once.
SAMPLE_GIF_HOLD = (19, 23)
_GIF_DELAY_PATTERN_MS = (40, 60, 80, 120)
_GIF_FINAL_HOLD_MS = 600  # the last frame pauses before the loop restarts
SAMPLE_GIF_DELAYS_MS: tuple[int, ...] = (
    *(_GIF_DELAY_PATTERN_MS[i % len(_GIF_DELAY_PATTERN_MS)] for i in range(SAMPLE_GIF_FRAMES - 1)),
    _GIF_FINAL_HOLD_MS,
)
# Crop windows in t1 pixels (1280x886): centre x, centre y, width; height follows the output aspect.
_GIF_CAMERA_START = (520.0, 443.0, 1000.0)
_GIF_CAMERA_END = (860.0, 335.0, 720.0)
_GIF_PALETTE_COLOURS = 128  # 256 makes the file ~25 % bigger for little visible gain

# --- target video: 3 s, 25 fps, H.264 + AAC in mp4, a pan across t1
SAMPLE_VIDEO_SIZE = (640, 360)
SAMPLE_VIDEO_FPS = 25
SAMPLE_VIDEO_FRAMES = 75
SAMPLE_VIDEO_AUDIO_RATE = 48_000
_VIDEO_CAMERA_START = (480.0, 330.0, 960.0)
_VIDEO_CAMERA_END = (880.0, 345.0, 720.0)
_VIDEO_CRF = 23
_AUDIO_CHIRP_HZ = (220.0, 880.0)
_AUDIO_FADE_S = 0.02
_AUDIO_FRAME_SAMPLES = 1024


@dataclass(frozen=True)
class SamplePaths:
    """Where :func:`build_samples` put the three sample files."""

    source: Path
    gif: Path
    video: Path


# ---------------------------------------------------------------------------------------------- inputs


def _astronaut_rgb() -> np.ndarray:
    from skimage import data

    return np.ascontiguousarray(data.astronaut())


def _t1_rgb() -> np.ndarray:
    from insightface.data import get_image

    bgr = get_image("t1")  # cached, shared array: never modify it in place
    return np.ascontiguousarray(bgr[:, :, ::-1])


# ---------------------------------------------------------------------------------------------- camera


def _ease(t: float) -> float:
    """Cosine ease-in/ease-out, so the camera starts and stops without a jolt."""
    return 0.5 - 0.5 * float(np.cos(np.pi * t))


_Window = tuple[float, float, float]  # centre x, centre y, width, in full-size photo pixels


def _lerp_window(start: _Window, end: _Window, p: float) -> _Window:
    (x0, y0, w0), (x1, y1, w1) = start, end
    return (x0 + (x1 - x0) * p, y0 + (y1 - y0) * p, w0 + (w1 - w0) * p)


def _render_window(image: np.ndarray, scale: float, window: _Window, size: tuple[int, int]) -> np.ndarray:
    """Render the crop window ``(cx, cy, w)`` of the full-size photo into ``size`` with sub-pixel precision.

    ``image`` is the photo pre-shrunk by ``scale`` with area averaging, so the bilinear warp never
    decimates much (which would alias) and windows move smoothly by fractions of a pixel.
    """
    import cv2

    out_w, out_h = size
    cx, cy, win_w = (v * scale for v in window)
    win_h = win_w * out_h / out_w
    zoom = out_w / win_w
    x0, y0 = cx - win_w / 2, cy - win_h / 2
    # Pixel centres: output pixel u samples source position x0 + (u + 0.5) / zoom - 0.5.
    matrix = np.array(
        [[zoom, 0.0, -zoom * (x0 - 0.5) - 0.5], [0.0, zoom, -zoom * (y0 - 0.5) - 0.5]], dtype=np.float64
    )
    return cv2.warpAffine(
        image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def _prescaled(image: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def _gif_progress() -> list[float]:
    """Camera progress (0..1) per GIF frame, with the hold run repeating one position exactly."""
    first, end = SAMPLE_GIF_HOLD
    repeats = end - first - 1
    positions = SAMPLE_GIF_FRAMES - repeats
    steps = [_ease(k / (positions - 1)) for k in range(positions)]
    return steps[: first + 1] + [steps[first]] * repeats + steps[first + 1 :]


def _gif_frames(t1: np.ndarray) -> list[np.ndarray]:
    scale = SAMPLE_GIF_SIZE[0] / _GIF_CAMERA_END[2]  # the tightest window maps 1:1
    small = _prescaled(t1, scale)
    frames: list[np.ndarray] = []
    previous: float | None = None
    for p in _gif_progress():
        if p == previous:
            frames.append(frames[-1])  # the same array: the hold is bit-identical
            continue
        frames.append(
            _render_window(small, scale, _lerp_window(_GIF_CAMERA_START, _GIF_CAMERA_END, p), SAMPLE_GIF_SIZE)
        )
        previous = p
    return frames


# ---------------------------------------------------------------------------------------------- writers


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temp file in the same folder, then rename: readers never see a partial file."""
    with atomic_output(path) as tmp:
        write(tmp)


def _write_source(path: Path, astronaut: np.ndarray) -> None:
    from PIL import Image

    x0, y0, x1, y1 = _SOURCE_CROP
    crop = np.ascontiguousarray(astronaut[y0:y1, x0:x1])
    Image.fromarray(crop).save(path, format="JPEG", quality=_SOURCE_JPEG_QUALITY, optimize=True)


def _write_gif(path: Path, t1: np.ndarray) -> None:
    """Encode the pan as a GIF with one global palette, the exact per-frame delays and the loop count.

    Pillow's ``save_all`` merges pixel-identical consecutive frames (adding their delays), which would
    erase the hold run; so the file is assembled from Pillow's own GIF header and frame encoders
    (``GifImagePlugin.getheader``/``getdata``).  The repeated frames of the hold are stored the way GIF
    optimisers store them: a 1x1 frame that redraws one unchanged pixel, so the decoded frames are
    identical while the file does not pay for them (and decoders must composite sub-canvas frames).
    One palette for all frames avoids palette flicker during the pan.
    """
    from PIL import GifImagePlugin, Image

    frames = _gif_frames(t1)
    # One palette from a spread of frames (all crops of one photo); median cut, no dithering: dithering
    # adds ~15 % to the size and crawls during a pan.
    stride = max(1, len(frames) // 8)
    mosaic = np.concatenate(frames[::stride], axis=0)
    palette_image = Image.fromarray(mosaic).quantize(_GIF_PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
    indexed = [Image.fromarray(f).quantize(palette=palette_image, dither=Image.Dither.NONE) for f in frames]

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fp:
            header, _ = GifImagePlugin.getheader(
                indexed[0], info={"loop": SAMPLE_GIF_LOOP, "duration": SAMPLE_GIF_DELAYS_MS[0]}
            )
            fp.writelines(header)
            for i, (image, delay) in enumerate(zip(indexed, SAMPLE_GIF_DELAYS_MS, strict=True)):
                repeat = i > 0 and frames[i] is frames[i - 1]
                patch = image.crop((0, 0, 1, 1)) if repeat else image
                # disposal 1 (keep): the 1x1 frame draws over the previous picture.
                fp.writelines(GifImagePlugin.getdata(patch, offset=(0, 0), duration=delay, disposal=1))
            fp.write(b";")

    _atomic_write(path, write)


def _video_frames(t1: np.ndarray) -> Iterator[np.ndarray]:
    scale = SAMPLE_VIDEO_SIZE[0] / _VIDEO_CAMERA_END[2]
    small = _prescaled(t1, scale)
    for i in range(SAMPLE_VIDEO_FRAMES):
        p = _ease(i / (SAMPLE_VIDEO_FRAMES - 1))
        yield _render_window(
            small, scale, _lerp_window(_VIDEO_CAMERA_START, _VIDEO_CAMERA_END, p), SAMPLE_VIDEO_SIZE
        )


def _chirp() -> np.ndarray:
    """A stereo logarithmic sweep as long as the video, faded at both ends (no clicks): float32 (2, n)."""
    rate = SAMPLE_VIDEO_AUDIO_RATE
    n = SAMPLE_VIDEO_FRAMES * rate // SAMPLE_VIDEO_FPS
    t = np.arange(n, dtype=np.float64) / rate
    duration = n / rate
    f0, f1 = _AUDIO_CHIRP_HZ
    k = np.log(f1 / f0) / duration
    phase = 2 * np.pi * f0 * (np.exp(k * t) - 1) / k
    envelope = np.minimum(1.0, np.minimum(t, duration - t) / _AUDIO_FADE_S)
    mono = 0.3 * np.sin(phase) * envelope
    return np.stack([mono, 0.8 * mono]).astype(np.float32)


def _write_video(path: Path, t1: np.ndarray) -> None:
    import av

    def write(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            video = container.add_stream("libx264", rate=SAMPLE_VIDEO_FPS)
            video.width, video.height = SAMPLE_VIDEO_SIZE
            video.pix_fmt = "yuv420p"
            frame_time_base = Fraction(1, SAMPLE_VIDEO_FPS)  # not video.time_base: the muxer changes it
            video.time_base = frame_time_base
            video.codec_context.options = {"crf": str(_VIDEO_CRF), "preset": "veryfast"}
            audio = container.add_stream("aac", rate=SAMPLE_VIDEO_AUDIO_RATE, layout="stereo")
            audio.bit_rate = 128_000

            for i, rgb in enumerate(_video_frames(t1)):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = i
                frame.time_base = frame_time_base
                container.mux(video.encode(frame))
            container.mux(video.encode(None))

            samples = _chirp()
            for start in range(0, samples.shape[1], _AUDIO_FRAME_SAMPLES):
                chunk = np.ascontiguousarray(samples[:, start : start + _AUDIO_FRAME_SAMPLES])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate = SAMPLE_VIDEO_AUDIO_RATE
                frame.pts = start
                frame.time_base = Fraction(1, SAMPLE_VIDEO_AUDIO_RATE)
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))

    _atomic_write(path, write)


# ---------------------------------------------------------------------------------------------- build


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _recipe_key(name: str, params: object, pixels: np.ndarray) -> str:
    """Identify one output's recipe: a change to the code version, parameters or input photo rebuilds it."""
    digest = hashlib.sha256()
    digest.update(json.dumps([_RECIPE_VERSION, name, params], sort_keys=True).encode())
    digest.update(str(pixels.shape).encode())
    digest.update(pixels.tobytes())
    return digest.hexdigest()


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _up_to_date(path: Path, key: str, manifest: dict) -> bool:
    entry = manifest.get(path.name)
    if not isinstance(entry, dict) or entry.get("key") != key or not path.is_file():
        return False
    return entry.get("sha256") == _sha256_file(path)


def build_samples(out_dir: Path, *, force: bool = False) -> SamplePaths:
    """Build the source photo, target GIF and video into ``out_dir``; skip outputs already up to date.

    ``force`` rebuilds everything.  Safe to call from several processes at once: every file (and the
    manifest) is written to a temp file and renamed into place.  Needs insightface and scikit-image
    (test extras) for the input photos, PyAV with libx264 and the native AAC encoder.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = SamplePaths(
        source=out_dir / SAMPLE_SOURCE_NAME, gif=out_dir / SAMPLE_GIF_NAME, video=out_dir / SAMPLE_VIDEO_NAME
    )
    astronaut, t1 = _astronaut_rgb(), _t1_rgb()
    gif_params = [
        SAMPLE_GIF_SIZE,
        SAMPLE_GIF_DELAYS_MS,
        SAMPLE_GIF_LOOP,
        SAMPLE_GIF_HOLD,
        _GIF_CAMERA_START,
        _GIF_CAMERA_END,
        _GIF_PALETTE_COLOURS,
    ]
    video_params = [
        SAMPLE_VIDEO_SIZE,
        SAMPLE_VIDEO_FPS,
        SAMPLE_VIDEO_FRAMES,
        SAMPLE_VIDEO_AUDIO_RATE,
        _VIDEO_CAMERA_START,
        _VIDEO_CAMERA_END,
        _VIDEO_CRF,
        _AUDIO_CHIRP_HZ,
        _AUDIO_FADE_S,
    ]
    jobs = [
        (
            paths.source,
            _recipe_key("source", [_SOURCE_CROP, _SOURCE_JPEG_QUALITY], astronaut),
            lambda p: _atomic_write(p, lambda tmp: _write_source(tmp, astronaut)),
        ),
        (paths.gif, _recipe_key("gif", gif_params, t1), lambda p: _write_gif(p, t1)),
        (paths.video, _recipe_key("video", video_params, t1), lambda p: _write_video(p, t1)),
    ]
    manifest_path = out_dir / _MANIFEST_NAME
    manifest = _read_manifest(manifest_path)
    changed = False
    for path, key, build in jobs:
        if force or not _up_to_date(path, key, manifest):
            build(path)
            manifest[path.name] = {"key": key, "sha256": _sha256_file(path)}
            changed = True
    if changed:
        text = json.dumps(manifest, indent=2, sort_keys=True)
        _atomic_write(manifest_path, lambda tmp: tmp.write_text(text))
    return paths
