"""Video: variable frame rate pts, audio copied or re-encoded, rotation, odd sizes."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from frameswap.media import open_media, write_media
from frameswap.media.types import Frame, FrameTiming
from kit.media_builders import animation_info, write_test_video

VFR_PTS_MS = [0, 33, 66, 140, 160, 300, 310, 400, 533, 600]


@pytest.fixture(scope="module")
def vfr_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "vfr.mp4"
    return write_test_video(path, VFR_PTS_MS, audio_seconds=0.8)


def _audio_packets(path):
    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        packets = [(bytes(p), p.duration, p.time_base) for p in c.demux(a) if p.size]
        return a.codec_context.name, packets


def _audio_seconds(packets):
    return float(sum(d * tb for _, d, tb in packets))


def test_reader_reports_exact_vfr_timing_without_decoding(vfr_clip):
    with open_media(vfr_clip) as reader:
        info = reader.info
        assert info.kind == "video" and info.format == "mp4"
        assert info.frame_count == len(VFR_PTS_MS)
        assert info.has_audio and info.audio_codec == "aac"
        starts = [f.timing.start_seconds for f in reader.frames()]
    np.testing.assert_allclose(starts, [p / 1000 for p in VFR_PTS_MS], atol=float(info.time_base))
    np.testing.assert_allclose(info.durations_ms[:-1], np.diff(VFR_PTS_MS), atol=1e-6)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".webm"])
def test_write_keeps_every_pts_frame_count_and_audio(vfr_clip, tmp_path, suffix):
    with open_media(vfr_clip) as reader:
        src_frames = list(reader.frames())
        out = write_media(tmp_path / f"out{suffix}", reader.frames(), reader.info, audio_from=reader)
        tick = float(reader.info.time_base)
    with open_media(out) as back:
        assert back.info.frame_count == len(src_frames)
        assert back.info.has_audio
        got = list(back.frames())
    assert len(got) == len(src_frames)
    for a, b in zip(src_frames, got, strict=True):
        assert abs(a.timing.start_seconds - b.timing.start_seconds) <= tick + 1e-9
        assert np.abs(a.rgb.astype(int) - b.rgb.astype(int)).mean() < 10  # same picture, lossy codec
    in_codec, in_packets = _audio_packets(vfr_clip)
    out_codec, out_packets = _audio_packets(out)
    assert abs(_audio_seconds(out_packets) - _audio_seconds(in_packets)) <= 0.05
    if suffix in (".mp4", ".mkv"):  # AAC fits: copied bit for bit, not re-encoded
        assert out_codec == in_codec
        assert [p[0] for p in out_packets] == [p[0] for p in in_packets]
    else:  # WebM takes no AAC: re-encoded to Opus
        assert out_codec == "opus"


def test_rotation_metadata_is_applied(tmp_path):
    # A phone's "rotate=90" is a display matrix of -90: the picture turns clockwise.
    path = write_test_video(tmp_path / "rot.mp4", [0, 40], size=(64, 32), audio_seconds=None, rotation=-90)
    with open_media(path) as reader:
        assert (reader.info.width, reader.info.height) == (32, 64)
        frame = next(reader.frames())
    assert frame.rgb.shape == (64, 32, 3)
    with av.open(str(path)) as c:
        coded = next(c.decode(video=0)).to_ndarray(format="rgb24")
    np.testing.assert_array_equal(frame.rgb, np.rot90(coded, -1))


def test_odd_sizes_and_gif_timing_survive_video_encoding(tmp_path):
    rng = np.random.default_rng(0)
    frames = [
        Frame(i, rng.integers(0, 255, (35, 47, 3), dtype=np.uint8), FrameTiming(pts, d, Fraction(1, 1000)))
        for i, (pts, d) in enumerate([(0, 20), (20, 130), (150, 50)])
    ]
    info = animation_info([20, 130, 50], (47, 35))
    out = write_media(tmp_path / "odd.mp4", iter(frames), info)
    with open_media(out) as reader:
        assert reader.info.frame_count == 3
        starts = [round(f.timing.start_seconds * 1000) for f in reader.frames()]
    assert starts == [0, 20, 150]
