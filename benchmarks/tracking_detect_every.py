"""Detect fully every N frames and follow in between: cost and accuracy against detecting every frame.

Manual measurement on a real clip (not part of the test suite):

    /work/venv/bin/python benchmarks/tracking_detect_every.py CLIP [--every 1 2 3 5] [--max-frames N]

Uses the project's dlib analyzer (HOG detector, 68-point predictor, 128-D descriptor shipped by
face_recognition_models) through ``FaceFollower``. For each N it reports full detections per frame,
milliseconds per frame, and, against N=1: recall of the reference faces (IoU >= 0.5), mean box IoU,
mean 68-point landmark error over the inter-ocular distance, and track-id agreement (ids mapped
one-to-one by majority vote, then the share of matched faces whose id maps right).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

import numpy as np

from frameswap.faces.follow import FaceFollower
from frameswap.faces.geometry import iou_matrix
from frameswap.faces.track import FaceTracker, solve_assignment
from frameswap.media.reader import open_media
from frameswap.options import TrackerOptions


def load_frames(path: str, max_frames: int) -> list[np.ndarray]:
    with open_media(path) as reader:
        return [f.rgb for f, _ in zip(reader.frames(), range(max_frames), strict=False)]


def run(frames, analyzer, every: int):
    follower = FaceFollower(analyzer, FaceTracker(TrackerOptions()), every)
    start = time.perf_counter()
    out = [follower.process(img, i) for i, img in enumerate(frames)]
    elapsed = time.perf_counter() - start
    return out, follower.stats, elapsed


def compare(ref, got):
    """Accuracy of ``got`` against the detect-every-frame reference ``ref``."""
    n_ref = n_hit = n_extra = 0
    ious, lm_err, pairs = [], [], []
    for rf, gf in zip(ref, got, strict=True):
        n_ref += len(rf)
        if not rf or not gf:
            n_extra += len(gf)
            continue
        m = iou_matrix(np.array([f.box for f in rf]), np.array([f.box for f in gf]))
        matched = [(r, c) for r, c in solve_assignment(1.0 - m) if m[r, c] >= 0.5]
        n_hit += len(matched)
        n_extra += len(gf) - len(matched)
        for r, c in matched:
            ious.append(m[r, c])
            pairs.append((rf[r].track_id, gf[c].track_id))
            if rf[r].landmarks is not None and gf[c].landmarks is not None:
                iod = float(np.linalg.norm(rf[r].kps[0] - rf[r].kps[1]))
                err = np.linalg.norm(rf[r].landmarks - gf[c].landmarks, axis=1).mean()
                lm_err.append(err / max(iod, 1.0))
    votes = Counter(pairs)
    mapping, used = {}, set()
    for (a, b), _ in votes.most_common():
        if a not in mapping and b not in used:
            mapping[a] = b
            used.add(b)
    agree = sum(1 for a, b in pairs if mapping.get(a) == b)
    return {
        "recall": n_hit / n_ref if n_ref else 1.0,
        "extra_faces": n_extra,
        "mean_iou": float(np.mean(ious)) if ious else None,
        "landmark_err_iod": float(np.mean(lm_err)) if lm_err else None,
        "id_agreement": agree / len(pairs) if pairs else None,
        "ref_faces": n_ref,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--every", type=int, nargs="+", default=[1, 2, 3, 5])
    ap.add_argument("--max-frames", type=int, default=300)
    ap.add_argument("--upsample", type=int, default=1)
    args = ap.parse_args()
    from frameswap.faces.dlib_backend import DlibAnalyzer

    analyzer = DlibAnalyzer.from_packages(upsample=args.upsample)
    frames = load_frames(args.clip, args.max_frames)
    h, w = frames[0].shape[:2]
    print(f"{args.clip}: {len(frames)} frames {w}x{h}, dlib HOG upsample {args.upsample}")
    ref = None
    rows = []
    for every in sorted(set(args.every) | {1}):
        out, stats, elapsed = run(frames, analyzer, every)
        if every == 1:
            ref = out
        row = {
            "detect_every": every,
            "detections_per_frame": round(stats.detections_per_frame, 3),
            "forced": stats.forced,
            "ms_per_frame": round(1000 * elapsed / len(frames), 1),
            "tracks": len({f.track_id for fs in out for f in fs}),
            **compare(ref, out),
        }
        rows.append(row)
        print(json.dumps(row))


if __name__ == "__main__":
    main()
