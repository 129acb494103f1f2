"""Mutated GIF bytes only ever raise frameswap errors: no crash, no hang, no other exception."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameswap.errors import FrameswapError
from frameswap.media import open_media
from frameswap.options import MediaLimits
from kit.media_builders import GifFrameSpec, hand_gif

_PAL = np.array([(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)], np.uint8)
SEED = hand_gif(
    6,
    5,
    [
        GifFrameSpec(np.arange(30, dtype=np.uint8).reshape(5, 6) % 4, delay_cs=3, disposal=1),
        GifFrameSpec(np.full((2, 3), 2, np.uint8), x=1, y=2, delay_cs=0, disposal=2, transparent=0),
        GifFrameSpec(np.full((2, 2), 3, np.uint8), x=4, y=4, delay_cs=9, disposal=3, palette=_PAL),
    ],
    global_palette=_PAL,
    loop=2,
)
LIMITS = MediaLimits(max_pixels_per_frame=512 * 512, max_frames=64)

edits = st.lists(
    st.tuples(
        st.integers(0, len(SEED) - 1), st.integers(0, 255), st.sampled_from(["set", "insert", "delete"])
    ),
    min_size=1,
    max_size=8,
)


def _mutate(data: bytes, ops) -> bytes:
    b = bytearray(data)
    for pos, value, op in ops:
        pos = min(pos, len(b) - 1) if b else 0
        if op == "set" and b:
            b[pos] = value
        elif op == "insert":
            b.insert(pos, value)
        elif b:
            del b[pos]
    return bytes(b)


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(ops=edits, cut=st.one_of(st.none(), st.integers(0, len(SEED))))
def test_mutated_gifs_raise_only_frameswap_errors(ops, cut):
    data = _mutate(SEED, ops)
    if cut is not None:
        data = data[:cut]
    try:
        with open_media(data, limits=LIMITS) as reader:
            for frame in reader.frames():
                assert frame.rgb.shape == (reader.info.height, reader.info.width, 3)
    except FrameswapError:
        pass
