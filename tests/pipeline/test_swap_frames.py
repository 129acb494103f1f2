"""``swap_frames``: the pipeline over caller-held arrays, against ``run_swap`` on the same frames."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from frameswap.errors import FaceIndexError, OptionsError, UnsupportedMediaError
from frameswap.options import SwapOptions, TrackerOptions
from frameswap.pipeline import Models, run_swap
from frameswap.pipeline.run import swap_frames
from frameswap.testing.fakes import PaintEngine, SquareAnalyzer, draw

from .test_run import (
    DELAYS_MS,
    SIZE,
    SOURCE_ID,
    TRACK,
    A,
    painted_identity,
    read_frames,
    save_apng,
    source_png,
)


def models() -> Models:
    return Models(analyzer=SquareAnalyzer(), engine=PaintEngine())


def clip_frames() -> list[np.ndarray]:
    return [draw(SIZE, squares) for squares in TRACK]


@pytest.mark.parametrize(
    "options",
    [
        SwapOptions(input_faces_index="0,1", batch_size=2),
        SwapOptions(input_faces_index="1", tracker=TrackerOptions(detect_every=1), batch_size=4),
        SwapOptions(reference_frame=5),  # two passes: the list is read twice
    ],
    ids=["streaming", "detect-every-frame", "reference-frame"],
)
def test_output_equals_swap_on_the_same_frames(tmp_path: Path, options: SwapOptions):
    frames = clip_frames()
    target = save_apng(frames, DELAYS_MS, tmp_path / "clip.png")  # lossless: swap's output reads back exact
    result = run_swap(models(), source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png", options)
    expected, _ = read_frames(result.path)
    got = list(swap_frames(models(), source_png([(40, SOURCE_ID)]), frames, options))
    assert len(got) == len(frames)
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.uint8 and np.array_equal(g, e)
    assert any(not np.array_equal(g, f) for g, f in zip(got, frames, strict=True))  # faces were swapped


def test_reads_lazily_a_bounded_number_of_frames_ahead():
    """A generator in, a generator out: the first frame comes out long before the input ends, and
    at no point is more than two batches of input held back."""
    pulled = 0
    count, batch = 60, 4

    def frames() -> Iterator[np.ndarray]:
        nonlocal pulled
        for i in range(count):
            pulled += 1
            yield draw(SIZE, TRACK[i % 3])

    out = swap_frames(models(), source_png([(40, SOURCE_ID)]), frames(), SwapOptions(batch_size=batch))
    assert pulled == 0  # nothing read until the first frame is asked for
    ahead = []
    for n, rgb in enumerate(out, start=1):
        ahead.append(pulled - n)
        x, y, side, ident = TRACK[(n - 1) % 3][0]
        assert ident == A and painted_identity(rgb, x, y, side) == (SOURCE_ID, 255)
    assert n == count
    assert ahead[0] < count - 1 and max(ahead) <= 2 * batch


def test_a_reused_input_buffer_and_repeated_frames_give_independent_outputs():
    """Callers that fill one buffer again and again (a camera grabber) get the same frames out as
    with fresh arrays; a repeated frame's output is a frame of its own, not the previous object."""
    frames = clip_frames()
    buffer = np.empty_like(frames[0])

    def reused() -> Iterator[np.ndarray]:
        for f in frames:
            buffer[...] = f
            yield buffer

    options = SwapOptions(input_faces_index="0,1", batch_size=3)
    expected = list(swap_frames(models(), source_png([(40, SOURCE_ID)]), frames, options))
    got = list(swap_frames(models(), source_png([(40, SOURCE_ID)]), reused(), options))
    assert all(np.array_equal(g, e) for g, e in zip(got, expected, strict=True))
    assert np.array_equal(got[2], got[3]) and got[2] is not got[3]  # TRACK[3] repeats TRACK[2]
    assert len({id(g) for g in got}) == len(got)


def test_a_source_array_is_the_photo_itself():
    import io

    from PIL import Image

    png = source_png([(40, SOURCE_ID)])
    array = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    frames = clip_frames()
    by_bytes = list(swap_frames(models(), png, frames, SwapOptions()))
    by_array = list(swap_frames(models(), array, frames, SwapOptions()))
    assert all(np.array_equal(a, b) for a, b in zip(by_array, by_bytes, strict=True))


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        (np.zeros((96, 160, 4), np.uint8), "drop the alpha channel"),
        (np.zeros((96, 160, 3), np.float32), "float32"),
        (np.zeros((96, 160), np.uint8), "(96, 160)"),
    ],
    ids=["rgba", "float", "grey"],
)
def test_a_frame_that_is_not_rgb_uint8_is_refused_by_its_number(bad, needle):
    frames = [*clip_frames()[:2], bad]
    with pytest.raises(UnsupportedMediaError, match="frame 2") as info:
        list(swap_frames(models(), source_png([(40, SOURCE_ID)]), frames, SwapOptions()))
    assert needle in str(info.value)


def test_errors_known_at_the_call_are_raised_at_the_call():
    frames = iter(clip_frames())
    with pytest.raises(FaceIndexError, match="1 face found in the source"):
        swap_frames(models(), source_png([(40, SOURCE_ID)]), frames, SwapOptions(source_faces_index="1"))
    with pytest.raises(OptionsError, match="pass them as a list"):
        swap_frames(models(), source_png([(40, SOURCE_ID)]), frames, SwapOptions(reference_frame=0))
    assert len(list(frames)) == len(TRACK)  # nothing was read


def test_an_index_nobody_takes_fails_at_the_end():
    options = SwapOptions(input_faces_index="2")
    out = swap_frames(models(), source_png([(40, SOURCE_ID)]), clip_frames(), options)
    with pytest.raises(FaceIndexError, match="2 faces found in the target"):
        list(out)
