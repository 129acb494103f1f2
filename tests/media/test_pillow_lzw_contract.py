"""Contract of the private Pillow API the GIF code relies on: ``Image._getdecoder("P", "gif", ...)``
(``media/gif.py``) and ``Image._getencoder("P", "gif", ...)`` (``media/gif_writer.py``).

Private means Pillow may change it in any release, so ``pyproject.toml`` caps Pillow below the next
major version and these tests say exactly what we depend on, each against an independent oracle:
the decoder against a hand-made LZW stream (``kit.media_builders.lzw_uncompressed``, pure numpy),
the encoder (through ``gif_writer.lzw_blocks``, its one caller) against Pillow's public GIF reader
(``Image.open``). When a new Pillow passes them, the
cap can move.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from frameswap.media.gif_writer import lzw_blocks
from kit.media_builders import lzw_uncompressed


def _decode(sub_blocks: bytes, width: int, height: int, *, code_size: int = 8, interlace: bool = False):
    """Exactly the call sequence of ``media.gif.decode_indices``."""
    im = Image.new("P", (width, height), 0)
    decoder = Image._getdecoder("P", "gif", (code_size, interlace, -1))
    decoder.setimage(im.im, (0, 0, width, height))
    _, err = decoder.decode(sub_blocks)
    decoder.cleanup()
    return np.asarray(im), err


def _gif_with(width: int, height: int, code_size: int, sub_blocks: bytes) -> bytes:
    """A one-frame GIF89a with a 256-entry grey palette around the given LZW data."""
    palette = np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes()
    return b"".join([
        b"GIF89a", struct.pack("<HHBBB", width, height, 0xF7, 0, 0), palette,
        b"\x2c", struct.pack("<HHHHB", 0, 0, width, height, 0), bytes([code_size]), sub_blocks, b"\x3b",
    ])


@pytest.fixture
def indices() -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, size=(37, 53), dtype=np.uint8)


def test_decoder_reads_a_hand_made_lzw_stream(indices):
    stream = lzw_uncompressed(indices)  # code size byte, sub-blocks, terminator
    decoded, err = _decode(stream[1:], 53, 37)
    assert err >= 0
    np.testing.assert_array_equal(decoded, indices)


def test_decoder_deinterlaces_when_asked(indices):
    h = indices.shape[0]
    stored_order = [*range(0, h, 8), *range(4, h, 8), *range(2, h, 4), *range(1, h, 2)]
    stream = lzw_uncompressed(indices[stored_order])  # rows as an interlaced GIF stores them
    decoded, err = _decode(stream[1:], 53, 37, interlace=True)
    assert err >= 0
    np.testing.assert_array_equal(decoded, indices)


def _sub_blocks(codes: list[int]) -> bytes:
    """9-bit codes packed LSB first into one sub-block, then the terminator."""
    arr = np.array(codes, np.uint16)
    packed = np.packbits(((arr[:, None] >> np.arange(9, dtype=np.uint16)) & 1).astype(np.uint8).ravel(),
                         bitorder="little").tobytes()
    return bytes([len(packed)]) + packed + b"\x00"


def test_decoder_reports_a_code_past_the_table_as_a_negative_error():
    # clear, two literals, then 400: the table holds only 258..259 by then
    _, err = _decode(_sub_blocks([256, 1, 2, 400, 257]), 4, 4)
    assert err < 0
    _, ok = _decode(_sub_blocks([256, *([3] * 16), 257]), 4, 4)
    assert ok >= 0


@pytest.mark.parametrize("code_size", [2, 8])
def test_encoder_output_is_read_back_by_pillows_public_reader(code_size):
    values = np.random.default_rng(code_size).integers(0, 1 << code_size, size=(29, 41), dtype=np.uint8)
    data = _gif_with(41, 29, code_size, lzw_blocks(values, code_size))
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert im.mode in ("P", "L")
        np.testing.assert_array_equal(np.asarray(im), values)
