"""Atomic outputs: write beside the destination, rename into place only when complete.

Every file frameswap writes (media outputs, previews, model downloads, prepared model copies) goes
through here, so a crash or an error never leaves a half file under the final name. The temporary
file is created with the usual permissions (0o666 less the umask), unlike ``tempfile.mkstemp``'s
0o600, so an output is as readable as any file the user makes.

Why each temporary file (and temporary directory) is ``flock``-ed while in use: a process killed
outright (SIGKILL, the OOM killer, a power cut) cannot remove its temporary file, and another run
cannot tell a leftover from a file a live process is still writing by its name or age (a long
video keeps one open for minutes). The kernel releases a dead process's lock, so "can I take the
lock?" is exactly "is it a leftover?": :func:`sweep_stale_parts` and :func:`sweep_stale_temp_dirs`
delete only those. Where ``fcntl`` does not exist (Windows) nothing is locked and nothing swept.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_PART = re.compile(r"^\..+\.[0-9a-f]{12}\.(part|tmp)$")  # temp_beside's names, nothing else


def _lock(fd: int) -> None:
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _is_abandoned(path: Path) -> bool:
    """True when no live process holds ``path``'s lock (a file or a directory)."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the lock just taken
    return True


@contextmanager
def temp_beside(dest: str | os.PathLike[str], suffix: str = ".part") -> Iterator[Path]:
    """A new empty file next to ``dest``, removed on exit unless it was renamed meanwhile; locked
    for as long as it is in use (see the module docstring)."""
    dest = Path(dest)
    for _ in range(100):
        tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 48 random bits
        raise FileExistsError(f"cannot create a temporary file beside {dest}")
    try:
        _lock(fd)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def atomic_output(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path to write; it replaces ``dest`` when the block ends without error."""
    with temp_beside(dest) as tmp:
        yield tmp
        os.replace(tmp, dest)


def sweep_stale_parts(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files of :func:`temp_beside` in ``directory`` that no live process is
    writing (left by a killed run); returns what was deleted. Other files are never touched."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            if _PART.match(entry.name) and entry.is_file(follow_symlinks=False):
                path = Path(entry.path)
                if _is_abandoned(path):
                    path.unlink(missing_ok=True)
                    removed.append(path)
    return removed


TEMP_DIR_PREFIX = "frameswap-"


@contextmanager
def locked_temp_dir() -> Iterator[Path]:
    """A private temporary directory (``frameswap-*`` in the system temp dir), locked while in use
    and removed on exit; one a killed process leaves is removed by :func:`sweep_stale_temp_dirs`."""
    with tempfile.TemporaryDirectory(prefix=TEMP_DIR_PREFIX) as tmp:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            _lock(fd)
            yield Path(tmp)
        finally:
            os.close(fd)


def sweep_stale_temp_dirs(
    parent: str | os.PathLike[str] | None = None, *, min_age_s: float = 3600.0
) -> list[Path]:
    """Remove ``frameswap-*`` directories under ``parent`` (the system temp dir) whose process is
    gone; returns what was removed. The temp dir is shared by everyone, so a directory must also
    be untouched for ``min_age_s``: a frameswap too old to lock its directories may be using it."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for path in base.glob(f"{TEMP_DIR_PREFIX}*"):
            if (
                path.is_dir()
                and not path.is_symlink()
                and now - path.stat().st_mtime >= min_age_s
                and _is_abandoned(path)
            ):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed
