"""The benchmark's inputs: a still, the sample GIF, the sample video and a long (~300 frame) GIF.

Everything is built from the bundled samples (``frameswap.testing.samples``), so a benchmark run
needs no file from outside the packages. The long GIF is the sample GIF played forward and back
(a ping-pong never repeats a frame at the turn) with a small brightness offset per pass: no frame
equals the one before it except where the sample itself holds a picture, so the long GIF keeps the
sample's share of identical-frame holds and costs what 300 real frames cost (nothing is
short-circuited by the identical-run dedupe that a plain repetition would trigger at each joint).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frameswap.errors import OptionsError

CASE_NAMES = ("still", "sample_gif", "video", "long_gif")
LONG_GIF_FRAMES = 300
_LONG_GIF_BRIGHTNESS = (0, 3, -3, 6, -6)  # grey levels added per pass (cycled)
_MIN_GIF = (48, 480)  # the floor for the sample GIF case: frames, width
_RECIPE = 1


@dataclass(frozen=True)
class BenchCase:
    """One input to benchmark: its name, file, and the source photo whose face goes in."""

    name: str
    path: Path
    source: Path
    note: str


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fresh(path: Path, key: str) -> bool:
    stamp = path.with_suffix(path.suffix + ".key")
    return path.is_file() and stamp.is_file() and stamp.read_text() == key


def _stamp(path: Path, key: str) -> None:
    path.with_suffix(path.suffix + ".key").write_text(key)


def _gif_frames(path: Path) -> tuple[list[np.ndarray], list[int], int]:
    """RGB frames, delays (ms) and loop of a GIF, decoded with Pillow (independent of frameswap.media)."""
    from PIL import Image, ImageSequence

    frames, delays = [], []
    with Image.open(path) as image:
        loop = int(image.info.get("loop", 0))
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGB")).copy())
            delays.append(int(frame.info.get("duration", 100)))
    return frames, delays, loop


def _write_gif(path: Path, frames: list[np.ndarray], delays: list[int], loop: int) -> None:
    """One global palette, one full frame per GIF frame, exact delays (Pillow would merge holds)."""
    from PIL import GifImagePlugin, Image

    stride = max(1, len(frames) // 8)
    mosaic = np.concatenate(frames[::stride], axis=0)
    palette = Image.fromarray(mosaic).quantize(256, method=Image.Quantize.MEDIANCUT)
    dither = Image.Dither.FLOYDSTEINBERG
    indexed = [Image.fromarray(f).quantize(palette=palette, dither=dither) for f in frames]

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fp:
            header, _ = GifImagePlugin.getheader(indexed[0], info={"loop": loop, "duration": delays[0]})
            fp.writelines(header)
            for image, delay in zip(indexed, delays, strict=True):
                fp.writelines(GifImagePlugin.getdata(image, offset=(0, 0), duration=delay))
            fp.write(b";")

    _atomic(path, write)


def ping_pong_order(n: int, total: int) -> list[tuple[int, int]]:
    """(pass number, source frame index) for ``total`` frames bouncing over ``n`` frames.

    The turn never shows a frame twice in a row: 0..n-1, n-2..0, 1..n-1, ...
    """
    if n < 2:
        raise OptionsError("a ping-pong needs at least 2 frames")
    order: list[tuple[int, int]] = []
    index, step, pass_no = 0, 1, 0
    while len(order) < total:
        order.append((pass_no, index))
        if not 0 <= index + step < n:
            step, pass_no = -step, pass_no + 1
        index += step
    return order


def build_long_gif(sample_gif: Path, out: Path, total: int = LONG_GIF_FRAMES) -> Path:
    """The ~300-frame GIF (see the module docstring); rebuilt only when the sample or recipe changes."""
    key = json.dumps([_RECIPE, total, _LONG_GIF_BRIGHTNESS, _sha(sample_gif)])
    if _fresh(out, key):
        return out
    frames, delays, loop = _gif_frames(sample_gif)
    shifted: dict[int, list[np.ndarray]] = {}
    out_frames, out_delays = [], []
    for pass_no, index in ping_pong_order(len(frames), total):
        delta = _LONG_GIF_BRIGHTNESS[pass_no % len(_LONG_GIF_BRIGHTNESS)]
        if delta not in shifted:
            shifted[delta] = [np.clip(f.astype(np.int16) + delta, 0, 255).astype(np.uint8) for f in frames]
        out_frames.append(shifted[delta][index])
        out_delays.append(delays[index])
    _write_gif(out, out_frames, out_delays, loop)
    _stamp(out, key)
    return out


def _enlarge_gif(sample_gif: Path, out: Path) -> Path:
    """Only when the bundled sample is under 48 frames or 480 px: scale it up and ping-pong it."""
    import cv2

    key = json.dumps([_RECIPE, "enlarge", _MIN_GIF, _sha(sample_gif)])
    if _fresh(out, key):
        return out
    frames, delays, loop = _gif_frames(sample_gif)
    h, w = frames[0].shape[:2]
    if w < _MIN_GIF[1]:
        size = (_MIN_GIF[1], round(h * _MIN_GIF[1] / w))
        frames = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in frames]
    order = ping_pong_order(len(frames), max(_MIN_GIF[0], len(frames)))
    _write_gif(out, [frames[i] for _, i in order], [delays[i] for _, i in order], loop)
    _stamp(out, key)
    return out


def _still(sample_gif: Path, out: Path) -> Path:
    """The sample GIF's first frame as a PNG: a single picture with the same people."""
    from PIL import Image

    key = json.dumps([_RECIPE, "still", _sha(sample_gif)])
    if _fresh(out, key):
        return out
    frames, _, _ = _gif_frames(sample_gif)
    _atomic(out, lambda tmp: Image.fromarray(frames[0]).save(tmp, format="PNG"))
    _stamp(out, key)
    return out


