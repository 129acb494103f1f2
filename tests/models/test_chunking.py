"""The one chunking rule of the ONNX wrappers: every item once, in order, in chunks the axis takes."""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.models.chunking import run_in_chunks


class Recorder:
    """A fake model that sees its whole feed: out[i] = 10 * x[i] + y[i], row by row (a per-item
    map, so any reordering, loss or duplication of items shows in the result)."""

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self.feeds: list[tuple[np.ndarray, np.ndarray]] = []

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        assert len(x) == len(y)
        if self.capacity is not None:
            assert len(x) == self.capacity  # a fixed batch axis takes exactly its size
        self.feeds.append((x.copy(), y.copy()))
        return 10.0 * x + y


@pytest.mark.parametrize(
    ("count", "capacity", "max_batch", "calls"),
    [
        (7, None, 3, [3, 3, 1]),  # symbolic axis: chunks of max_batch
        (7, None, 64, [7]),  # symbolic axis, all at once
        (5, 1, 64, [1, 1, 1, 1, 1]),  # fixed at 1: one call per item
        (7, 4, 64, [4, 4]),  # fixed at 4: the last chunk padded
        (8, 4, 2, [4, 4]),  # a fixed axis wins over max_batch
    ],
)
def test_every_item_once_in_order_in_chunks_the_axis_takes(count, capacity, max_batch, calls):
    rng = np.random.default_rng(count)
    x = rng.normal(size=(count, 2, 3)).astype(np.float32)
    y = rng.normal(size=(count, 2, 3)).astype(np.float32)
    model = Recorder(capacity)
    out = run_in_chunks(model, [x, y], capacity=capacity, max_batch=max_batch)
    np.testing.assert_array_equal(out, 10.0 * x + y)  # the per-item map applied to all, nothing else
    assert [len(fx) for fx, _ in model.feeds] == calls
    fed = np.concatenate([fx for fx, _ in model.feeds])
    real = len(x)
    np.testing.assert_array_equal(fed[:real], x)
    assert not fed[real:].any()  # the padding is zeros, and its outputs were dropped above


def test_inputs_of_different_lengths_or_none_are_refused():
    with pytest.raises(ValueError, match="one non-zero length"):
        run_in_chunks(Recorder(None), [np.zeros((3, 2)), np.zeros((2, 2))], capacity=None, max_batch=4)
    with pytest.raises(ValueError, match="one non-zero length"):
        run_in_chunks(Recorder(None), [np.zeros((0, 2)), np.zeros((0, 2))], capacity=None, max_batch=4)
