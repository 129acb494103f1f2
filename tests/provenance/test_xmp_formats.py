"""Every writer stores the XMP statement where its format has a place for it, and nothing else changes.

Oracles: exiftool (an independent reader) finds the IPTC DigitalSourceType and the tool in each
format; for the writers that assemble their own containers (GIF, APNG) the file with the packet is
the file without it plus exactly the metadata block; elsewhere the decoded frames are identical.
"""

from __future__ import annotations

import numpy as np
import pytest

from frameswap.media import open_media, write_media
from frameswap.media.anim_writers import _xmp_itxt
from frameswap.media.gif_writer import xmp_application_extension
from frameswap.provenance import DIGITAL_SOURCE_TYPE, disclosure_packet, read_statement
from frameswap.testing.media_builders import animation_info, panning_frames

TOOL = "frameswap 9.9.9"
PACKET = disclosure_packet(TOOL)
DELAYS = [40, 70, 0, 120]
SIZE = (64, 48)
SUFFIX = {"gif": ".gif", "apng": ".png", "webp": ".webp", "png": ".png", "jpeg": ".jpg", "mp4": ".mp4",
          "mov": ".mov", "bmp": ".bmp", "mkv": ".mkv"}
WITH_XMP = ("gif", "apng", "webp", "png", "jpeg", "mp4", "mov")
STILLS = {"png", "jpeg", "bmp"}


def _write(tmp_path, fmt: str, xmp: bytes | None, still: bool = False):
    count = 1 if still or fmt in STILLS else len(DELAYS)
    info = animation_info(DELAYS[:count], SIZE, fmt=fmt)
    name = f"{fmt}{'-still' if still else ''}{'-xmp' if xmp else ''}{SUFFIX[fmt]}"
    return write_media(tmp_path / name, list(panning_frames(DELAYS[:count], SIZE)), info, format=fmt, xmp=xmp)


def _decoded(path):
    with open_media(path) as reader:
        return [f.rgb for f in reader.frames()], list(reader.info.durations_ms)


@pytest.mark.parametrize("fmt", WITH_XMP)
def test_exiftool_reads_the_digital_source_type_and_the_tool(tmp_path, exiftool, fmt):
    path = _write(tmp_path, fmt, PACKET)
    tags = exiftool(path)
    assert tags["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE
    assert tags["XMP-xmp:CreatorTool"] == TOOL
    assert not any(k.endswith(":Warning") or k.endswith(":Error") for k in tags), tags
    statement = read_statement(path)  # frameswap's own reader agrees
    assert statement is not None and statement.digital_source_type == DIGITAL_SOURCE_TYPE
    assert statement.creator_tool == TOOL and statement.ai_altered


def test_a_still_webp_carries_it_too(tmp_path, exiftool):
    tags = exiftool(_write(tmp_path, "webp", PACKET, still=True))
    assert tags["XMP-iptcExt:DigitalSourceType"] == DIGITAL_SOURCE_TYPE


@pytest.mark.parametrize("fmt", WITH_XMP)
def test_frames_and_timing_are_the_same_with_and_without_the_packet(tmp_path, fmt):
    plain, marked = _decoded(_write(tmp_path, fmt, None)), _decoded(_write(tmp_path, fmt, PACKET))
    assert marked[1] == plain[1]
    assert len(marked[0]) == len(plain[0])
    for a, b in zip(marked[0], plain[0], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("fmt", "block"), [("gif", xmp_application_extension), ("apng", _xmp_itxt)])
def test_own_containers_only_gain_the_metadata_block(tmp_path, fmt, block):
    plain = _write(tmp_path, fmt, None).read_bytes()
    marked = _write(tmp_path, fmt, PACKET).read_bytes()
    added = block(PACKET)
    assert marked.count(added) == 1
    assert marked.replace(added, b"") == plain


@pytest.mark.parametrize("fmt", ["bmp", "mkv"])
def test_formats_without_an_xmp_place_are_written_as_before(tmp_path, exiftool, fmt):
    path = _write(tmp_path, fmt, PACKET)
    assert "XMP-iptcExt:DigitalSourceType" not in exiftool(path)
    assert read_statement(path) is None


def test_no_packet_means_no_statement(tmp_path, exiftool):
    path = _write(tmp_path, "gif", None)
    assert "XMP-iptcExt:DigitalSourceType" not in exiftool(path)
    assert read_statement(path) is None


def test_the_packet_escapes_what_it_is_given():
    statement_text = disclosure_packet('tool "<1>" & co')
    from frameswap.provenance.xmp import parse_statement

    start = statement_text.index(b"<x:xmpmeta")
    end = statement_text.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")
    statement = parse_statement(statement_text[start:end])
    assert statement is not None and statement.creator_tool == 'tool "<1>" & co'


def test_other_tools_element_and_resource_forms_are_read(tmp_path):
    """Photoshop and generators write properties as elements (text or rdf:resource), not attributes."""
    from frameswap.provenance.xmp import parse_statement

    element = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        b' xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:CreatorTool>Some Editor 2</xmp:CreatorTool>'
        b'<Iptc4xmpExt:DigitalSourceType rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/'
        b'trainedAlgorithmicMedia"/></rdf:Description></rdf:RDF></x:xmpmeta>'
    )
    statement = parse_statement(element)
    assert statement is not None and statement.creator_tool == "Some Editor 2"
    assert statement.digital_source_type.endswith("/trainedAlgorithmicMedia") and statement.ai_altered
    # found in a file among junk and a broken opening, by scanning
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x00" * 100 + b"<x:xmpmeta broken" + b"\xff" * 50 + element + b"\x00" * 10)
    assert read_statement(path) == statement
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"<x:xmpmeta " * 10_000)  # openings without an end: looked at a bounded number
    assert read_statement(junk) is None
