"""Issue 11 items 4 and 6: hostile media costs bounded work and fails as a frameswap error.

The regression files are built here (a few KB each), never committed: the small-canvas GIF of the
report (huge logical screen, thousands of 1x1 frames), a Matroska file whose title is not UTF-8,
and one whose codec id FFmpeg does not know. The fuzz test keeps mutating small video containers.
"""

from __future__ import annotations

import io
import struct
import tracemalloc

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frameswap.errors import MediaError, MediaLimitError, UnsupportedMediaError
from frameswap.media import open_media
from frameswap.options import MediaLimits


def small_canvas_gif(width: int, height: int, frames: int) -> bytes:
    """A ``width`` x ``height`` logical screen with ``frames`` 1x1 image blocks (the issue's attack)."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\0\0\0\xff\xff\xff")
    for i in range(frames):
        out += b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # graphic control: 20 ms
        out += b"\x2c" + struct.pack("<HHHHB", i % width, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return bytes(out + b"\x3b")


def test_small_canvas_gif_is_refused_from_its_headers():
    data = small_canvas_gif(4096, 4096, 2999)
    assert len(data) < 70_000  # the attack file is tiny: no byte or per-frame limit catches it
    limits = MediaLimits(
        max_pixels_per_frame=4096 * 4096, max_frames=3000, max_pixel_frames=1920 * 1080 * 2000
    )
    with pytest.raises(MediaLimitError, match="pixel-frames"):
        open_media(data, limits=limits)  # only the block structure is walked: nothing is decoded


def test_pixel_frame_budget_admits_what_fits():
    data = small_canvas_gif(64, 64, 10)
    with open_media(data, limits=MediaLimits(max_pixel_frames=64 * 64 * 10)) as reader:
        assert sum(1 for _ in reader.frames()) == 10
    with pytest.raises(MediaLimitError):
        open_media(data, limits=MediaLimits(max_pixel_frames=64 * 64 * 10 - 1))


def _peak_bytes_decoding(data: bytes) -> int:
    tracemalloc.start()
    try:
        with open_media(data) as reader:
            for frame in reader.frames():
                assert frame.rgb.shape == (256, 256, 3)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gif_decoding_memory_does_not_grow_with_frames():
    """Frames are composited one at a time on one canvas: 20x the frames, about the same peak."""
    few = _peak_bytes_decoding(small_canvas_gif(256, 256, 20))
    many = _peak_bytes_decoding(small_canvas_gif(256, 256, 400))
    assert many < few * 1.5 + 256 * 256 * 8, (few, many)


def _mkv(title: str = "clip", frames: int = 3, container_format: str = "matroska") -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_format) as container:
        container.metadata["title"] = title
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def test_video_with_non_utf8_metadata_still_decodes():
    """PyAV raised UnicodeDecodeError from av.open (a 500 on the server); the video itself is fine."""
    data = _mkv("ZZTITLEZZ")
    at = data.index(b"ZZTITLEZZ")
    data = data[:at] + b"\xff\xfe\xfd\xfcTITLE" + data[at + 9 :]
    with open_media(data) as reader:
        greys = [int(np.median(frame.rgb)) for frame in reader.frames()]
    assert reader.info.frame_count == 3
    assert greys == pytest.approx([0, 40, 80], abs=6)


def test_video_with_an_unknown_codec_is_unsupported():
    """``codec_context`` was None and ``.width`` raised AttributeError (a 500 on the server)."""
    data = _mkv()
    at = data.index(b"V_MPEG4/ISO/ASP")
    data = data[:at] + b"V_XXXXX/ISO/ASP" + data[at + 15 :]
    with pytest.raises(UnsupportedMediaError):
        open_media(data)


SEEDS = {"mkv": _mkv(frames=4), "mp4": _mkv(frames=4, container_format="mp4")}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(SEEDS)),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
    st.integers(0, 10**6),
)
def test_mutated_video_containers_fail_only_as_media_errors(seed, edits, cut):
    data = bytearray(SEEDS[seed])
    for offset, value in edits:
        data[offset % len(data)] = value
    data = bytes(data[: max(16, cut % (len(data) + 1))])
    limits = MediaLimits(max_pixels_per_frame=1 << 16, max_frames=50)
    try:
        with open_media(data, limits=limits) as reader:
            for _ in reader.frames():
                pass
    except MediaError:
        pass  # any frameswap media error is the right answer; anything else fails the test
