"""The pipeline's own logic on model-free fakes: identities, pass-through, dedupe, timing, errors."""

from __future__ import annotations

import io
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frameswap.errors import CancelledError, FaceIndexError, NoFaceError, OverwriteInputError
from frameswap.media import Frame, FrameTiming, MediaInfo, open_media, write_media
from frameswap.options import SwapOptions, TrackerOptions
from frameswap.pipeline import Models, run_swap
from kit.fakes import FACE_RED, PaintEngine, SquareAnalyzer, draw

SIZE = (160, 96)
A, B, SOURCE_ID, OTHER_SOURCE_ID = 10, 90, 77, 33
# Person A starts large on the left, B small on the right; they cross and swap size rank.
TRACK = [
    [(8, 20, 40, A), (120, 30, 20, B)],
    [(24, 20, 36, A), (100, 30, 24, B)],
    [(44, 20, 30, A), (76, 30, 28, B)],
    [(44, 20, 30, A), (76, 30, 28, B)],  # identical to the previous frame (a GIF hold)
    [],  # nobody in this frame: passes through unchanged
    [(96, 20, 22, A), (30, 30, 40, B)],
]
DELAYS_MS = [40, 60, 80, 120, 40, 500]


def save_apng(frames: list[np.ndarray], delays: list[int], path: Path, loop: int = 0) -> Path:
    """An APNG with exactly these frames (Pillow alone would merge identical neighbours)."""
    timings, pts = [], 0
    for delay in delays:
        timings.append(FrameTiming(pts=pts, duration=delay, time_base=Fraction(1, 1000)))
        pts += delay
    info = MediaInfo(format="apng", kind="animation", width=frames[0].shape[1], height=frames[0].shape[0],
                     frame_count=len(frames), durations_ms=tuple(float(d) for d in delays), loop=loop)
    write_media(path, (Frame(i, f, t) for i, (f, t) in enumerate(zip(frames, timings, strict=True))), info)
    return path


def source_png(identities: list[tuple[int, int]]) -> bytes:
    rgb = draw((120, 80), [(10 + 50 * i, 10, side, ident) for i, (side, ident) in enumerate(identities)])
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture()
def clip(tmp_path: Path) -> tuple[Path, list[np.ndarray]]:
    frames = [draw(SIZE, squares) for squares in TRACK]
    return save_apng(frames, DELAYS_MS, tmp_path / "clip.png"), frames


def run(source: bytes, target: Path, out: Path | None, **kw) -> tuple:
    analyzer, engine = SquareAnalyzer(), PaintEngine()
    outcome = run_swap(Models(analyzer=analyzer, engine=engine), source, target, out, SwapOptions(**kw))
    return outcome, analyzer, engine


def read_frames(path: Path) -> tuple[list[np.ndarray], list[float]]:
    with open_media(path) as reader:
        frames = list(reader.frames())
    return [f.rgb for f in frames], [f.timing.duration_ms for f in frames]


def painted_identity(rgb: np.ndarray, x: int, y: int, side: int) -> tuple[int, int]:
    """(green, blue) at the centre of a square: blue 255 means swapped, green is who was put in."""
    c = rgb[y + side // 2, x + side // 2]
    return int(c[1]), int(c[2])


def test_index_follows_the_person_across_a_crossing(clip, tmp_path):
    target, _ = clip
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png")
    frames, durations = read_frames(outcome.path)
    assert len(frames) == len(TRACK)
    assert durations == DELAYS_MS
    for rgb, squares in zip(frames, TRACK, strict=True):
        for x, y, side, ident in squares:
            if ident == A:  # index 0 = the largest face of the first frame = A, in every frame
                assert painted_identity(rgb, x, y, side) == (SOURCE_ID, 255)
            else:
                assert painted_identity(rgb, x, y, side) == (B, 0)


@pytest.mark.parametrize("detect_every", [1, 2, 3])
def test_following_between_detections_keeps_every_face(clip, tmp_path, detect_every):
    target, _ = clip
    outcome, analyzer, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png",
                               input_faces_index="0,1", tracker=TrackerOptions(detect_every=detect_every))
    frames, _ = read_frames(outcome.path)
    for rgb, squares in zip(frames, TRACK, strict=True):
        for x, y, side, _ in squares:
            assert painted_identity(rgb, x, y, side) == (SOURCE_ID, 255)
    if detect_every > 1:
        assert analyzer.described > 0  # some frames were followed, not detected


