"""Where the faces are in every benchmark frame, known from how the frame was made, not detected.

The swap-coverage and outside-change figures must not trust our own detector: a detector miss
would then count as "no face here" and hide exactly the failure being measured. So the six faces
of insightface's ``t1`` group photo were annotated by hand (drawn on the photo and checked by eye,
brow-to-chin and cheek-to-cheek, like a detector's box), and every benchmark clip is a known
axis-aligned zoom and pan of that photo: a :class:`View` per frame maps the annotated boxes into
the frame exactly.

A face is *visible* in a frame when (nearly) all of its box lies inside the frame; a face the
frame edge cuts is neither required nor counted, because whether to swap half a face is a policy
choice, not a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels, edges (not centres)

T1_SIZE = (1280, 886)  # width, height of insightface.data.get_image("t1")
# Hand-annotated in t1 pixels, left to right. The order is the annotation's, not a detector's.
T1_FACES: tuple[Box, ...] = (
    (62.0, 270.0, 170.0, 392.0),  # woman on the left, head tilted, eyes down
    (277.0, 152.0, 375.0, 258.0),  # dark-haired woman behind, three-quarter view
    (467.0, 268.0, 578.0, 395.0),  # man in the grey shirt, smiling, slightly turned
    (750.0, 338.0, 852.0, 460.0),  # man in the red shirt, laughing, frontal
    (908.0, 62.0, 1018.0, 198.0),  # standing man on the top right, near profile
    (1137.0, 268.0, 1228.0, 392.0),  # blonde woman on the right, frontal
)
VISIBLE_SHARE = 0.95  # share of a face box's area that must lie inside the frame


@dataclass(frozen=True)
class View:
    """An axis-aligned zoom and pan: photo point (x, y) lands on frame point
    (zoom * (x - left), zoom * (y - top)). Edges map to edges, so boxes map exactly."""

    zoom: float
    left: float
    top: float

    @classmethod
    def from_window(cls, centre_x: float, centre_y: float, width: float, size: tuple[int, int]) -> View:
        """The view that shows the photo window of ``width`` photo pixels centred on the given point
        in a frame of ``size`` (width, height); the window's height follows the frame's aspect."""
        out_w, out_h = size
        height = width * out_h / out_w
        return cls(out_w / width, centre_x - width / 2, centre_y - height / 2)

    def map_box(self, box: Box) -> Box:
        """The photo box in frame pixels."""
        x0, y0, x1, y1 = box
        z = self.zoom
        return (z * (x0 - self.left), z * (y0 - self.top), z * (x1 - self.left), z * (y1 - self.top))


def inside_share(box: Box, size: tuple[int, int]) -> float:
    """The share of ``box``'s area that lies inside a frame of ``size`` (width, height)."""
    x0, y0, x1, y1 = box
    w, h = size
    inter = max(0.0, min(x1, w) - max(x0, 0.0)) * max(0.0, min(y1, h) - max(y0, 0.0))
    area = (x1 - x0) * (y1 - y0)
    return inter / area if area > 0 else 0.0


@dataclass(frozen=True)
class FrameTruth:
    """Every annotated face's box in one frame, whether the frame shows it whole, in part or not."""

    size: tuple[int, int]  # the frame's width, height
    boxes: tuple[Box, ...]

    def visible(self) -> tuple[int, ...]:
        """The faces a swap must cover here (see the module docstring)."""
        return tuple(i for i, b in enumerate(self.boxes) if inside_share(b, self.size) >= VISIBLE_SHARE)

    def present(self) -> tuple[int, ...]:
        """The faces with any part in the frame: a swap may touch these, and no other place."""
        return tuple(i for i, b in enumerate(self.boxes) if inside_share(b, self.size) > 0.0)


def frame_truth(view: View, size: tuple[int, int], faces: Sequence[Box] = T1_FACES) -> FrameTruth:
    """Where ``view`` puts each annotated face in a frame of ``size``."""
    return FrameTruth(size, tuple(view.map_box(face) for face in faces))


def clip_truth(
    views: Sequence[View], size: tuple[int, int], faces: Sequence[Box] = T1_FACES
) -> list[FrameTruth]:
    """:func:`frame_truth` of every frame of a clip."""
    return [frame_truth(view, size, faces) for view in views]


def sample_gif_views() -> list[View]:
    """The bundled sample GIF's camera per frame, derived from its recipe in ``sample_recipe``
    (read there, not copied, so the truth follows the recipe if it changes)."""
    import sample_recipe as samples

    start, end = samples._GIF_CAMERA_START, samples._GIF_CAMERA_END
    return [
        View.from_window(*samples._lerp_window(start, end, p), samples.SAMPLE_GIF_SIZE)
        for p in samples._gif_progress()
    ]


def sample_video_views() -> list[View]:
    """The bundled sample video's camera per frame, from its recipe (as :func:`sample_gif_views`)."""
    import sample_recipe as samples

    n, size = samples.SAMPLE_VIDEO_FRAMES, samples.SAMPLE_VIDEO_SIZE
    start, end = samples._VIDEO_CAMERA_START, samples._VIDEO_CAMERA_END
    windows = [samples._lerp_window(start, end, samples._ease(i / (n - 1))) for i in range(n)]
    return [View.from_window(*window, size) for window in windows]


def sample_gif_truth() -> list[FrameTruth]:
    """Per-frame truth boxes of the bundled sample GIF."""
    from sample_recipe import SAMPLE_GIF_SIZE

    return clip_truth(sample_gif_views(), SAMPLE_GIF_SIZE)


def sample_video_truth() -> list[FrameTruth]:
    """Per-frame truth boxes of the bundled sample video."""
    from sample_recipe import SAMPLE_VIDEO_SIZE

    return clip_truth(sample_video_views(), SAMPLE_VIDEO_SIZE)


def faces_seen(truth: Sequence[FrameTruth]) -> list[int]:
    """The annotated faces visible in at least one frame: the people a swap of "every face" must cover."""
    return sorted({i for frame in truth for i in frame.visible()})
