"""The bundled samples have the properties the rest of the project relies on (issue 2 "Samples", issue 6).

Everything is read back with Pillow / PyAV / dlib directly, not with frameswap.media, so these tests
check the samples themselves and stay independent of the media layer.
"""

from __future__ import annotations

import shutil
from fractions import Fraction
from pathlib import Path

import av
import dlib
import numpy as np
import pytest
from PIL import Image, ImageSequence

from sample_recipe import (
    SAMPLE_GIF_DELAYS_MS,
    SAMPLE_GIF_FRAMES,
    SAMPLE_GIF_HOLD,
    SAMPLE_GIF_LOOP,
    SAMPLE_VIDEO_AUDIO_RATE,
    SAMPLE_VIDEO_FPS,
    SAMPLE_VIDEO_FRAMES,
    SAMPLE_VIDEO_SIZE,
    SamplePaths,
    build_samples,
)

COMMITTED_SOURCE = Path(__file__).resolve().parents[1] / "samples" / "source_astronaut.jpg"


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> SamplePaths:
    return build_samples(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="session")
def detector():
    return dlib.get_frontal_face_detector()


@pytest.fixture(scope="session")
def gif_frames(samples: SamplePaths) -> tuple[list[np.ndarray], list[int], dict]:
    with Image.open(samples.gif) as im:
        info = dict(im.info)
        frames, delays = [], []
        for frame in ImageSequence.Iterator(im):
            delays.append(frame.info["duration"])
            frames.append(np.asarray(frame.convert("RGB")).copy())
    return frames, delays, info


def count_faces(detector, rgb: np.ndarray) -> int:
    return len(detector(np.ascontiguousarray(rgb), 1))


# ------------------------------------------------------------------------------------------------- GIF


def test_gif_is_big_enough_for_the_benchmark(gif_frames):
    frames, _, _ = gif_frames
    assert len(frames) == SAMPLE_GIF_FRAMES >= 48
    assert frames[0].shape[1] >= 480


def test_gif_keeps_the_non_uniform_delays_and_loop_count(gif_frames):
    _, delays, info = gif_frames
    assert tuple(delays) == SAMPLE_GIF_DELAYS_MS
    assert len(set(delays)) >= 4
    assert info.get("loop") == SAMPLE_GIF_LOOP


def test_gif_has_camera_motion_and_exactly_one_hold_run(gif_frames):
    frames, _, _ = gif_frames
    identical = [i for i in range(1, len(frames)) if np.array_equal(frames[i], frames[i - 1])]
    first, end = SAMPLE_GIF_HOLD
    assert identical == list(range(first + 1, end))
    # Elsewhere the camera moves: consecutive frames differ visibly, and the ends show different views.
    moving = [i for i in range(1, len(frames)) if i not in identical]
    assert all(np.abs(frames[i].astype(int) - frames[i - 1]).mean() > 0.5 for i in moving)
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() > 20


def test_gif_first_frame_shows_at_least_two_faces(gif_frames, detector):
    frames, _, _ = gif_frames
    assert count_faces(detector, frames[0]) >= 2


# ----------------------------------------------------------------------------------------------- video


def test_video_frames_timing_and_audio(samples: SamplePaths):
    with av.open(str(samples.video)) as container:
        video = container.streams.video[0]
        assert video.codec_context.name == "h264"
        assert (video.codec_context.width, video.codec_context.height) == SAMPLE_VIDEO_SIZE
        assert video.average_rate == SAMPLE_VIDEO_FPS
        assert len(container.streams.audio) == 1
        pts = [frame.pts * frame.time_base for frame in container.decode(video=0)]
    assert len(pts) == SAMPLE_VIDEO_FRAMES
    assert pts == [Fraction(i, SAMPLE_VIDEO_FPS) for i in range(SAMPLE_VIDEO_FRAMES)]

    with av.open(str(samples.video)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert audio.rate == SAMPLE_VIDEO_AUDIO_RATE
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
    pcm = np.concatenate(chunks, axis=1)
    video_seconds = SAMPLE_VIDEO_FRAMES / SAMPLE_VIDEO_FPS
    assert abs(pcm.shape[1] / SAMPLE_VIDEO_AUDIO_RATE - video_seconds) <= 0.050
    assert np.abs(pcm).max() > 0.1  # not silence: the chirp is audible


def test_video_shows_a_face(samples: SamplePaths, detector):
    with av.open(str(samples.video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i == SAMPLE_VIDEO_FRAMES // 2:
                rgb = frame.to_ndarray(format="rgb24")
                break
    assert count_faces(detector, rgb) >= 1


# ---------------------------------------------------------------------------------------------- source


def test_source_photo_has_exactly_one_face(samples: SamplePaths, detector):
    rgb = np.asarray(Image.open(samples.source).convert("RGB"))
    assert count_faces(detector, rgb) == 1


def test_committed_source_matches_the_recipe(samples: SamplePaths, detector):
    committed = np.asarray(Image.open(COMMITTED_SOURCE).convert("RGB"), dtype=np.int16)
    built = np.asarray(Image.open(samples.source).convert("RGB"), dtype=np.int16)
    assert committed.shape == built.shape
    assert np.abs(committed - built).mean() < 1.0  # equal up to JPEG-library differences
    assert count_faces(detector, committed.astype(np.uint8)) == 1


# ---------------------------------------------------------------------------------------------- builder


def test_build_skips_up_to_date_outputs_and_repairs_damaged_ones(samples: SamplePaths, tmp_path: Path):
    for path in samples.source.parent.iterdir():
        shutil.copy2(path, tmp_path / path.name)
    original_gif = samples.gif.read_bytes()
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}

    again = build_samples(tmp_path)
    assert again.gif == tmp_path / samples.gif.name
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps  # nothing rewritten

    again.gif.write_bytes(original_gif[: len(original_gif) // 2])  # a truncated output is stale
    build_samples(tmp_path)
    assert again.gif.read_bytes() == original_gif  # rebuilt, byte for byte (the recipe is deterministic)
    assert again.video.stat().st_mtime_ns == stamps[again.video.name]  # the others were kept
