"""Atomic outputs: write beside the destination, rename into place only when complete.

Every file frameswap writes (media outputs, previews, model downloads, prepared model copies) goes
through here, so a crash or an error never leaves a half file under the final name. The temporary
file is created with the usual permissions (0o666 less the umask), unlike ``tempfile.mkstemp``'s
0o600, so an output is as readable as any file the user makes.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def temp_beside(dest: str | os.PathLike[str], suffix: str = ".part") -> Iterator[Path]:
    """A new empty file next to ``dest``, removed on exit unless it was renamed meanwhile."""
    dest = Path(dest)
    for _ in range(100):
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file beside {dest}")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_output(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write; it replaces ``dest`` when the block ends without error."""
    with temp_beside(dest) as tmp:
        yield tmp
        os.replace(tmp, dest)
