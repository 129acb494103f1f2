"""`frameswap info`: the --json keys are a contract other tools read."""

from __future__ import annotations

import json

import numpy as np

from frameswap.cli import main
from frameswap.testing.media_builders import GifFrameSpec, hand_gif, write_test_video

CONTRACT_KEYS = {
    "format",
    "kind",
    "width",
    "height",
    "frame_count",
    "durations_ms",
    "loop",
    "fps",
    "time_base",
    "has_audio",
    "audio_codec",
    "has_alpha",
    "provenance",
}
PALETTE = np.array([(0, 0, 0), (255, 255, 255)], np.uint8)


def _gif(tmp_path, delays_cs, loop):
    frames = [GifFrameSpec(np.full((3, 4), i % 2, np.uint8), delay_cs=d) for i, d in enumerate(delays_cs)]
    path = tmp_path / "a.gif"
    path.write_bytes(hand_gif(4, 3, frames, global_palette=PALETTE, loop=loop))
    return path


def test_info_json_on_a_gif_gives_exact_durations_and_loop(tmp_path, capsys):
    path = _gif(tmp_path, [2, 3, 10, 7, 100, 0], loop=3)
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == CONTRACT_KEYS
    assert data["durations_ms"] == [20, 30, 100, 70, 1000, 0]
    assert data["loop"] == 3 and data["frame_count"] == 6 and data["format"] == "gif"
    assert (data["width"], data["height"]) == (4, 3)
    assert data["has_audio"] is False and data["audio_codec"] is None
    # a hand-made GIF says nothing about AI
    assert data["provenance"]["digital_source_type"] is None and not data["provenance"]["ai_disclosed"]


def test_info_json_loop_absent_is_null_and_forever_is_zero(tmp_path, capsys):
    main(["info", str(_gif(tmp_path, [5], loop=None)), "--json"])
    assert json.loads(capsys.readouterr().out)["loop"] is None
    main(["info", str(_gif(tmp_path, [5, 5], loop=0)), "--json"])
    assert json.loads(capsys.readouterr().out)["loop"] == 0


def test_info_on_a_video_reports_audio_and_time_base(tmp_path, capsys):
    path = write_test_video(tmp_path / "v.mp4", [0, 40, 100], audio_seconds=0.3)
    assert main(["info", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["has_audio"] is True and data["audio_codec"] == "aac"
    assert data["frame_count"] == 3 and data["durations_ms"][:2] == [40, 60]
    assert data["time_base"] is not None
    assert main(["info", str(path)]) == 0
    assert "aac" in capsys.readouterr().out


def test_info_on_a_missing_file_exits_with_the_not_found_code(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.gif")]) == 3
    assert "missing.gif" in capsys.readouterr().err
