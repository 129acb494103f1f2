"""Still pictures: EXIF orientation applied, alpha kept, formats recognised."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from frameswap.media import open_media


def _jpeg_with_orientation(rgb: np.ndarray, orientation: int) -> bytes:
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


def test_exif_rotated_jpeg_comes_out_upright():
    upright = np.zeros((40, 24, 3), np.uint8)  # portrait, red block at the top
    upright[:10] = (255, 0, 0)
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # how a camera held sideways stores it
    with open_media(_jpeg_with_orientation(stored, 6)) as reader:  # 6: rotate 90 clockwise to view
        assert (reader.info.width, reader.info.height) == (24, 40)
        (frame,) = reader.frames()
    assert frame.rgb.shape == (40, 24, 3)
    assert frame.rgb[:8, :, 0].mean() > 200 and frame.rgb[15:, :, 0].mean() < 40


@pytest.mark.parametrize(
    ("fmt", "name"), [("PNG", "png"), ("BMP", "bmp"), ("WEBP", "webp"), ("JPEG", "jpeg")]
)
def test_still_formats(fmt, name):
    rgb = np.random.default_rng(2).integers(0, 255, (9, 13, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    with open_media(buf.getvalue()) as reader:
        assert reader.info.format == name and reader.info.frame_count == 1
        (frame,) = reader.frames()
    if fmt != "JPEG":
        np.testing.assert_array_equal(frame.rgb, rgb)


def test_png_alpha_is_kept():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    with open_media(buf.getvalue()) as reader:
        assert reader.info.has_alpha
        (frame,) = reader.frames()
    assert frame.alpha is not None and frame.alpha[0, 0] == 0 and frame.alpha[1, 1] == 255
