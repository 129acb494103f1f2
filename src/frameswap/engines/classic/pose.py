"""Head yaw (and pitch) from 68 landmarks, so a frontal source is never pasted onto a profile.

A 2D warp puts a frontal face on a head turned by up to about 50 degrees well enough that most
such heads read as the source's person (47 of 48 on the 1280x720 bench clip; the region painted
is cut to the target's own contour, so the far cheek the head turns away is barely in it); turned
further the far half is squeezed into a sliver and the near half shows a cheek the source photo
never had, so ``yaw_weight`` fades the whole face out. The
yaw is read from where the nose tip sits between the two ends of the jaw line, measured along the
eye line (so a tilted head reads the same): halfway means frontal. The pitch, read from the same
points, lives here beside it: ``photos`` weighs both to pick the source photo posed most like
each target face.
"""

from __future__ import annotations

import numpy as np

# Degrees of yaw per unit of the nose tip's offset from the middle, as a fraction of the span
# (jaw ends, and eye centres: the mean of both). Read off t1 with dlib's landmarks: frontal faces
# sit at 0.51-0.57, faces turned by about 20 degrees at 0.29-0.34, the two heads turned by about 40
# degrees at 0.04-0.12; past a profile the tip leaves the span (below 0). A linear reading fits
# these within ~5 degrees; an arcsine of a cylinder model saturates long before a profile.
_DEGREES_PER_SPAN = 100.0
# the nose tip's depth below the eye line, as a share of the eye-to-mouth height, on a level face
# (the median over dlib fits of the frontal faces of t1, astronaut, and the shared test photos and
# clips, which read from -10 to +23 degrees around it: faces differ), and the nose's protrusion
# as a share of that height (a typical adult face)
_LEVEL_NOSE_SHARE = 0.52
_NOSE_DEPTH_SHARE = 0.45


def yaw_degrees(points: np.ndarray) -> float:
    """Signed yaw in degrees (clipped to +-90): negative when the nose points to the image's left."""
    pts = np.asarray(points, dtype=np.float64)
    axis = pts[42:48].mean(axis=0) - pts[36:42].mean(axis=0)
    norm = float(np.linalg.norm(axis))
    if norm <= 0:
        return 0.0
    axis /= norm
    nose = float(pts[30] @ axis)
    offsets = []
    eyes = (pts[36:42].mean(axis=0) @ axis, pts[42:48].mean(axis=0) @ axis)
    for left, right in ((pts[0] @ axis, pts[16] @ axis), eyes):
        span = float(right - left)
        offsets.append((nose - float(left)) / span - 0.5 if span > 0 else -1.0)
    return float(np.clip(_DEGREES_PER_SPAN * np.mean(offsets), -90.0, 90.0))


def pitch_degrees(points: np.ndarray) -> float:
    """Signed head pitch in degrees from 68 landmarks: positive when the face tilts up.

    The eyes and mouth lie near one plane and the nose tip stands out of it, so when the head
    tilts up the tip climbs towards the eye line: ``share = level - depth * tan(pitch)``, with the
    share measured across the eye line (so a rolled head reads the same). A coarse reading (a few
    degrees of noise), enough to tell a raised or lowered head from a level one.
    """
    pts = np.asarray(points, dtype=np.float64)
    axis = pts[42:48].mean(axis=0) - pts[36:42].mean(axis=0)
    norm = float(np.linalg.norm(axis))
    if norm <= 0:
        return 0.0
    down = np.array([-axis[1], axis[0]]) / norm  # perpendicular to the eye line, pointing chinwards
    eyes = pts[36:48].mean(axis=0)
    height = float((pts[48:68].mean(axis=0) - eyes) @ down)
    if height <= 0:
        return 0.0
    share = float((pts[30] - eyes) @ down) / height
    return float(np.degrees(np.arctan((_LEVEL_NOSE_SHARE - share) / _NOSE_DEPTH_SHARE)))


def yaw_weight(yaw: float, full: float, zero: float) -> float:
    """1 up to ``full`` degrees of yaw, falling linearly to 0 at ``zero`` degrees."""
    a = abs(yaw)
    if a <= full:
        return 1.0
    if a >= zero:
        return 0.0
    return (zero - a) / (zero - full)
