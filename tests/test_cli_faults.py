"""Issue 11 item 8 and issue 10's URL sources: the CLI under signals, leftovers, a full disk, URLs.

The swapper is replaced by one that streams frames through the real ``write_media`` (so the real
atomic writer, its temporary file and its lock are what the tests watch), slowly when asked.
"""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frameswap import api, cli
from frameswap.atomic import temp_beside
from frameswap.cli.exit_codes import DISK_FULL
from frameswap.media import write_media
from frameswap.media.types import Frame, FrameTiming, MediaInfo
from frameswap.pipeline.stats import StageTimes

FRAMES = 40


def _frames(delay_s: float):
    for i in range(FRAMES):
        if delay_s:
            time.sleep(delay_s)
        rgb = np.full((16, 16, 3), (i * 6) % 256, np.uint8)
        yield Frame(i, rgb, FrameTiming(i * 50, 50, Fraction(1, 1000)))


INFO = MediaInfo(
    format="gif", kind="animation", width=16, height=16, frame_count=FRAMES,
    durations_ms=(50.0,) * FRAMES, loop=0, time_base=Fraction(1, 1000),
)


@dataclass
class StreamingSwapper:
    """Stands in for FaceSwapper: writes FRAMES frames to ``output`` through the real writer."""

    delay_s: float = 0.0
    models_dir: object = None
    providers: object = None
    fetched: tuple[bytes, ...] = ()

    def __call__(self, models_dir=None, providers=None):
        return self

    def swap(self, source, target, output, *, options, progress, fetcher):
        if str(target).startswith("http"):
            self.fetched = (fetcher(source), fetcher(target))
        write_media(output, _frames(self.delay_s), INFO)
        return type("R", (), {
            "path": Path(output), "format": "gif", "frame_count": FRAMES, "faces_found": 1,
            "stats": StageTimes(), "engine": "fake",
        })()


@pytest.fixture
def inputs(tmp_path):
    src, tgt = tmp_path / "face.png", tmp_path / "clip.png"
    Image.new("RGB", (8, 8), (200, 10, 10)).save(src)
    Image.new("RGB", (8, 8), (10, 200, 10)).save(tgt)
    return src, tgt


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_like_ctrl_c_and_leave_nothing(tmp_path, inputs, signum):
    out = tmp_path / "out" / "result.gif"
    out.parent.mkdir()
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_cli_faults import StreamingSwapper
        from frameswap import api, cli
        api.FaceSwapper = StreamingSwapper(delay_s=0.25)
        sys.exit(cli.main(["swap", {str(inputs[0])!r}, {str(inputs[1])!r}, "-o", {str(out)!r}, "-q"]))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):  # the writer has its temporary file open: the run is mid-way
            if list(out.parent.glob(".result.gif.*.part")):
                break
            time.sleep(0.05)
        assert list(out.parent.glob(".result.gif.*.part")), "the run never started writing"
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signum, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert list(out.parent.iterdir()) == []  # no output, no temporary file


def test_leftovers_of_killed_runs_are_swept_at_start(tmp_path, inputs, monkeypatch):
    monkeypatch.setattr(api, "FaceSwapper", StreamingSwapper())
    stale = tmp_path / ".old.gif.0123456789ab.part"  # what a SIGKILLed run leaves (no one holds it)
    stale.write_bytes(b"GIF89a half")
    unrelated = [tmp_path / ".notes.part", tmp_path / "draft.0123456789ab.part"]  # not our naming
    for path in unrelated:
        path.write_bytes(b"keep")
    out = tmp_path / "result.gif"
    with temp_beside(tmp_path / "other.gif") as busy:  # a live run's file, locked: must be kept
        assert cli.main(["swap", str(inputs[0]), str(inputs[1]), "-o", str(out), "-q"]) == 0
        assert busy.exists()
    assert not stale.exists()
    assert all(path.exists() for path in unrelated)
    with Image.open(out) as im:
        assert im.n_frames == FRAMES


def test_a_full_disk_is_one_line_with_its_own_exit_code(tmp_path, inputs, monkeypatch, capsys):
    monkeypatch.setattr(api, "FaceSwapper", StreamingSwapper())

    def no_space(fh, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), fh.name)

    monkeypatch.setattr("frameswap.media.writer._write_image", no_space)
    out = tmp_path / "result.gif"
    code = cli.main(["swap", str(inputs[0]), str(inputs[1]), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == DISK_FULL
    assert err.count("\n") == 1 and "no space left" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.png", "face.png"]  # nothing left


def test_swap_takes_url_sources(tmp_path, inputs, monkeypatch):
    """``swap --help`` promises URLs: they are fetched (with the server's guarded fetcher)."""
    swapper = StreamingSwapper()
    monkeypatch.setattr(api, "FaceSwapper", swapper)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a, **k: None  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        out = tmp_path / "result.gif"
        assert cli.main(["swap", f"{base}/face.png", f"{base}/clip.png", "-o", str(out), "-q"]) == 0
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert swapper.fetched == (inputs[0].read_bytes(), inputs[1].read_bytes())