def test_identity_embeddings_only_where_position_is_ambiguous(tmp_path):
    # two people drifting slowly and far apart: told apart by position after the first frame...
    calm = [[(10 + 2 * i, 20, 36, A), (110 - 2 * i, 30, 24, B)] for i in range(10)]
    target = save_apng([draw(SIZE, sq) for sq in calm], [50] * len(calm), tmp_path / "calm.png")
    outcome_calm, analyzer, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "o.png",
                                    tracker=TrackerOptions(detect_every=1))
    # nobody is ever ambiguous, so only the source face is embedded (the classic engine's fake
    # asks for the source's embedding), no target face at all
    assert analyzer.embedded == 1
    assert outcome_calm.stats.faces_embedded == 0 and outcome_calm.stats.detections == len(calm)
    # ...while the crossing clip (fast moves, a gap) needs identities again, and gets them right
    crossing = save_apng([draw(SIZE, sq) for sq in TRACK], DELAYS_MS, tmp_path / "cross.png")
    outcome, analyzer, _ = run(source_png([(40, SOURCE_ID)]), crossing, tmp_path / "out.png",
                               tracker=TrackerOptions(detect_every=1))
    assert analyzer.embedded > 1
    frames, _ = read_frames(outcome.path)
    for rgb, squares in zip(frames, TRACK, strict=True):
        for x, y, side, ident in squares:
            assert painted_identity(rgb, x, y, side) == ((SOURCE_ID, 255) if ident == A else (B, 0))


@pytest.mark.parametrize("reference_frame", [None, 0])  # streaming, and the two-pass path
def test_a_person_who_appears_later_takes_the_next_index(tmp_path, reference_frame):
    late = [[(10, 20, 36, A)], [(12, 20, 36, A)], [(14, 20, 36, A), (110, 30, 24, B)],
            [(16, 20, 36, A), (108, 30, 24, B)]]
    target = save_apng([draw(SIZE, sq) for sq in late], [50] * 4, tmp_path / "late.png")
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png",
                        input_faces_index="1", reference_frame=reference_frame)
    assert outcome.faces_found == 2
    frames, _ = read_frames(outcome.path)
    for rgb, squares in zip(frames, late, strict=True):
        for x, y, side, ident in squares:
            assert painted_identity(rgb, x, y, side) == ((SOURCE_ID, 255) if ident == B else (A, 0))
    with pytest.raises(FaceIndexError, match="2 faces found in the target"):
        run(source_png([(40, SOURCE_ID)]), target, tmp_path / "bad.png", input_faces_index="2",
            reference_frame=reference_frame)
    assert not (tmp_path / "bad.png").exists()


def test_reference_frame_names_the_indexes(clip, tmp_path):
    target, _ = clip
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png", reference_frame=5)
    frames, _ = read_frames(outcome.path)
    x, y, side, ident = TRACK[0][1]
    assert ident == B and painted_identity(frames[0], x, y, side) == (SOURCE_ID, 255)


def test_pairs_two_sources_onto_two_people(clip, tmp_path):
    target, _ = clip
    src = source_png([(40, SOURCE_ID), (20, OTHER_SOURCE_ID)])  # source 0 is the larger
    outcome, _, _ = run(src, target, tmp_path / "o.png", input_faces_index="0, 1", source_faces_index="1,0")
    frames, _ = read_frames(outcome.path)
    for rgb, squares in zip(frames, TRACK, strict=True):
        for x, y, side, ident in squares:
            expected = OTHER_SOURCE_ID if ident == A else SOURCE_ID
            assert painted_identity(rgb, x, y, side) == (expected, 255)


def test_pixels_outside_faces_and_faceless_frames_are_unchanged(clip, tmp_path):
    target, originals = clip
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png", input_faces_index="0,1",
                        source_faces_index="0")
    frames, _ = read_frames(outcome.path)
    for rgb, original, squares in zip(frames, originals, TRACK, strict=True):
        outside = np.ones(rgb.shape[:2], bool)
        for x, y, side, _ in squares:
            outside[y : y + side, x : x + side] = False
        assert np.array_equal(rgb[outside], original[outside])
    assert np.array_equal(frames[4], originals[4])


class _SmallFacesOnly(PaintEngine):
    """Leaves faces of 30 px or wider as they are, as the classic engine leaves a profile."""

    def swap(self, frames, jobs):
        small = [[job for job in listed if job.target.box[2] - job.target.box[0] < 30] for listed in jobs]
        return super().swap(frames, small)


