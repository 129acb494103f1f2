"""``docs/models.md`` is the contract document the package cites: every citation in the code must
name a section that exists, and every hash the registry enforces must be the one documented."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "models.md").read_text()
REGISTRY = json.loads((ROOT / "src" / "frameswap" / "models" / "registry.json").read_text())


def _sections() -> set[str]:
    """Section numbers of the document's headings: ``1``, ``1.5``, ``10.1`` ..."""
    return set(re.findall(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", DOC, flags=re.M))


def test_every_citation_in_the_package_names_an_existing_section():
    cited: dict[str, list[str]] = {}
    for path in (ROOT / "src" / "frameswap").rglob("*.py"):
        for number in re.findall(r"docs/models\.md §(\d+(?:\.\d+)?)", path.read_text()):
            cited.setdefault(number, []).append(path.name)
    assert cited, "the package cites docs/models.md"
    missing = {n: files for n, files in cited.items() if n not in _sections()}
    assert not missing, f"cited sections absent from docs/models.md: {missing}"


def test_every_enforced_hash_is_the_documented_one():
    entries = [*REGISTRY["models"], *REGISTRY["archives"].values()]
    hashes = {e.get("name", e["file"]): e["sha256"] for e in entries if e["sha256"]}
    hashes |= {f"{m['name']} (also)": a["sha256"] for m in REGISTRY["models"] for a in m["also_accepted"]}
    assert len(hashes) >= 10
    undocumented = {name: h for name, h in hashes.items() if h not in DOC}
    assert not undocumented, f"hashes in registry.json but not in docs/models.md: {undocumented}"
