"""The README's layout block against the tree: every folder and module it names exists, and every
package folder and top-level module of ``src/frameswap`` (and every module of the classic engine)
is named there, so the map cannot drift from the territory unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "frameswap"


def _layout_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("Layout (what is installed")
    block = text[text.index("```", start) + 3 :]
    return block[: block.index("```")]


def test_every_package_folder_and_module_is_named():
    block = _layout_block()
    folders = [p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    modules = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    classic = [p.stem for p in (PACKAGE / "engines" / "classic").glob("*.py") if p.stem != "__init__"]
    engines = [p.stem for p in (PACKAGE / "engines").glob("*.py") if p.stem != "__init__"]
    missing = [f"{f}/" for f in folders if f"{f}/" not in block]
    missing += [m for m in modules if m not in block]
    missing += [m for m in classic + engines if not re.search(rf"\b{m}\b", block)]
    assert missing == [], f"the README's layout does not name {missing}"


def test_every_path_it_names_exists():
    block = _layout_block()
    named = re.findall(r"(?<![\w/.])((?:src/frameswap|tests|samples|benchmarks|docs|\.ci)/[\w./]*)", block)
    top = next(line for line in block.splitlines() if "api.py" in line)  # the package's own modules
    named += [f"src/frameswap/{m}" for m in re.findall(r"(?<![\w.])(\w+\.py)\b", top)]
    assert named, "no path found in the layout block"
    absent = [p for p in named if not (ROOT / p.rstrip("/")).exists()]
    assert absent == [], absent
