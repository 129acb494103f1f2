"""Quality figures for one swapped output, measured against its input and the source photo.

- Identity: dlib's 128-D descriptor of each swapped face, its distance to the source face and to
  the original face at the same place (dlib's rule of thumb: one person lies under 0.6). A face
  counts as swapped when its box's pixels changed (mean |difference| above a few grey levels).
  The share closer to the source is also given for the faces turned less than ``TURNED``
  degrees of yaw in the input: the descriptor has a pose gap of its own (one person's frames
  against her most frontal frame lie at a median 0.50 at 20-30 degrees), so a frontal photo warped
  in 2D onto a head turned 45 degrees sits near dlib's 0.6 line whatever the engine does, while
  the original it is compared with is turned the same way.
  Faces on frames the clip blurred on purpose (``blurred``, from how the clip was built) are
  counted apart as well: the engine blurs the new face to match its frame, as a viewer expects,
  and a descriptor of a face blurred that much tells people apart poorly. The share for "the
  rest" (not turned, not on a blurred frame) is where a swap that lost its person would show.
- Identity's ceiling on blurred frames (``blur_ceiling``): how many faces on those frames the
  best output a blur-respecting swap can give reads closer to the source. That output is the
  swap of the same clip with those frames left sharp (``clips.without_blur``), each of those
  frames blurred afterwards as the clip blurs it (``clips.defocus``), judged against the
  original frames as the real output is. A sigma-5 blur leaves the descriptor the face's
  outline, hair and skin tone, all the target's in any swap: the ceiling, measured rather than
  asserted, says what the figure can mean there.
- Jitter: frame-to-frame shake of the swapped face's 68 landmarks, measured as the mean size of
  their second difference (|L[t+1] - 2 L[t] + L[t-1]|, which a smooth camera pan leaves near 0),
  in units of the inter-ocular distance, for the swapped face and for the original face in the
  input; their ratio says how much shake the swap adds (1.0: none).
- Timing: every output frame's start and duration equal the input's, the frame count and the loop
  count too. Read back with ``open_media``.

Only the first ``max_frames`` frames are analysed for identity and jitter (dlib costs ~0.1 s per
frame on 2 cores); timing is checked on every frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from frameswap.engines.classic.pose import yaw_degrees
from frameswap.faces.geometry import box_iou

CHANGED_GREY_LEVELS = 3.0
TURNED = 30.0  # degrees of yaw from which a swapped face is reported as turned
SAME_FACE_IOU = 0.3


@dataclass
class _Read:
    frames: list[np.ndarray]
    starts: list[float]
    durations: list[float]
    loop: int | None
    count: int


def _read(path: Path, keep: int) -> _Read:
    from frameswap.media import open_media

    frames: list[np.ndarray] = []
    starts, durations = [], []
    with open_media(path) as reader:
        loop = reader.info.loop
        for frame in reader.frames():
            if len(frames) < keep:
                frames.append(frame.rgb)
            starts.append(frame.timing.start_seconds * 1000.0)
            durations.append(frame.timing.duration_ms)
    return _Read(frames, starts, durations, loop, len(starts))


def timing_figures(original: _Read, swapped: _Read) -> dict[str, Any]:
    """Frame count, loop and per-frame start/duration agreement (max error in ms)."""
    n = min(original.count, swapped.count)
    errors = [abs(a - b) for a, b in zip(original.starts[:n], swapped.starts[:n], strict=True)]
    errors += [abs(a - b) for a, b in zip(original.durations[:n], swapped.durations[:n], strict=True)]
    max_error = max(errors, default=0.0)
    return {
        "timing_equal": (
            original.count == swapped.count and max_error < 1e-6 and original.loop == swapped.loop
        ),
        "timing_max_error_ms": round(max_error, 6),
        "frame_count_equal": original.count == swapped.count,
        "loop_equal": original.loop == swapped.loop,
    }


def _iod(landmarks: np.ndarray) -> float:
    return float(np.linalg.norm(landmarks[36:42].mean(axis=0) - landmarks[42:48].mean(axis=0)))


def _second_difference(track: list[np.ndarray], scale: list[float]) -> list[float]:
    out = []
    for t in range(1, len(track) - 1):
        accel = track[t + 1] - 2.0 * track[t] + track[t - 1]
        out.append(float(np.linalg.norm(accel, axis=1).mean()) / max(scale[t], 1e-6))
    return out


def identity_and_jitter(analyzer: Any, source_rgb: np.ndarray, original: list[np.ndarray],
                        swapped: list[np.ndarray], blurred: Sequence[bool] = ()) -> dict[str, Any]:
    """Identity distances of the swapped faces and the landmark jitter (see the module docstring).

    ``blurred[i]`` says the clip blurred frame ``i`` on purpose (missing entries: not blurred).
    """
    source_faces = sorted(analyzer.analyze([source_rgb])[0], key=lambda f: -f.area)
    if not source_faces or source_faces[0].embedding is None:
        return {"identity_faces": 0}
    source_desc = np.asarray(source_faces[0].embedding, np.float64)
    before = analyzer.analyze(original)
    after = analyzer.analyze(swapped)
    to_source, to_original, undetected = [], [], 0
    kinds: list[str] = []  # per swapped face: "turned" (TURNED or more of yaw), "blurred" or "rest"
    on_blurred: list[bool] = []  # per swapped face: on a frame the clip blurred (turned or not)
    # per frame: the largest swapped face, as (landmarks after, landmarks before, box), or None
    main: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    frames = zip(original, swapped, before, after, strict=True)
    for t, (rgb_in, rgb_out, faces_in, faces_out) in enumerate(frames):
        best = None
        frame_blurred = t < len(blurred) and bool(blurred[t])
        for face in sorted(faces_in, key=lambda f: -f.area):
            x1, y1, x2, y2 = np.clip(face.box, 0, [rgb_in.shape[1], rgb_in.shape[0]] * 2).astype(int)
            region = np.abs(rgb_in[y1:y2, x1:x2].astype(np.int16) - rgb_out[y1:y2, x1:x2]).mean()
            if not region > CHANGED_GREY_LEVELS:
                continue
            match = max(faces_out, key=lambda f: box_iou(f.box, face.box), default=None)
            if match is None or box_iou(match.box, face.box) < SAME_FACE_IOU:
                undetected += 1
                continue
            desc = np.asarray(match.embedding, np.float64)
            to_source.append(float(np.linalg.norm(desc - source_desc)))
            to_original.append(float(np.linalg.norm(desc - np.asarray(face.embedding, np.float64))))
            turned = face.landmarks is None or abs(yaw_degrees(face.landmarks)) >= TURNED
            kinds.append("turned" if turned else "blurred" if frame_blurred else "rest")
            on_blurred.append(frame_blurred)
            if best is None and match.landmarks is not None and face.landmarks is not None:
                best = (
                    np.asarray(match.landmarks, np.float64), np.asarray(face.landmarks, np.float64), face.box
                )
        main.append(best)
    jitter_out, jitter_in = [], []
    for t in range(1, len(main) - 1):
        window = main[t - 1 : t + 2]
        if any(w is None for w in window):
            continue
        boxes = [w[2] for w in window]  # type: ignore[index]
        if min(box_iou(boxes[0], boxes[1]), box_iou(boxes[1], boxes[2])) < SAME_FACE_IOU:
            continue  # the largest swapped face changed person: not a track
        scale = [_iod(w[1]) for w in window]  # type: ignore[index]
        jitter_out += _second_difference([w[0] for w in window], scale)  # type: ignore[index]
        jitter_in += _second_difference([w[1] for w in window], scale)  # type: ignore[index]
    closer = [s < o for s, o in zip(to_source, to_original, strict=True)]
    closer_rest = [c for c, kind in zip(closer, kinds, strict=True) if kind == "rest"]
    closer_sharp = [c for c, blur in zip(closer, on_blurred, strict=True) if not blur]
    figures: dict[str, Any] = {
        "identity_faces": len(to_source),
        "identity_turned_faces": kinds.count("turned"),
        "identity_blurred_faces": kinds.count("blurred"),
        "identity_undetected_after_swap": undetected,
        "identity_to_source": _median(to_source),
        "identity_to_original": _median(to_original),
        "identity_closer_to_source": round(sum(closer) / len(closer), 3) if closer else None,
        "identity_closer_to_source_rest": (
            round(sum(closer_rest) / len(closer_rest), 3) if closer_rest else None
        ),
        # every face but those on frames the clip blurred on purpose (turned ones included)
        "identity_closer_to_source_unblurred": (
            round(sum(closer_sharp) / len(closer_sharp), 3) if closer_sharp else None
        ),
        "identity_on_blurred_frames": [sum(c for c, b in zip(closer, on_blurred, strict=True) if b),
                                       sum(on_blurred)],
    }
    j_out, j_in = _mean(jitter_out), _mean(jitter_in)
    figures.update({
        "jitter_triples": len(jitter_out),
        "jitter_swapped": j_out,
        "jitter_original": j_in,
        "jitter_ratio": round(j_out / j_in, 3) if j_out is not None and j_in else None,
    })
    return figures


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 4) if values else None


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 5) if values else None


def blur_ceiling(analyzer: Any, source: Path, target: Path, sharp_output: Path, blurred: Sequence[bool],
                 max_frames: int = 24) -> dict[str, Any]:
    """[faces closer to the source, faces judged] on the first ``max_frames`` frames ``blurred``
    marks, for ``sharp_output`` (the swap of the clip left sharp) blurred as the clip blurs (see
    the module docstring); {} when none of those frames is blurred."""
    from fsbench.clips import defocus

    original = _read(target, max_frames).frames
    sharp = _read(sharp_output, max_frames).frames
    picked = [t for t in range(min(len(original), len(sharp))) if t < len(blurred) and blurred[t]]
    if not picked:
        return {}
    source_rgb = _read(source, 1).frames[0]
    figures = identity_and_jitter(analyzer, source_rgb, [original[t] for t in picked],
                                  [defocus(sharp[t]) for t in picked], [True] * len(picked))
    return {"identity_blurred_ceiling": figures.get("identity_on_blurred_frames", [0, 0])}


def measure_quality(analyzer: Any, source: Path, target: Path, output: Path, *, max_frames: int = 24,
                    identity: bool = True, blurred: Sequence[bool] = ()) -> dict[str, Any]:
    """All quality figures of one output (identity and jitter only when ``identity``; ``blurred``
    marks the input frames the clip blurred on purpose)."""
    original = _read(target, max_frames if identity else 0)
    swapped = _read(output, max_frames if identity else 0)
    figures = timing_figures(original, swapped)
    if identity:
        source_rgb = _read(source, 1).frames[0]
        figures.update(identity_and_jitter(analyzer, source_rgb, original.frames, swapped.frames, blurred))
    return figures
