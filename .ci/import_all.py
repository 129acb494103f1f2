"""Import every module of the installed ``frameswap`` package, and check what the package holds.

Run in a fresh venv after ``pip install .`` (and again after ``pip install ".[server]"``), so a
module that imports something the install does not declare fails here and not on a user's machine:

    python .ci/import_all.py [--extra-missing fastapi --extra-missing pydantic ...]

``--extra-missing NAME``: a module may fail to import only because NAME (a module of an extra that
this install leaves out) is missing; every other failure counts.

It also reads every installed module's source (AST, function-level imports included) and fails on
one that imports insightface or builds ONNX graphs (``onnx.helper``): those belong to the test kit
and the benchmarks (``tests/kit``, ``benchmarks/``), never to the wheel. ``importlib`` and
``pkgutil`` do the walking; nothing here is specific to frameswap but the package name.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

PACKAGE = "frameswap"
# modules whose import marks test or benchmark code; none may appear in the installed package
FORBIDDEN = ("insightface", "onnx.helper", "kit", "fsbench", "sample_recipe")


def module_names(package: str) -> list[str]:
    root = importlib.import_module(package)
    names = [package]
    names += [m.name for m in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]
    return sorted(names)


def forbidden_imports(path: Path) -> list[str]:
    """``name (line)`` of every import in the file of a forbidden module (or from inside it)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
                found.append(f"{name} (line {node.lineno})")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extra-missing", action="append", default=[], metavar="MODULE",
                        help="a top-level module of an extra this install leaves out (repeatable)")
    args = parser.parse_args(argv)
    failures = 0
    root = Path(str(importlib.import_module(PACKAGE).__file__)).parent
    if "site-packages" not in root.parts:
        print(f"note: {PACKAGE} is imported from {root}, not from an installed copy", file=sys.stderr)
    names = module_names(PACKAGE)
    imported, needs_extra = 0, []
    for name in names:
        try:
            importlib.import_module(name)
            imported += 1
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] in args.extra_missing:
                needs_extra.append(f"{name} ({exc.name})")
                continue
            failures += 1
            print(f"FAIL import {name}:\n{traceback.format_exc()}", file=sys.stderr)
        except Exception:
            failures += 1
            print(f"FAIL import {name}:\n{traceback.format_exc()}", file=sys.stderr)
    for path in sorted(root.rglob("*.py")):
        for hit in forbidden_imports(path):
            failures += 1
            print(f"FAIL {path.relative_to(root.parent)} imports {hit}", file=sys.stderr)
    print(f"imported {imported} of {len(names)} modules of {PACKAGE} from {root}; {failures} failures")
    if needs_extra:
        print(f"need a missing extra: {', '.join(needs_extra)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
