"""Disclosure through the whole pipeline (model-free fakes): on by default, off on request, the label
only in its corner, and C2PA manifests that c2pa's own reader validates."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from frameswap import __version__
from frameswap.cli import main
from frameswap.errors import OptionsError
from frameswap.media import Frame, FrameTiming, MediaInfo, open_media, write_media
from frameswap.media.gif_writer import xmp_application_extension
from frameswap.options import DisclosureOptions, SwapOptions
from frameswap.pipeline import Models, run_swap
from frameswap.provenance import DIGITAL_SOURCE_TYPE, disclosure_packet
from frameswap.provenance.disclosure import TOOL_NAME
from kit.fakes import PaintEngine, SquareAnalyzer, draw

SIZE = (160, 96)
SOURCE_ID = 77
SQUARES = [[(8, 20, 40, 10)], [(24, 20, 36, 10)], [], [(44, 20, 30, 10)]]
DELAYS_MS = [40, 60, 80, 500]


def _target(path: Path, fmt: str) -> Path:
    timings, pts = [], 0
    for delay in DELAYS_MS:
        timings.append(FrameTiming(pts, delay, Fraction(1, 1000)))
        pts += delay
    info = MediaInfo(format=fmt, kind="animation", width=SIZE[0], height=SIZE[1], frame_count=len(SQUARES),
                     durations_ms=tuple(map(float, DELAYS_MS)), loop=0)
    frames = (Frame(i, draw(SIZE, s), t) for i, (s, t) in enumerate(zip(SQUARES, timings, strict=True)))
    return write_media(path, frames, info, format=fmt)


@pytest.fixture()
def gif_target(tmp_path: Path) -> Path:
    return _target(tmp_path / "clip.gif", "gif")


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    path = tmp_path / "me.png"
    Image.fromarray(draw((80, 80), [(20, 20, 40, SOURCE_ID)])).save(path)
    return path


def swap(source, target, out, **disclosure):
    models = Models(analyzer=SquareAnalyzer(), engine=PaintEngine())
    options = SwapOptions(disclosure=DisclosureOptions(**disclosure))
    return run_swap(models, source, target, out, options)


def frames_of(path_or_bytes) -> list[np.ndarray]:
    with open_media(path_or_bytes) as reader:
        return [f.rgb for f in reader.frames()]


def test_disclosure_is_on_by_default_and_gif_gains_only_the_block(tmp_path, exiftool, source, gif_target):
    marked = swap(source, gif_target, tmp_path / "marked.gif").path
    plain = swap(source, gif_target, tmp_path / "plain.gif", machine_readable=False).path
    tags = exiftool(marked)
    assert tags["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert tags["XMP-xmp:CreatorTool"] == f"{TOOL_NAME} {__version__}"
    assert "XMP-iptcExt:DigitalSourceType" not in exiftool(plain)
    # GIF to GIF stays bit-exact: the disclosed file is the plain one plus the metadata block
    block = xmp_application_extension(disclosure_packet(f"{TOOL_NAME} {__version__}"))
    assert marked.read_bytes().replace(block, b"") == plain.read_bytes()


def test_bytes_outputs_are_disclosed_too(exiftool, source, gif_target, tmp_path):
    data = swap(source, gif_target, None).data
    path = tmp_path / "from-bytes.gif"
    path.write_bytes(data)
    assert exiftool(path)["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE


def _label_box(before: np.ndarray, after: np.ndarray) -> tuple[int, int, int, int]:
    """(y0, x0, y1, x1) around the pixels that differ; asserts some do and that they look drawn."""
    ys, xs = np.nonzero(np.any(before != after, axis=-1))
    assert len(ys) > 0
    box = after[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(int)
    assert box.max() - box.min() > 100  # light text on a dark box
    return int(ys.min()), int(xs.min()), int(ys.max()) + 1, int(xs.max()) + 1


def test_label_changes_only_a_small_bottom_right_box_on_every_frame(tmp_path, source):
    target = _target(tmp_path / "clip.png", "apng")  # lossless: the only differences are the label's
    plain = frames_of(swap(source, target, tmp_path / "plain.png").path)
    labelled = frames_of(swap(source, target, tmp_path / "label.png", label="AI-edited").path)
    assert len(labelled) == len(plain) == len(SQUARES)
    h, w = plain[0].shape[:2]
    for before, after in zip(plain, labelled, strict=True):  # the frame with no face too
        y0, x0, y1, x1 = _label_box(before, after)
        assert y0 >= h * 0.7 and x0 >= w * 0.5, "label pixels outside the corner"
        assert y1 >= h - 4 and x1 >= w - 4  # in the corner


def test_label_on_a_gif_changes_nothing_outside_its_corner_and_the_faces(tmp_path, source, gif_target):
    """GIF quantises what the pipeline changed (faces, label) block by block, so the faces' colours may
    shift with the label beside them; every other pixel must be the unlabelled output's."""
    plain = frames_of(swap(source, gif_target, tmp_path / "plain.gif").path)
    labelled = frames_of(swap(source, gif_target, tmp_path / "label.gif", label="AI-edited").path)
    h, w = plain[0].shape[:2]
    corner = (slice(int(h * 0.7), h), slice(int(w * 0.5), w))
    for i, (before, after) in enumerate(zip(plain, labelled, strict=True)):
        elsewhere = np.ones((h, w), bool)
        elsewhere[corner] = False
        for x, y, side, _ in SQUARES[i] + (SQUARES[i - 1] if i else []):  # faces now and just before
            elsewhere[y : y + side, x : x + side] = False
        np.testing.assert_array_equal(after[elsewhere], before[elsewhere])
        _label_box(before[corner], after[corner])