def test_faces_the_engine_leaves_as_they_were_are_not_counted_as_swapped(clip, tmp_path):
    target, _ = clip
    models = Models(analyzer=SquareAnalyzer(), engine=_SmallFacesOnly())
    outcome = run_swap(models, source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png",
                       SwapOptions(input_faces_index="0,1"))
    frames, _ = read_frames(outcome.path)
    # the oracle: squares painted in the output (blue 255 at the centre), each frame counted once
    # as the pipeline processes it (the held frame repeats the one before it, processed once)
    processed = [i for i in range(len(TRACK)) if i != 3]
    painted = sum(
        painted_identity(frames[i], x, y, side)[1] == 255 for i in processed for x, y, side, _ in TRACK[i]
    )
    selected = sum(len(TRACK[i]) for i in processed)
    assert 0 < painted < selected
    assert outcome.stats.faces_swapped == painted
    assert outcome.stats.faces_unchanged == selected - painted


def test_identical_frames_are_processed_once(clip, tmp_path):
    target, _ = clip
    outcome, analyzer, engine = run(
        source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png", tracker=TrackerOptions(detect_every=1)
    )
    frames, _ = read_frames(outcome.path)
    # one repeated frame skipped; the source photo is analysed too; on the faceless frame the two
    # people seen just before are looked for where they should be (gap filling), and not found
    assert analyzer.images == len(TRACK) - 1 + 1 and analyzer.described == 1
    assert engine.frames == len(TRACK) - 2  # repeated frame and faceless frame not sent to the engine
    assert np.array_equal(frames[2], frames[3])


def test_returns_bytes_without_output_path(clip):
    target, _ = clip
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, None)
    assert outcome.path is None and outcome.data is not None
    with open_media(outcome.data) as reader:
        assert reader.info.frame_count == len(TRACK)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"input_faces_index": "2"}, "2 faces found in the target"),
        ({"source_faces_index": "1"}, "1 face found in the source"),
        ({"input_faces_index": "0,1", "source_faces_index": "0,1,0"}, "source_faces_index"),
    ],
)
def test_index_errors_are_clear_and_write_nothing(clip, tmp_path, kw, message):
    target, _ = clip
    out = tmp_path / "out.png"
    with pytest.raises(FaceIndexError, match=message):
        run(source_png([(40, SOURCE_ID)]), target, out, **kw)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [target]


def test_no_face_in_source_or_target(clip, tmp_path):
    target, _ = clip
    with pytest.raises(NoFaceError, match="source"):
        run(source_png([]), target, tmp_path / "out.png")
    empty = save_apng([draw(SIZE, []) for _ in range(3)], [50, 50, 50], tmp_path / "empty.png")
    with pytest.raises(NoFaceError, match="target"):
        run(source_png([(40, SOURCE_ID)]), empty, tmp_path / "out2.png")


def test_cancel_stops_and_leaves_no_output(clip, tmp_path):
    target, _ = clip
    cancel = threading.Event()
    cancel.set()
    out = tmp_path / "out.png"
    with pytest.raises(CancelledError):
        run_swap(Models(analyzer=SquareAnalyzer(), engine=PaintEngine()), source_png([(40, SOURCE_ID)]),
                 target, out, SwapOptions(), cancel=cancel)
    assert not out.exists()


def test_gif_timing_and_loop_survive_the_swap(tmp_path):
    delays = [20, 30, 100, 70, 1000, 0]
    flat = [np.full((64, 96, 3), 40, np.uint8) for _ in delays]
    for i, f in enumerate(flat):
        f[10:40, 5 + 8 * i : 35 + 8 * i] = (FACE_RED, A, 0)
    images = [Image.fromarray(f) for f in flat]
    target = tmp_path / "t.gif"
    images[0].save(target, save_all=True, append_images=images[1:], duration=delays, loop=3, disposal=1)
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.gif")
    with open_media(outcome.path) as reader:
        assert list(reader.info.durations_ms) == delays
        assert reader.info.loop == 3
        assert reader.info.frame_count == len(delays)


def test_an_animation_written_to_a_still_format_keeps_the_first_frame(tmp_path):
    # more frames than the writer's queue holds: a still writer takes one frame and returns early
    long_clip = save_apng([draw(SIZE, TRACK[i % 4]) for i in range(20)], [40] * 20, tmp_path / "long.png")
    outcome, _, _ = run(source_png([(40, SOURCE_ID)]), long_clip, tmp_path / "first.jpg")
    assert outcome.format == "jpeg"
    with open_media(outcome.path) as reader:
        assert reader.info.frame_count == 1 and reader.info.format == "jpeg"


