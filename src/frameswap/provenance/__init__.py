"""Outputs that say they were made with AI (EU AI Act art. 50): XMP, C2PA and a visible label.

- ``xmp``: the IPTC ``DigitalSourceType`` statement (``compositeWithTrainedAlgorithmicMedia``) and
  the tool's name and version, as an XMP packet each media writer stores in its format's place;
  and reading it back from any file (``frameswap info``).
- ``signing``: a C2PA manifest signed with the operator's certificate (optional, ``c2pa-python``).
- ``label``: an optional visible text in a corner of every frame.

:class:`Disclosure` is what one swap applies, built from :class:`~frameswap.options.DisclosureOptions`
before any frame is processed, so bad credentials or a label that cannot be drawn fail early.
"""

from __future__ import annotations

from frameswap.provenance.disclosure import Disclosure, ingredient_of
from frameswap.provenance.label import Label
from frameswap.provenance.signing import C2paCredentials, Ingredient
from frameswap.provenance.xmp import DIGITAL_SOURCE_TYPE, XmpStatement, disclosure_packet, read_statement

__all__ = [
    "DIGITAL_SOURCE_TYPE",
    "C2paCredentials",
    "Disclosure",
    "Ingredient",
    "Label",
    "XmpStatement",
    "disclosure_packet",
    "ingredient_of",
    "read_statement",
]
