"""Pixel figures of a swapped output against its input and the truth boxes, with no detector in the loop.

Pure functions (arrays and boxes in, numbers out) and :class:`PixelFigures`, which adds them up
over a clip one frame at a time (a 720p clip never has to sit in memory three times over).

- Coverage: a visible face counts as swapped in a frame when the output differs from the input
  over the *inner* part of its truth box (the central 60 % of each side: inside the face whatever
  mask the engine paints) by more than :func:`swap_threshold`. Mean |difference| over all channels
  of a region, not a pixel count, so codec noise (small, everywhere) cannot add up to a swap while a
  repainted face (another person's eyes, brows and mouth: tens of grey levels) clears it easily.
  The threshold is the larger of a fixed floor and 3x the codec noise measured on the very same
  face and frame in the floor output (the input decoded and re-encoded by the same writer, no face
  touched): a lossy video's re-encoding noise then raises the bar exactly where it is noisy.
- Outside change: pixels outside every face box grown by 25 % (width and height x1.25 about the
  centre; faces the frame edge cuts count too) that differ from the input at all. As a share of all
  changed pixels (for lossless outputs: every change is the swap's) and of all outside pixels (for
  GIF→GIF: a writer that re-quantises the whole frame shows up here).
- Flicker: mean |frame-to-frame change| inside the boxes of faces swapped in both frames, output
  over input, skipping pairs where the input frame repeats (a pan's motion is in both; what the
  swap adds on top is the excess over 1).
- Colour: CIE76 ΔE between the mean CIELAB colour of each swapped face's central half in the
  output and in the input: whether the new face keeps the old one's skin tone and light.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fsbench.truth import Box, FrameTruth

INNER_SHARE = 0.6  # coverage looks at the central 60 % of each side of a face box
CENTRE_SHARE = 0.5  # colour looks at the central half of each side
GROW = 1.25  # the outside region starts beyond the face boxes grown by 25 %
# Mean |difference| over a face's inner box, grey levels (0-255), above which a face counts as
# swapped. Measured on the benchmark's outputs: re-encoding alone (the floor) changes a face's inner
# box by 0 (our GIF and APNG writers keep untouched pixels) to 1.4-2.2 levels (H.264); the weakest
# real swap seen, a faint low-contrast blend on a tilted three-quarter face, by 6.9; a clear swap by
# 15-35. So 5 levels, raised to 2.5x the floor's noise on that face and frame where the codec is
# noisier: above any re-encode, below any swap a viewer would notice.
SWAP_MIN_LEVELS = 5.0
SWAP_NOISE_FACTOR = 2.5


def scale_box(box: Box, factor: float) -> Box:
    """``box`` with width and height times ``factor``, about its centre."""
    x0, y0, x1, y1 = box
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * factor / 2, (y1 - y0) * factor / 2
    return (cx - hw, cy - hh, cx + hw, cy + hh)


def box_slices(box: Box, shape: Sequence[int]) -> tuple[slice, slice] | None:
    """Row and column slices of the pixels whose centres lie inside ``box``, clipped to an image of
    ``shape``; None when no pixel is left."""
    h, w = shape[0], shape[1]
    x0, y0, x1, y1 = (round(v) for v in box)
    x0, x1, y0, y1 = max(0, x0), min(w, x1), max(0, y0), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    return slice(y0, y1), slice(x0, x1)


def mean_abs_diff(a: np.ndarray, b: np.ndarray, box: Box) -> float | None:
    """Mean |a - b| over ``box`` and all channels, in grey levels; None for an empty box."""
    cut = box_slices(box, a.shape)
    if cut is None:
        return None
    return float(np.abs(a[cut].astype(np.int16) - b[cut].astype(np.int16)).mean())


def swap_threshold(noise: float | None) -> float:
    """Inner-box change that counts as a swap, given the codec noise there (None: not measured)."""
    return max(SWAP_MIN_LEVELS, SWAP_NOISE_FACTOR * (noise or 0.0))


def changed_mask(a: np.ndarray, b: np.ndarray, tolerance: int = 0) -> np.ndarray:
    """Pixels where any channel differs by more than ``tolerance`` grey levels."""
    return (np.abs(a.astype(np.int16) - b.astype(np.int16)) > tolerance).any(axis=-1)


def outside_mask(shape: Sequence[int], boxes: Sequence[Box], grow: float = GROW) -> np.ndarray:
    """True outside every box grown by ``grow``."""
    mask = np.ones((shape[0], shape[1]), bool)
    for box in boxes:
        cut = box_slices(scale_box(box, grow), shape)
        if cut is not None:
            mask[cut] = False
    return mask


def mean_lab(rgb: np.ndarray, box: Box) -> np.ndarray | None:
    """Mean CIELAB colour (L 0-100, D65 white, sRGB input) of the pixels inside ``box``."""
    import cv2

    cut = box_slices(box, rgb.shape)
    if cut is None:
        return None
    lab = cv2.cvtColor(np.ascontiguousarray(rgb[cut]).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return lab.reshape(-1, 3).mean(axis=0).astype(np.float64)


def cie76(lab_a: np.ndarray, lab_b: np.ndarray) -> float:
    """CIE76 colour difference: the Euclidean distance in CIELAB (2.3 is a just noticeable one)."""
    return float(np.linalg.norm(np.asarray(lab_a, np.float64) - np.asarray(lab_b, np.float64)))


def frame_change(prev: np.ndarray, cur: np.ndarray, boxes: Sequence[Box]) -> tuple[float, int]:
    """Sum of |cur - prev| (all channels) inside the union of ``boxes``, and the values summed."""
    mask = ~outside_mask(cur.shape, boxes, 1.0)
    diff = np.abs(cur.astype(np.int16) - prev.astype(np.int16))[mask]
    return float(diff.sum()), int(diff.size)


class PixelFigures:
    """Adds up the figures of the module docstring over a clip; feed frames in order with :meth:`add`."""

    def __init__(self) -> None:
        self.frames = 0
        self.visible: dict[int, int] = {}
        self.swapped: dict[int, int] = {}
        self.missed: list[tuple[int, int]] = []  # (frame, face)
        self.thresholds: list[float] = []
        self.noises: list[float] = []
        self.changed = self.changed_outside = self.outside = 0
        self.flicker_out = self.flicker_in = 0.0
        self.flicker_pairs = 0
        self.delta_e: list[float] = []
        self._prev: tuple[np.ndarray, np.ndarray, dict[int, Box]] | None = None

    def add(self, truth: FrameTruth, original: np.ndarray, output: np.ndarray,
            floor: np.ndarray | None = None) -> None:
        """One frame: the input as decoded, the swap's output and (optional) the floor's re-encode."""
        index = self.frames
        self.frames += 1
        swapped_boxes: dict[int, Box] = {}
        for face in truth.visible():
            box = truth.boxes[face]
            inner = scale_box(box, INNER_SHARE)
            change = mean_abs_diff(original, output, inner)
            noise = mean_abs_diff(original, floor, inner) if floor is not None else None
            threshold = swap_threshold(noise)
            self.thresholds.append(threshold)
            if noise is not None:
                self.noises.append(noise)
            self.visible[face] = self.visible.get(face, 0) + 1
            if change is not None and change > threshold:
                self.swapped[face] = self.swapped.get(face, 0) + 1
                swapped_boxes[face] = box
                centre = scale_box(box, CENTRE_SHARE)
                lab_out, lab_in = mean_lab(output, centre), mean_lab(original, centre)
                if lab_out is not None and lab_in is not None:
                    self.delta_e.append(cie76(lab_out, lab_in))
            else:
                self.missed.append((index, face))
        changed = changed_mask(original, output)
        outside = outside_mask(original.shape, [truth.boxes[i] for i in truth.present()])
        self.changed += int(changed.sum())
        self.changed_outside += int((changed & outside).sum())
        self.outside += int(outside.sum())
        if self._prev is not None:
            prev_in, prev_out, prev_swapped = self._prev
            both = [b for f, b in swapped_boxes.items() if f in prev_swapped]
            if both and not np.array_equal(prev_in, original):
                out_sum, n = frame_change(prev_out, output, both)
                in_sum, _ = frame_change(prev_in, original, both)
                self.flicker_out += out_sum / max(n, 1)
                self.flicker_in += in_sum / max(n, 1)
                self.flicker_pairs += 1
        self._prev = (original, output, swapped_boxes)

    def figures(self) -> dict[str, Any]:
        """The JSON-ready figures (None where nothing could be measured)."""
        rates = {f: self.swapped.get(f, 0) / n for f, n in sorted(self.visible.items())}
        return {
            "truth_frames": self.frames,
            "swap_coverage_min": round(min(rates.values()), 4) if rates else None,
            "swap_coverage": {str(f): round(r, 4) for f, r in rates.items()},
            "swap_visible_face_frames": sum(self.visible.values()),
            "swap_missed": [list(m) for m in self.missed[:40]],
            "swap_threshold_levels": _median(self.thresholds),
            "codec_noise_levels": _median(self.noises),
            "outside_share_of_changed": _ratio(self.changed_outside, self.changed, 5),
            "outside_differ_share": _ratio(self.changed_outside, self.outside, 5),
            "flicker_pairs": self.flicker_pairs,
            "flicker_ratio": _ratio(self.flicker_out, self.flicker_in, 3),
            "centre_delta_e": round(float(np.mean(self.delta_e)), 3) if self.delta_e else None,
        }


def _ratio(part: float, whole: float, digits: int) -> float | None:
    return round(part / whole, digits) if whole else None


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 3) if values else None


def measure_pixels(truth: Sequence[FrameTruth], target: Path, output: Path,
                   floor: Path | None = None) -> dict[str, Any]:
    """:class:`PixelFigures` of a whole output, every frame decoded with Pillow/PyAV (never with the
    media layer under test); also the output's size over the input's. Frames past the shortest of
    the files are not compared (the timing figures report a count mismatch)."""
    from fsbench.rawmedia import VIDEO_SUFFIXES, iter_rgb

    figures = PixelFigures()
    floors = iter_rgb(floor) if floor is not None else itertools.repeat(None)
    for frame_truth, original, swapped, floor_rgb in zip(
        truth, iter_rgb(target), iter_rgb(output), floors, strict=False
    ):
        figures.add(frame_truth, original, swapped, floor_rgb)
    out = figures.figures()
    if output.suffix.lower() in VIDEO_SUFFIXES:
        # a lossy codec re-encodes every pixel: "differs from the input at all" says nothing there
        out["outside_share_of_changed"] = out["outside_differ_share"] = None
    out["size_ratio"] = round(output.stat().st_size / target.stat().st_size, 4)
    return out