def test_neither_input_is_ever_overwritten(clip, tmp_path):
    target, _ = clip
    source = tmp_path / "source.png"
    source.write_bytes(source_png([(40, SOURCE_ID)]))
    before = source.read_bytes(), target.read_bytes()
    for destination in (source, target):
        with pytest.raises(OverwriteInputError):
            run(source, target, destination)
    assert (source.read_bytes(), target.read_bytes()) == before


def test_a_face_is_not_counted_as_changed_for_what_its_neighbour_painted():
    """Two overlapping face boxes; the swap paints the first face's box, overlap included, and
    leaves the second face as it was: only the first counts as changed (judged on the whole box,
    the second would count too). A face whose box another covers entirely is judged on all of it."""
    from frameswap.pipeline.run import changed_faces

    before = np.zeros((60, 80, 3), np.uint8)
    first, second = np.array([10.0, 10, 40, 40]), np.array([30.0, 20, 60, 50])
    after = before.copy()
    after[10:40, 10:40] = 200  # the first face, reaching 10 px into the second's box
    assert changed_faces(before, after, [first, second]) == [True, False]
    assert changed_faces(before, after, [second]) == [True]  # alone, the spill is all it has
    inner = np.array([32.0, 22, 38, 38])  # inside the first box: judged on its own pixels
    assert changed_faces(before, after, [first, inner]) == [True, True]
    assert changed_faces(before, before, [first, inner]) == [False, False]


def test_frames_in_flight_are_bounded_by_pixels(tmp_path, monkeypatch):
    """Issue 11: a large canvas may not fill every queue. Counted between the decoder (frames it
    produced) and the encoder (frames it took), the pixels in flight at once stay within the
    pipeline's six holding places (decode queue, the batch analysed, two batches queued for the
    swap, the batch swapped, the encode queue), each allowed ``QUEUE_PIXELS`` (eight 1080p frames),
    plus the frame being decoded. With queues counted in frames only, 8 frames a place, 49
    2048x2048 frames could be in flight (the 69 KB small-canvas GIF's 4096x4096 canvases held
    2.8 GB)."""
    import frameswap.pipeline.run as pipeline_run
    from frameswap.provenance.disclosure import Disclosure

    size, count = (2048, 2048), 40
    grey = np.full((size[1], size[0], 3), 90, np.uint8)
    frames = []
    for i in range(count):
        frame = grey.copy()
        frame[100:160, 100 + 10 * i : 160 + 10 * i] = (FACE_RED, A, 0)  # one person walking right
        frames.append(frame)
    target = save_apng(frames, [40] * count, tmp_path / "big.png")
    decoded, encoded, in_flight = [0], [0], []

    real_decoded, real_write = pipeline_run._decoded, Disclosure.write

    def counting_decoded(*args, **kwargs):
        for frame in real_decoded(*args, **kwargs):
            decoded[0] += 1
            in_flight.append(decoded[0] - encoded[0])
            yield frame

    def counting_write(self, frames_in, *args, **kwargs):
        def taken():  # a slow encoder, so every queue before it fills up to what it may hold
            for frame in frames_in:
                encoded[0] += 1
                time.sleep(0.03)
                yield frame

        return real_write(self, taken(), *args, **kwargs)

    monkeypatch.setattr(pipeline_run, "_decoded", counting_decoded)
    monkeypatch.setattr(Disclosure, "write", counting_write)
    run(source_png([(40, SOURCE_ID)]), target, tmp_path / "out.png")
    assert decoded[0] == encoded[0] == count
    frame_pixels = size[0] * size[1]
    assert max(in_flight) * frame_pixels <= 6 * pipeline_run.QUEUE_PIXELS + frame_pixels, max(in_flight)
    assert max(in_flight) >= 6, "the queues never filled: the bound was not exercised"


def test_a_failed_swap_holds_no_frame_once_its_error_is_handled(clip):
    """The pipeline's threads hand their errors over and keep none: with the garbage collector
    off, no decoded frame survives a failed swap (an error kept in the writer formed a cycle with
    the caller's traceback, and a failed server job held its frames until the collector ran)."""
    import gc

    target, _ = clip
    gc.collect()
    gc.disable()
    try:
        with pytest.raises(FaceIndexError):
            run(source_png([(40, SOURCE_ID)]), target, None, input_faces_index="5")
        left = [o for o in gc.get_objects() if isinstance(o, Frame)]
    finally:
        gc.enable()
    assert left == []
