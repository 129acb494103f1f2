"""End to end on the bundled samples with the embedded classic engine and real faces."""

from __future__ import annotations

import av
import numpy as np

from frameswap.faces.types import Face
from frameswap.media import open_media
from frameswap.options import SwapOptions


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _match(face: Face, candidates: list[Face]) -> Face | None:
    best = max(candidates, key=lambda c: _iou(face.box, c.box), default=None)
    return best if best is not None and _iou(face.box, best.box) > 0.3 else None


def _frames(path) -> tuple[list[np.ndarray], object]:
    with open_media(path) as reader:
        return [f.rgb for f in reader.frames()], reader.info


def _outside_faces(shape: tuple[int, ...], faces: list[Face], margin: float = 0.6) -> np.ndarray:
    """Pixels well away from every face box (the box grown by ``margin`` of its size each side)."""
    keep = np.ones(shape[:2], bool)
    h, w = shape[:2]
    for face in faces:
        x1, y1, x2, y2 = face.box
        mx, my = (x2 - x1) * margin, (y2 - y1) * margin
        keep[max(0, int(y1 - my)) : min(h, int(y2 + my)), max(0, int(x1 - mx)) : min(w, int(x2 + mx))] = False
    return keep


def test_gif_keeps_timing_and_swaps_identity(samples, swapper, dlib_analyzer, tmp_path):
    options = SwapOptions(engine="classic", input_faces_index="0, 1", source_faces_index="0")
    result = swapper.swap(samples.source, samples.gif, tmp_path / "out.gif", options=options)
    with open_media(samples.gif) as src_reader, open_media(result.path) as out_reader:
        assert out_reader.info.frame_count == src_reader.info.frame_count
        assert out_reader.info.durations_ms == src_reader.info.durations_ms
        assert out_reader.info.loop == src_reader.info.loop
    assert result.stats.faces_swapped >= 2 * src_reader.info.frame_count * 0.8

    source_rgb, _ = _frames(samples.source)
    source_face = dlib_analyzer.analyze(source_rgb)[0][0]
    originals, _ = _frames(samples.gif)
    outputs, _ = _frames(result.path)
    for index in (0, len(originals) // 2):
        before = dlib_analyzer.analyze([originals[index]])[0]
        after = dlib_analyzer.analyze([outputs[index]])[0]
        closer = 0
        for original in before[:2]:  # the two largest faces were swapped
            swapped = _match(original, after)
            assert swapped is not None, "a swapped face is no longer detected"
            to_source = np.linalg.norm(swapped.embedding - source_face.embedding)
            to_original = np.linalg.norm(swapped.embedding - original.embedding)
            closer += to_source < to_original
        assert closer == 2


def test_lossless_output_changes_only_the_faces(samples, swapper, dlib_analyzer, tmp_path):
    options = SwapOptions(engine="classic", input_faces_index="0", source_faces_index="0")
    result = swapper.swap(samples.source, samples.gif, tmp_path / "out.png", options=options)
    originals, _ = _frames(samples.gif)
    outputs, info = _frames(result.path)
    assert info.format == "apng" and len(outputs) == len(originals)
    faces = dlib_analyzer.analyze([originals[0]])[0]
    face_region = ~_outside_faces(originals[0].shape, faces[:1], margin=0.0)  # the face box itself
    changed = np.any(outputs[0] != originals[0], axis=-1)
    assert changed[face_region].mean() > 0.3  # the face did change
    assert not changed[_outside_faces(originals[0].shape, faces, margin=0.6)].any()


def test_video_keeps_frames_timing_and_audio(samples, swapper, tmp_path):
    result = swapper.swap(samples.source, samples.video, tmp_path / "out.mp4",
                          options=SwapOptions(engine="classic"))
    with av.open(str(samples.video)) as a, av.open(str(result.path)) as b:
        va, vb = a.streams.video[0], b.streams.video[0]
        pts_a = [f.pts * va.time_base for f in a.decode(va)]
        pts_b = [f.pts * vb.time_base for f in b.decode(vb)]
        assert len(pts_a) == len(pts_b)
        tick = float(max(va.time_base, vb.time_base))
        assert max(abs(float(x - y)) for x, y in zip(pts_a, pts_b, strict=True)) <= tick
        assert b.streams.audio, "the audio track was dropped"
        dur_a = float(a.streams.audio[0].duration * a.streams.audio[0].time_base)
        dur_b = float(b.streams.audio[0].duration * b.streams.audio[0].time_base)
        assert abs(dur_a - dur_b) < 0.05
    assert result.stats.faces_swapped > 0


def test_api_swap_returns_bytes_for_a_still(samples):
    import frameswap

    with open_media(samples.gif) as reader:
        first = next(iter(reader.frames())).rgb
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(first).save(buf, format="JPEG", quality=92)
    data = frameswap.swap(samples.source, buf.getvalue(), engine="classic")
    assert isinstance(data, bytes) and data[:3] == b"\xff\xd8\xff"  # a JPEG, like the input
    with open_media(data) as reader:
        out = next(iter(reader.frames())).rgb
    assert out.shape == first.shape and np.abs(out.astype(int) - first).mean() > 0.5
