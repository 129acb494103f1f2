"""The XMP packet that says "altered with AI", and reading it back from any file.

What is written: IPTC's ``Iptc4xmpExt:DigitalSourceType`` with the IPTC NewsCode
``compositeWithTrainedAlgorithmicMedia`` ("a composite that includes synthetic elements made by a
trained model": a real target with a generated face), which is the term the EU AI Act art. 50
guidance, C2PA and the big platforms' AI labels read; and ``xmp:CreatorTool`` with the tool's name
and version, so a reader can tell which program and release made the change.

Why ElementTree and not an XMP library: the packet holds two properties and is written, never
edited. The standard library builds and escapes it; python-xmp-toolkit would add libexempi (a C
library through ctypes) for no gain, and it cannot put a packet into the streaming writers anyway
(each media writer embeds the bytes at its format's place, see ``frameswap.media``). Prefixes are
spelled out as literal names so no global namespace registry (``ET.register_namespace``) is touched.

Reading is by packet scanning (XMP spec part 3, 1.1.2): every format frameswap writes stores the
packet as plain UTF-8 (PNG iTXt uncompressed, the GIF "XMP DataXMP" extension, JPEG APP1, the WebP
``XMP `` chunk, the MP4/MOV ``uuid`` box), so one scan for ``<x:xmpmeta`` finds it in all of them
without a parser per container. Files are memory-mapped, so a large video is not read into memory.
The XML comes from untrusted files: ElementTree does not expand external entities, and the expat
it links (2.4.1 or later) refuses entity-expansion bombs.
"""

from __future__ import annotations

import mmap
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"

_NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}
# The packet wrapper's id is fixed by the XMP spec; the BOM tells readers the packet is UTF-8.
_HEADER = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_TRAILER = '\n<?xpacket end="w"?>'
_OPEN, _CLOSE = b"<x:xmpmeta", b"</x:xmpmeta>"
_MAX_PACKET = 1 << 20  # a packet longer than this is not one we look into
_MAX_CANDIDATES = 64  # "<x:xmpmeta" openings examined per file: a crafted file cannot make info slow


@dataclass(frozen=True)
class XmpStatement:
    """What an XMP packet says about how the file was made (None where it says nothing)."""

    digital_source_type: str | None
    creator_tool: str | None

    @property
    def ai_altered(self) -> bool:
        """Whether the file declares AI involvement (any trained/algorithmic IPTC source type)."""
        kind = (self.digital_source_type or "").rsplit("/", 1)[-1]
        return "Algorithmic" in kind


def disclosure_packet(tool: str) -> bytes:
    """The complete XMP packet (wrapper included, UTF-8) declaring the AI alteration by ``tool``."""
    root = ET.Element("x:xmpmeta", {"xmlns:x": _NS["x"], "x:xmptk": tool})
    rdf = ET.SubElement(root, "rdf:RDF", {"xmlns:rdf": _NS["rdf"]})
    ET.SubElement(
        rdf,
        "rdf:Description",
        {
            "rdf:about": "",
            "xmlns:Iptc4xmpExt": _NS["Iptc4xmpExt"],
            "xmlns:xmp": _NS["xmp"],
            "Iptc4xmpExt:DigitalSourceType": DIGITAL_SOURCE_TYPE,
            "xmp:CreatorTool": tool,
        },
    )
    body = ET.tostring(root, encoding="unicode")
    return (_HEADER + body + _TRAILER).encode("utf-8")


def parse_statement(packet: bytes) -> XmpStatement | None:
    """The statement in one ``x:xmpmeta`` element (attribute or element form); None if not XML."""
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return None
    found: dict[str, str | None] = {"DigitalSourceType": None, "CreatorTool": None}
    keys = {
        f"{{{_NS['Iptc4xmpExt']}}}DigitalSourceType": "DigitalSourceType",
        f"{{{_NS['xmp']}}}CreatorTool": "CreatorTool",
    }
    resource = f"{{{_NS['rdf']}}}resource"
    for element in root.iter():
        for name, value in element.attrib.items():
            if name in keys and found[keys[name]] is None:
                found[keys[name]] = value.strip()
        if element.tag in keys and found[keys[element.tag]] is None:
            value = element.get(resource) or "".join(element.itertext())
            found[keys[element.tag]] = value.strip() or None
    return XmpStatement(found["DigitalSourceType"], found["CreatorTool"])


def read_statement(path: Path) -> XmpStatement | None:
    """The first XMP packet in ``path`` that says how the file was made, else the first packet's
    (empty) statement; None when the file holds no readable XMP packet."""
    first: XmpStatement | None = None
    for packet in find_packets(path):
        statement = parse_statement(packet)
        if statement is None:
            continue
        if statement.digital_source_type or statement.creator_tool:
            return statement
        first = first or statement
    return first


def find_packets(path: Path) -> list[bytes]:
    """The ``x:xmpmeta`` elements in the file, in file order (at most 1 MiB each, and only among the
    first 64 openings)."""
    packets: list[bytes] = []
    with path.open("rb") as fh:
        try:
            view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            return packets
        with view:
            pos = 0
            for _ in range(_MAX_CANDIDATES):
                start = view.find(_OPEN, pos)
                if start < 0:
                    break
                end = view.find(_CLOSE, start, start + _MAX_PACKET)
                if end < 0:
                    pos = start + len(_OPEN)
                    continue
                start = view.rfind(_OPEN, start, end)  # no nesting: skip stray openings before the real one
                pos = end + len(_CLOSE)
                packets.append(view[start:pos])
    return packets
