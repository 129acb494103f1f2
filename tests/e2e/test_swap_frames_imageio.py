"""``FaceSwapper.swap_frames`` inside an imageio v3 pipeline: read a GIF, swap, write, read back."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np

from frameswap.options import SwapOptions

from .test_swap_samples import _outside_faces


def _runs(frames: list[np.ndarray], durations: list[int]) -> list[tuple[int, int]]:
    """(frames, milliseconds) of each run of identical neighbouring frames: what a viewer sees.

    Pillow, imageio's GIF writer, stores a run of identical frames as one frame holding the sum of
    their delays, so the timeline is compared run by run rather than frame by frame."""
    runs: list[tuple[int, int]] = []
    for i, (frame, ms) in enumerate(zip(frames, durations, strict=True)):
        if i and np.array_equal(frame, frames[i - 1]):
            runs[-1] = (runs[-1][0] + 1, runs[-1][1] + ms)
        else:
            runs.append((1, ms))
    return runs


def _durations(path, count: int) -> list[int]:
    """Each frame's delay in ms, from imageio's per-frame metadata (the file opened once)."""
    with iio.imopen(path, "r") as file:
        return [file.metadata(index=i)["duration"] for i in range(count)]


def test_imageio_gif_in_swapped_frames_out_with_the_same_timeline(samples, swapper, dlib_analyzer, tmp_path):
    meta = iio.immeta(samples.gif)
    frames = list(iio.imiter(samples.gif, mode="RGB"))
    durations = _durations(samples.gif, len(frames))
    assert len(set(durations)) > 1  # uneven delays, so a lost or shifted delay shows

    options = SwapOptions(engine="classic", input_faces_index="0,1")
    swapped = list(swapper.swap_frames(samples.source, iio.imiter(samples.gif, mode="RGB"), options=options))
    out = tmp_path / "out.gif"
    iio.imwrite(out, swapped, duration=durations, loop=meta["loop"])

    # one frame out for each in; pixels away from every face untouched; the faces replaced
    assert len(swapped) == len(frames)
    changed = 0
    for index in range(0, len(frames), 12):
        faces = dlib_analyzer.analyze([frames[index]], embed=False)[0]
        outside = _outside_faces(frames[index].shape, faces)
        assert outside.mean() > 0.2
        assert np.array_equal(swapped[index][outside], frames[index][outside])
        changed += int(np.any(swapped[index][~outside] != frames[index][~outside]))
    assert changed == len(range(0, len(frames), 12))

    # the written file, as imageio reads it back: the input's loop and timeline
    written = list(iio.imiter(out, mode="RGB"))
    written_ms = _durations(out, len(written))
    assert iio.immeta(out)["loop"] == meta["loop"]
    assert sum(written_ms) == sum(durations)
    assert [ms for _, ms in _runs(swapped, durations)] == written_ms
    assert [ms for _, ms in _runs(frames, durations)] == written_ms  # the holds stayed holds