def test_label_on_a_transparent_frame_is_opaque_where_drawn():
    from frameswap.provenance import Label

    alpha = np.zeros((60, 120), np.uint8)
    frame = Frame(0, np.full((60, 120, 3), 128, np.uint8), FrameTiming(0, 10, Fraction(1, 100)), alpha)
    stamped = Label("AI").stamp(frame)
    drawn = stamped.alpha > 0
    assert drawn.any() and not drawn[:30].any() and not drawn[:, :60].any()
    assert stamped.alpha[drawn].min() >= 128  # over the GIF writer's opacity threshold
    np.testing.assert_array_equal(stamped.rgb[~drawn], frame.rgb[~drawn])


def test_bad_disclosure_options_are_refused():
    with pytest.raises(OptionsError, match="both"):
        DisclosureOptions(c2pa_cert=Path("chain.pem"))
    with pytest.raises(OptionsError, match="no-disclosure"):
        DisclosureOptions(machine_readable=False, c2pa_cert=Path("a"), c2pa_key=Path("b"))
    for label in ("", "   ", "two\nlines", "x" * 81):
        with pytest.raises(OptionsError, match="label"):
            DisclosureOptions(label=label)


# --- C2PA -----------------------------------------------------------------------------------------


def _read_manifest(data: bytes, mime: str) -> tuple[dict, dict]:
    import c2pa

    with c2pa.Reader(mime, io.BytesIO(data)) as reader:
        return json.loads(reader.json()), reader.get_active_manifest()


