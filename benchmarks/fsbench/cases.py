"""The benchmark's inputs, each with the truth of where its faces are.

- ``still``: the sample GIF's first frame as a PNG.
- ``sample_gif_default``: the same GIF with the hosted API's default request (face 0 only): the
  speed target's case, as the first benchmark measured it; no truth figures (one face selected).
- ``sample_gif``: the bundled sample GIF (a slow pan over ``t1``), GIF out; ``sample_apng``: the same
  input written as APNG, a lossless output where every changed pixel is the swap's doing.
- ``video``: the bundled sample video (mp4 with audio).
- ``long_gif``: ~300 frames, the sample GIF played forward and back (a ping-pong never repeats a
  frame at the turn) with a small brightness offset per pass: no frame equals the one before it
  except where the sample itself holds a picture, so the long GIF keeps the sample's share of
  identical-frame holds and costs what 300 real frames cost.
- ``blurdark_gif``, ``hd_group``, ``closeup``: the clips of :mod:`fsbench.clips`.

Every input is a known zoom and pan of the hand-annotated ``t1`` photo, so each case carries its
per-frame truth boxes (:mod:`fsbench.truth`) and selects every face that is ever visible:
"every visible selected face is swapped" can then be judged without trusting our detector.
Everything is built from photos that installed packages ship: a run needs no outside file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frameswap.errors import OptionsError
from fsbench.clips import CLIP_NAMES, build_clip, clip_spec, without_blur
from fsbench.rawmedia import fresh, read_gif, sha256_file, stamp, write_atomic, write_gif
from fsbench.truth import FrameTruth, faces_seen, sample_gif_truth, sample_video_truth

CASE_NAMES = ("still", "sample_gif", "sample_gif_default", "sample_apng", "video", "long_gif", *CLIP_NAMES)
GIF_CASES = ("sample_gif", "long_gif", "blurdark_gif")  # GIF in, GIF out
LONG_GIF_FRAMES = 300
_LONG_GIF_BRIGHTNESS = (0, 3, -3, 6, -6)  # grey levels added per pass (cycled)
_RECIPE = 1


@dataclass(frozen=True)
class BenchCase:
    """One input to benchmark: its file, the source photo whose face goes in, the output's suffix,
    per frame where the annotated faces are (None: no truth, the faces are then not judged), per
    frame whether the clip blurred it on purpose (empty: no frame is) and, for a clip that blurs
    frames, the same clip left sharp (for ``fsbench.quality.blur_ceiling``)."""

    name: str
    path: Path
    source: Path
    note: str
    output_suffix: str = ""  # "" keeps the input's format
    truth: tuple[FrameTruth, ...] | None = None
    blurred: tuple[bool, ...] = ()
    unblurred: Path | None = None

    @property
    def out_suffix(self) -> str:
        return self.output_suffix or self.path.suffix


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


def long_gif_truth(sample_truth: Sequence[FrameTruth], total: int = LONG_GIF_FRAMES) -> list[FrameTruth]:
    """The long GIF's truth: each frame shows the sample frame the ping-pong picks."""
    return [sample_truth[i] for _, i in ping_pong_order(len(sample_truth), total)]


def build_long_gif(sample_gif: Path, out: Path, total: int = LONG_GIF_FRAMES) -> Path:
    """The ~300-frame GIF (see the module docstring); rebuilt only when the sample or recipe changes."""
    key = json.dumps([_RECIPE, total, _LONG_GIF_BRIGHTNESS, sha256_file(sample_gif)])
    if fresh(out, key):
        return out
    frames, delays, loop = read_gif(sample_gif)
    shifted: dict[int, list[np.ndarray]] = {}
    out_frames, out_delays = [], []
    for pass_no, index in ping_pong_order(len(frames), total):
        delta = _LONG_GIF_BRIGHTNESS[pass_no % len(_LONG_GIF_BRIGHTNESS)]
        if delta not in shifted:
            shifted[delta] = [np.clip(f.astype(np.int16) + delta, 0, 255).astype(np.uint8) for f in frames]
        out_frames.append(shifted[delta][index])
        out_delays.append(delays[index])
    write_gif(out, out_frames, out_delays, loop)
    stamp(out, key)
    return out


def _still(sample_gif: Path, out: Path) -> Path:
    """The sample GIF's first frame as a PNG: a single picture with the same people."""
    from PIL import Image

    key = json.dumps([_RECIPE, "still", sha256_file(sample_gif)])
    if fresh(out, key):
        return out
    frames, _, _ = read_gif(sample_gif)
    write_atomic(out, lambda tmp: Image.fromarray(frames[0]).save(tmp, format="PNG"))
    stamp(out, key)
    return out


def build_cases(work_dir: Path, names: tuple[str, ...] = CASE_NAMES) -> list[BenchCase]:
    """Build (or reuse) the samples and the derived inputs under ``work_dir``; in ``names`` order."""
    from sample_recipe import SAMPLE_GIF_FRAMES, SAMPLE_GIF_SIZE, build_samples

    unknown = [n for n in names if n not in CASE_NAMES]
    if unknown:
        raise OptionsError(f"unknown benchmark case(s) {', '.join(unknown)}; use: {', '.join(CASE_NAMES)}")
    work_dir = Path(work_dir)
    inputs = work_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    samples = build_samples(work_dir / "samples")
    gif, src = samples.gif, samples.source
    gif_truth = tuple(sample_gif_truth())
    w, h = SAMPLE_GIF_SIZE
    gif_note = f"bundled sample GIF (slow pan), {SAMPLE_GIF_FRAMES} frames, {w}x{h}"

    def clip_case(name: str) -> BenchCase:
        spec = clip_spec(name)
        path = build_clip(spec, inputs / f"{name}{spec.suffix}")
        kind = "GIF" if spec.container == "gif" else "H.264 mp4"
        truth = tuple(spec.truth())
        note = f"{kind}, {len(truth)} frames, {spec.size[0]}x{spec.size[1]}, {len(faces_seen(truth))} faces"
        blurred = tuple(effect == "blur" for effect in spec.effects)
        unblurred = None
        if any(blurred):
            sharp = without_blur(spec)
            unblurred = build_clip(sharp, inputs / f"{sharp.name}{sharp.suffix}")
        return BenchCase(name, path, src, note, truth=truth, blurred=blurred, unblurred=unblurred)

    builders: dict[str, Callable[[], BenchCase]] = {
        "still": lambda: BenchCase("still", _still(gif, inputs / "still.png"), src,
                                   "first frame of the sample GIF, PNG", truth=gif_truth[:1]),
        "sample_gif": lambda: BenchCase("sample_gif", gif, src, gif_note, truth=gif_truth),
        "sample_gif_default": lambda: BenchCase("sample_gif_default", gif, src,
                                                f"{gif_note}, the hosted API's default request (face 0)"),
        "sample_apng": lambda: BenchCase("sample_apng", gif, src, "the sample GIF written as APNG (lossless)",
                                         output_suffix=".png", truth=gif_truth),
        "video": lambda: BenchCase("video", samples.video, src, "bundled sample video (mp4, audio)",
                                   truth=tuple(sample_video_truth())),
        "long_gif": lambda: BenchCase(
            "long_gif", build_long_gif(gif, inputs / "long.gif"), src,
            f"{LONG_GIF_FRAMES} frames: the sample GIF ping-ponged, brightness offset per pass",
            truth=tuple(long_gif_truth(gif_truth)),
        ),
        **{name: (lambda name=name: clip_case(name)) for name in CLIP_NAMES},
    }
    return [builders[name]() for name in names]
