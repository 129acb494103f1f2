"""Benchmark inputs written, and outputs read back, with Pillow and PyAV directly.

Never through ``frameswap.media``: the benchmark judges that layer (its GIF writer, its timing),
so its inputs and its pixel figures must come from an independent reference. Inputs are cached
under a recipe key (rebuilt only when the key changes) and written atomically, so parallel runs
and an interrupted build never leave a half file under the final name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from frameswap.atomic import atomic_output

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256_pixels(pixels: np.ndarray) -> str:
    """Identify an input photo by its pixels, so a package update that changes it rebuilds the clips."""
    return hashlib.sha256(str(pixels.shape).encode() + pixels.tobytes()).hexdigest()


def fresh(path: Path, key: str) -> bool:
    """Whether ``path`` was built from the recipe ``key`` (see :func:`stamp`)."""
    stamp_path = path.with_suffix(path.suffix + ".key")
    return path.is_file() and stamp_path.is_file() and stamp_path.read_text() == key


def stamp(path: Path, key: str) -> None:
    """Record the recipe key ``path`` was built from (after the file itself is in place)."""
    with atomic_output(path.with_suffix(path.suffix + ".key")) as tmp:
        tmp.write_text(key)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    with atomic_output(path) as tmp:
        write(tmp)


def read_gif(path: Path) -> tuple[list[np.ndarray], list[int], int]:
    """RGB frames, delays (ms) and loop count of a GIF, decoded (and composited) by Pillow."""
    from PIL import Image, ImageSequence

    frames, delays = [], []
    with Image.open(path) as image:
        loop = int(image.info.get("loop", 0))
        for frame in ImageSequence.Iterator(image):
            frames.append(np.asarray(frame.convert("RGB")).copy())
            delays.append(int(frame.info.get("duration", 100)))
    return frames, delays, loop


def iter_rgb(path: Path) -> Iterator[np.ndarray]:
    """Every displayed frame of a still, animation or video as RGB uint8: PyAV for videos, Pillow
    for the rest (it composites GIF/APNG/WebP sub-rectangles and disposal itself)."""
    path = Path(path)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        import av

        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
        return
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        for frame in ImageSequence.Iterator(image):
            yield np.asarray(frame.convert("RGB")).copy()


def write_gif(path: Path, frames: list[np.ndarray], delays: list[int], loop: int, *,
              colours: int = 256, dither: bool = True) -> None:
    """One global palette (from a spread of the frames), one full frame per GIF frame, exact delays.

    Assembled from Pillow's own header and frame encoders because ``save_all`` merges identical
    consecutive frames (adding their delays), which would change the clip's frame count.
    """
    from PIL import GifImagePlugin, Image

    stride = max(1, len(frames) // 8)
    mosaic = np.concatenate(frames[::stride], axis=0)
    palette = Image.fromarray(mosaic).quantize(colours, method=Image.Quantize.MEDIANCUT)
    mode = Image.Dither.FLOYDSTEINBERG if dither else Image.Dither.NONE
    indexed = [Image.fromarray(f).quantize(palette=palette, dither=mode) for f in frames]

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fp:
            header, _ = GifImagePlugin.getheader(indexed[0], info={"loop": loop, "duration": delays[0]})
            fp.writelines(header)
            for image, delay in zip(indexed, delays, strict=True):
                fp.writelines(GifImagePlugin.getdata(image, offset=(0, 0), duration=delay))
            fp.write(b";")

    write_atomic(path, write)


def write_h264(path: Path, frames: Iterable[np.ndarray], fps: int, *, crf: int = 18) -> None:
    """An H.264 mp4 (yuv420p, no audio) with frame i at i / fps exactly."""
    import av

    def write(tmp: Path) -> None:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps)
            time_base = Fraction(1, fps)
            stream.time_base = time_base
            stream.pix_fmt = "yuv420p"
            stream.codec_context.options = {"crf": str(crf), "preset": "veryfast"}
            for i, rgb in enumerate(frames):
                if i == 0:
                    stream.height, stream.width = rgb.shape[:2]
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                frame.pts, frame.time_base = i, time_base
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))

    write_atomic(path, write)
