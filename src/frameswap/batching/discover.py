"""Turn the command line's INPUT... (files, folders, globs) into (input, output) pairs.

Every output keeps its input's path relative to the folder or glob root it was found under, so a
tree of clips comes back as the same tree in ``--out-dir``. Everything is decided here, on the
driver, before any work starts: two inputs that would write the same output, or an output that
would land on an input, are refused at once instead of one clobbering the other half-way through.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from frameswap.errors import MediaNotFoundError, OptionsError
from frameswap.media.writer import FORMATS, suffix_for, suffix_format


@dataclass(frozen=True)
class BatchItem:
    """One input and the output it is written to."""

    input: Path
    output: Path


def is_media(path: Path) -> bool:
    """Whether a file's extension names a format frameswap reads (how folders and globs filter)."""
    return suffix_format(path) is not None


def _glob_root(pattern: str) -> Path:
    """The longest leading part of a glob pattern without wildcards: outputs are relative to it."""
    parts = Path(pattern).parts
    root: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        root.append(part)
    return Path(*root) if root else Path(".")


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _expand(argument: str, out_dir: Path) -> Iterable[tuple[Path, Path]]:
    """(file, path relative to its root) for one INPUT argument, media only for folders and globs.

    Files already under ``out_dir`` are left out of folders and globs, so a re-run over a folder
    that holds its own output folder does not take last run's outputs as new inputs.
    """
    path = Path(argument)
    if path.is_file():
        yield path, Path(path.name)
    elif path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            for name in sorted(filenames):
                found = Path(dirpath) / name
                if is_media(found) and not _under(found, out_dir):
                    yield found, found.relative_to(path)
    elif glob.has_magic(argument):
        root = _glob_root(argument)
        for name in sorted(glob.glob(argument, recursive=True)):
            found = Path(name)
            if found.is_file() and is_media(found) and not _under(found, out_dir):
                yield found, found.relative_to(root)
    else:
        raise MediaNotFoundError(f"{argument}: no such file, folder or matching glob")


def discover(
    inputs: Sequence[str | os.PathLike[str]], out_dir: str | os.PathLike[str], format: str | None = None
) -> list[BatchItem]:
    """The batch's items in a stable order (arguments in order, then sorted paths), each once.

    ``format`` changes every output's extension (``"mp4"`` -> ``clip.mp4``); otherwise an output
    keeps its input's extension and so its format. Raises ``OptionsError`` when an output folder
    is an input folder or two inputs would share an output, ``MediaNotFoundError`` when an
    argument matches nothing at all.
    """
    out = Path(out_dir)
    suffix = suffix_for(format) if format is not None else None
    for argument in inputs:
        if Path(argument).is_dir() and out.resolve() == Path(argument).resolve():
            raise OptionsError(f"--out-dir {out} is the input folder {argument}: outputs would replace it")
    items: list[BatchItem] = []
    seen_inputs: set[Path] = set()
    claimed: dict[Path, Path] = {}
    for argument in inputs:
        found_any = False
        for path, relative in _expand(os.fspath(argument), out):
            found_any = True
            key = path.resolve()
            if key in seen_inputs:
                continue
            seen_inputs.add(key)
            output = out / (relative.with_suffix(suffix) if suffix else relative)
            other = claimed.get(output.resolve())
            if other is not None:
                raise OptionsError(f"{other} and {path} would both be written to {output}; "
                                   "give them separate runs or folders")
            claimed[output.resolve()] = path
            items.append(BatchItem(path, output))
        if not found_any:
            known = ", ".join(f".{f}" for f in FORMATS if f != "apng")
            raise MediaNotFoundError(f"{argument}: no media file found (looked for {known})")
    if not items:
        raise MediaNotFoundError("no input given")
    for item in items:
        if item.output.resolve() in seen_inputs:
            raise OptionsError(f"{item.input} would be written over the input {item.output}; "
                               "choose another --out-dir")
    return items
