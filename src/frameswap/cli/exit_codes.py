"""Exit codes that tell errors apart; the one place errors become numbers."""

from __future__ import annotations

import errno

from frameswap import errors as e

DISK_FULL = 14  # no space (or quota) left where the output or a temporary file is written
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})

# Most specific first: the first matching class wins.
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (e.MediaNotFoundError, 3),
    (e.OverwriteInputError, 3),
    (e.MediaLimitError, 5),
    (e.UnsupportedMediaError, 4),
    (e.CorruptMediaError, 4),
    (e.EmptyMediaError, 4),
    (e.MediaEncodeError, 4),
    (e.URLRefusedError, 6),
    (e.SourceError, 6),
    (e.NoFaceError, 7),
    (e.FaceIndexError, 8),
    (e.ModelNotFoundError, 9),
    (e.ModelChecksumError, 10),
    (e.ModelDownloadError, 11),
    (e.ProviderError, 12),
    (e.ModelError, 13),
    (e.OptionsError, 2),
    (e.CancelledError, 130),
)


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error; 1 for any frameswap error not listed."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def disk_full_error(exc: BaseException) -> OSError | None:
    """The "no space left" ``OSError`` behind ``exc`` (itself, or what it was raised from), if any.

    Encoders wrap I/O errors (PyAV raises its own ``OSError`` subclasses, our writers re-raise as
    media errors), so the chain is followed rather than the outer type trusted.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None
