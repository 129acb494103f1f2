"""The mixed batch the tests run: a GIF, an APNG, a video, a still, a corrupt GIF and a text file
in two folders, built from code (the astronaut photo panned, so every frame has a real face)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from frameswap.media import write_media
from kit.media_builders import animation_info, panning_frames, photo, write_test_video

SIZE = (96, 72)
DURATIONS = [40, 60, 80, 50]
VIDEO_PTS = [0, 40, 80, 120, 160]
MEDIA = ["a.gif", "d.jpg", "clips/b.png", "clips/broken.gif", "clips/c.mp4"]  # discovery order
GOOD = ["a.gif", "d.jpg", "clips/b.png", "clips/c.mp4"]


def build_mixed(root: Path) -> Path:
    (root / "clips").mkdir(parents=True)
    write_media(root / "a.gif", panning_frames(DURATIONS, SIZE), animation_info(DURATIONS, SIZE))
    apng = animation_info(DURATIONS, SIZE, fmt="apng")
    write_media(root / "clips/b.png", panning_frames(DURATIONS, SIZE), apng)
    write_test_video(root / "clips/c.mp4", VIDEO_PTS, size=SIZE, audio_seconds=0.3)
    Image.fromarray(photo(SIZE)).save(root / "d.jpg", quality=90)
    (root / "clips/broken.gif").write_bytes(b"GIF89a" + bytes(40))  # a GIF header, nothing sound
    (root / "notes.txt").write_text("not media: a folder input leaves it out")
    return root


def statuses(results, root: Path) -> dict[str, str]:
    """{input relative to ``root``: status} of a batch's results, in the batch's order."""
    return {Path(r.input).relative_to(root).as_posix(): r.status for r in results}
