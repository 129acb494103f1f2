"""Run a model over any number of items in the chunks its batch axis allows.

Why one helper: the ArcFace, inswapper and restorer wrappers all take N items while their ONNX
graphs declare the batch axis one of three ways, and each had its own copy of this loop. A
symbolic axis takes any count, so items go in chunks of ``max_batch`` (which bounds memory); an
axis fixed at ``k`` takes exactly ``k``, so the last chunk is padded with zeros and the padding's
outputs are dropped; an axis fixed at 1 (every known inswapper and GFPGAN/CodeFormer export) is
the same rule with ``k = 1``: one call per item, nothing padded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def run_in_chunks(
    call: Callable[..., np.ndarray],
    inputs: Sequence[np.ndarray],
    *,
    capacity: int | None,
    max_batch: int,
) -> np.ndarray:
    """``call(*chunk)`` over consecutive slices of ``inputs`` (arrays of one length N >= 1, cut
    together along axis 0), the results concatenated in order: N rows.

    ``capacity``: the graph's batch size, None when symbolic (chunks of ``max_batch``). ``call``
    returns one row per item it was given, padding included. An empty input is the caller's to
    answer: only it knows the shape of "no result".
    """
    count = len(inputs[0]) if inputs else 0
    if count == 0 or any(len(a) != count for a in inputs):
        raise ValueError(f"inputs must share one non-zero length, got {[len(a) for a in inputs]}")
    size = max(1, capacity if capacity is not None else max_batch)
    parts = []
    for start in range(0, count, size):
        chunk = [a[start : start + size] for a in inputs]
        real = len(chunk[0])
        if capacity is not None and real < capacity:
            chunk = [np.concatenate([a, np.zeros((capacity - real, *a.shape[1:]), a.dtype)]) for a in chunk]
        parts.append(np.asarray(call(*chunk))[:real])
    return np.concatenate(parts)
