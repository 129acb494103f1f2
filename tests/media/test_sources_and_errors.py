"""Inputs of every kind decode; bad inputs raise the right frameswap error, naming the input."""

from __future__ import annotations

import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from frameswap import errors
from frameswap.errors import OverwriteInputError
from frameswap.media import open_media, write_media
from frameswap.options import MediaLimits
from kit.media_builders import GifFrameSpec, hand_gif

PALETTE = np.array([(0, 0, 0), (200, 100, 50)], np.uint8)


@pytest.fixture(scope="module")
def gif_bytes():
    frames = [GifFrameSpec(np.full((3, 5), i % 2, np.uint8), delay_cs=4) for i in range(3)]
    return hand_gif(5, 3, frames, global_palette=PALETTE, loop=0)


def _decode_all(source, **kw):
    with open_media(source, **kw) as reader:
        return reader.info, list(reader.frames())


def test_path_bytes_file_object_base64_and_data_uri_all_decode_the_same(tmp_path, gif_bytes):
    path = tmp_path / "x.gif"
    path.write_bytes(gif_bytes)
    b64 = base64.b64encode(gif_bytes).decode()
    sources = [
        path,
        str(path),
        gif_bytes,
        io.BytesIO(gif_bytes),
        b64,
        f"data:image/gif;base64,{b64}",
        base64.urlsafe_b64encode(gif_bytes).decode().rstrip("="),
    ]
    results = [_decode_all(s) for s in sources]
    for info, frames in results:
        assert info.frame_count == 3 and info.durations_ms == (40.0, 40.0, 40.0)
        np.testing.assert_array_equal(frames[1].rgb, results[0][1][1].rgb)
    assert open_media(path).path == path
    assert open_media(gif_bytes).path is None


def test_urls_go_through_the_injected_fetcher_only(gif_bytes):
    seen = []
    info, _ = _decode_all("https://example.invalid/x.gif", fetcher=lambda url: seen.append(url) or gif_bytes)
    assert seen == ["https://example.invalid/x.gif"] and info.frame_count == 3
    with pytest.raises(errors.SourceError, match="fetcher"):
        open_media("https://example.invalid/x.gif")


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(errors.MediaNotFoundError, match=r"nope\.gif") as exc:
        open_media(tmp_path / "nope.gif")
    assert isinstance(exc.value, FileNotFoundError)


def test_unsupported_data(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some text, not a picture at all\n" * 4)
    with pytest.raises(errors.UnsupportedMediaError, match=r"notes\.txt"):
        open_media(path)


def test_bad_base64_and_data_uri_are_source_errors():
    with pytest.raises(errors.SourceError):
        open_media("data:image/gif;base64,!!!!")
    with pytest.raises(errors.SourceError):
        open_media("data:image/gif;base64")


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.95])
def test_truncated_gif_is_corrupt(gif_bytes, cut):
    with pytest.raises(errors.CorruptMediaError):
        _decode_all(gif_bytes[: int(len(gif_bytes) * cut)])


def test_corrupt_gif_lzw_data(gif_bytes):
    data = bytearray(gif_bytes)
    start = data.index(b"\x2c") + 10 + 1  # first image's LZW stream, after the code size byte
    data[start + 1 : start + 12] = b"\xff" * 11
    with pytest.raises(errors.CorruptMediaError):
        _decode_all(bytes(data))


def test_truncated_png_and_video_are_corrupt(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "PNG")
    with pytest.raises(errors.CorruptMediaError):
        _decode_all(buf.getvalue()[:400])
    from kit.media_builders import write_test_video

    video = write_test_video(tmp_path / "v.mp4", [0, 40, 80], audio_seconds=None).read_bytes()
    with pytest.raises(errors.CorruptMediaError):
        _decode_all(video[: len(video) // 2])


def test_empty_inputs(gif_bytes):
    with pytest.raises(errors.EmptyMediaError):
        open_media(b"")
    no_frames = hand_gif(4, 4, [], global_palette=PALETTE)
    with pytest.raises(errors.EmptyMediaError):
        open_media(no_frames)


def _chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def _png_bomb(width, height):
    """A few hundred bytes that claim width x height pixels: a tiny zlib stream of zero rows."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (width + 1) * 8)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


@pytest.mark.parametrize("side", [9_000, 100_000])  # under and over Pillow's own bomb threshold
def test_decompression_bombs_are_refused_from_the_header(side):
    with pytest.raises(errors.MediaLimitError, match=r"pixels|bomb"):
        open_media(_png_bomb(side, side))  # never allocated: refused before decoding
    bomb_gif = b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
    with pytest.raises(errors.MediaLimitError):
        open_media(bomb_gif, limits=MediaLimits(max_pixels_per_frame=4096 * 4096))


def test_frame_and_byte_limits(gif_bytes):
    with pytest.raises(errors.MediaLimitError, match="frames"):
        open_media(gif_bytes, limits=MediaLimits(max_frames=2))
    with pytest.raises(errors.MediaLimitError, match="bytes"):
        open_media(gif_bytes, limits=MediaLimits(max_input_bytes=10))
    with pytest.raises(errors.MediaLimitError, match="pixels"):
        open_media(gif_bytes, limits=MediaLimits(max_pixels_per_frame=14))


def test_output_never_overwrites_the_input(tmp_path, gif_bytes):
    path = tmp_path / "in.gif"
    path.write_bytes(gif_bytes)
    with open_media(path) as reader, pytest.raises(OverwriteInputError):
        write_media(tmp_path / "." / "in.gif", reader.frames(), reader.info, audio_from=reader)
    assert path.read_bytes() == gif_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.gif"]  # no temp file left behind


def test_failed_write_leaves_no_partial_file(tmp_path, gif_bytes):
    with open_media(gif_bytes) as reader:
        info = reader.info

    def broken():
        with open_media(gif_bytes) as r:
            yield from r.frames()
        raise RuntimeError("pipeline failed")

    with pytest.raises(RuntimeError):
        write_media(tmp_path / "out.gif", broken(), info)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_path_that_happens_to_be_base64_alphabet_is_reported_missing():
    with pytest.raises(errors.MediaNotFoundError):
        open_media("/no/such/dir/aaaaaaaaaaaaaaaa")
