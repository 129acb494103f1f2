"""Exit codes that tell errors apart; the one place errors become numbers."""

from __future__ import annotations

from frameswap import errors as e

DISK_FULL = 14  # no space (or quota) left where the output or a temporary file is written
MISSING_PART = 15  # an extra (or the checkout-only bench harness) is not installed
# ``frameswap batch`` ran every input but at least one failed (each failure is in its report line).
BATCH_FAILURES = 16

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
    (e.MissingDependencyError, MISSING_PART),
    (e.OptionsError, 2),
    (e.CancelledError, 130),
)


def exit_code_for(exc: BaseException) -> int:
    """The exit code for an error; 1 for any frameswap error not listed."""
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1