@pytest.mark.parametrize(
    ("suffix", "mime"),
    [(".gif", "image/gif"), (".png", "image/png"), (".jpg", "image/jpeg"), (".webp", "image/webp"),
     (".mp4", "video/mp4"), (".mov", "video/quicktime"), (".avi", "video/x-msvideo")],
)
def test_signed_outputs_validate_with_c2pa_reader(tmp_path, exiftool, c2pa_chain, source, gif_target,
                                                  suffix, mime):
    cert, key = c2pa_chain
    out = swap(source, gif_target, tmp_path / f"signed{suffix}", c2pa_cert=cert, c2pa_key=key).path
    store, manifest = _read_manifest(out.read_bytes(), mime)
    # the only complaint: the throwaway root is on no trust list
    assert [s["code"] for s in store["validation_status"]] == ["signingCredential.untrusted"]
    assert manifest["signature_info"]["common_name"] == "frameswap test signer"
    actions_assertion = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    actions = actions_assertion["data"]["actions"]
    assert [a["action"] for a in actions] == ["c2pa.opened", "c2pa.edited"]
    assert actions[1]["digitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert actions[1]["softwareAgent"]["name"] == "frameswap"
    ingredients = {i["relationship"]: i for i in manifest["ingredients"]}
    assert ingredients["parentOf"]["title"] == "clip.gif" and ingredients["parentOf"]["format"] == "image/gif"
    assert ingredients["componentOf"]["title"] == "me.png"
    # c2pa.opened names the parent, c2pa.edited the source photo
    opened_ref = actions[0]["parameters"]["ingredients"][0]["url"]
    edited_ref = actions[1]["parameters"]["ingredients"][0]["url"]
    assert opened_ref.endswith(ingredients["parentOf"]["label"])
    assert edited_ref.endswith(ingredients["componentOf"]["label"])
    if suffix != ".avi":  # AVI has no XMP place; the manifest is its only statement
        assert exiftool(out)["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE  # XMP survives signing
    assert len(frames_of(out)) == (1 if suffix == ".jpg" else len(SQUARES))
    assert not list(tmp_path.glob(".*.part"))  # the unsigned temporary is gone


def test_signed_bytes_output(c2pa_chain, source, gif_target):
    cert, key = c2pa_chain
    data = swap(source, gif_target, None, c2pa_cert=cert, c2pa_key=key).data
    store, _ = _read_manifest(data, "image/gif")
    assert [s["code"] for s in store["validation_status"]] == ["signingCredential.untrusted"]


def test_info_reports_the_manifest_and_the_statement(tmp_path, capsys, c2pa_chain, source, gif_target):
    cert, key = c2pa_chain
    out = swap(source, gif_target, tmp_path / "signed.gif", c2pa_cert=cert, c2pa_key=key).path
    assert main(["info", str(out), "--json"]) == 0
    provenance = json.loads(capsys.readouterr().out)["provenance"]
    assert provenance["digital_source_type"] == DIGITAL_SOURCE_TYPE and provenance["ai_disclosed"]
    assert provenance["c2pa"]["status"] == ["signingCredential.untrusted"]
    assert provenance["c2pa"]["actions"] == ["c2pa.opened", "c2pa.edited"]
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "compositeWithTrainedAlgorithmicMedia" in text and "frameswap test signer" in text


def test_signing_problems_are_refused_before_any_work(tmp_path, c2pa_chain, source, gif_target):
    cert, key = c2pa_chain
    with pytest.raises(OptionsError, match="bmp"):
        swap(source, gif_target, tmp_path / "out.bmp", c2pa_cert=cert, c2pa_key=key)
    other = tmp_path / "other.key"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(OptionsError, match="does not belong"):
        swap(source, gif_target, tmp_path / "out.gif", c2pa_cert=cert, c2pa_key=other)
    with pytest.raises(OptionsError, match="cannot read"):
        swap(source, gif_target, tmp_path / "out.gif", c2pa_cert=tmp_path / "missing.pem", c2pa_key=key)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["clip.gif", "me.png", "other.key"])


def test_cli_refuses_signing_without_disclosure(tmp_path, capsys, source, gif_target):
    code = main(["swap", str(source), str(gif_target), "-o", str(tmp_path / "out.gif"), "--no-disclosure",
                 "--c2pa-cert", "chain.pem", "--c2pa-key", "signer.key"])
    assert code == 2 and "no-disclosure" in capsys.readouterr().err
    assert not (tmp_path / "out.gif").exists()