def build_cases(work_dir: Path, names: tuple[str, ...] = CASE_NAMES) -> list[BenchCase]:
    """Build (or reuse) the samples and the derived inputs under ``work_dir``; in ``names`` order."""
    from frameswap.testing.samples import build_samples

    unknown = [n for n in names if n not in CASE_NAMES]
    if unknown:
        raise OptionsError(f"unknown benchmark case(s) {', '.join(unknown)}; use: {', '.join(CASE_NAMES)}")
    work_dir = Path(work_dir)
    inputs = work_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    samples = build_samples(work_dir / "samples")
    frames, _, _ = _gif_frames(samples.gif)
    gif = samples.gif
    gif_note = f"bundled sample GIF, {len(frames)} frames, {frames[0].shape[1]}x{frames[0].shape[0]}"
    if len(frames) < _MIN_GIF[0] or frames[0].shape[1] < _MIN_GIF[1]:
        gif = _enlarge_gif(samples.gif, inputs / "sample_gif_enlarged.gif")
        gif_note = f"the bundled sample GIF enlarged to >= {_MIN_GIF[1]} px and >= {_MIN_GIF[0]} frames"
    builders: dict[str, Callable[[], BenchCase]] = {
        "still": lambda: BenchCase(
            "still", _still(gif, inputs / "still.png"), samples.source, "first frame of the sample GIF, PNG"
        ),
        "sample_gif": lambda: BenchCase("sample_gif", gif, samples.source, gif_note),
        "video": lambda: BenchCase(
            "video", samples.video, samples.source, "bundled sample video (mp4, audio)"
        ),
        "long_gif": lambda: BenchCase(
            "long_gif",
            build_long_gif(gif, inputs / "long.gif"),
            samples.source,
            f"{LONG_GIF_FRAMES} frames: the sample GIF ping-ponged, brightness offset per pass",
        ),
    }
    return [builders[name]() for name in names]
