"""The one error hierarchy of frameswap.

Every error derives from :class:`FrameswapError` *and* from the builtin a caller would
naturally catch (``FileNotFoundError`` for a missing file, ``ValueError`` for bad input...),
so code that knows nothing of frameswap still handles them sensibly. Only the CLI maps
these to exit codes and only the server maps them to HTTP status codes.
"""

from __future__ import annotations

import errno


class FrameswapError(Exception):
    """Root of every error frameswap raises on purpose."""


# --- media -----------------------------------------------------------------------------------


class MediaError(FrameswapError):
    """Something is wrong with an input or output media file."""


class MediaNotFoundError(MediaError, FileNotFoundError):
    """An input path does not exist."""


class UnsupportedMediaError(MediaError, ValueError):
    """The data is not in a format frameswap can read or write."""


class CorruptMediaError(MediaError, ValueError):
    """The data claims a supported format but is corrupt or truncated."""


class EmptyMediaError(MediaError, ValueError):
    """The input decodes to no frames at all."""


class MediaLimitError(MediaError, ValueError):
    """The input exceeds a configured limit (pixels per frame, frame count, bytes)."""


class OverwriteInputError(MediaError, FileExistsError):
    """The output path is the input file: frameswap never overwrites its input."""


class MediaEncodeError(MediaError, RuntimeError):
    """The encoder or muxer refused the frames or settings."""


class SourceError(FrameswapError, ValueError):
    """A source value (base64, data URI, URL) cannot be turned into bytes."""


class URLRefusedError(SourceError, PermissionError):
    """A URL was refused: bad scheme, private address, too many redirects, too large."""


# --- faces -----------------------------------------------------------------------------------


class FaceError(FrameswapError):
    """A problem with the faces found (or not found) in an image."""


class NoFaceError(FaceError, ValueError):
    """No face was found where one is needed (the source photo, or the whole target)."""


class FaceIndexError(FaceError, IndexError, ValueError):
    """A face index list is malformed, out of range, or does not pair with the other list."""


# --- models ----------------------------------------------------------------------------------


class ModelError(FrameswapError):
    """A problem with a model file or its runtime."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """A model file that is needed is not present; the message names the fetch command."""


class ModelChecksumError(ModelError, ValueError):
    """A model file's sha256 does not match the registry."""


class ModelDownloadError(ModelError, ConnectionError):
    """A model download failed (offline, HTTP error, interrupted)."""


class ModelContractError(ModelError, ValueError):
    """An ONNX file does not have the inputs/outputs its role requires."""


class ProviderError(ModelError, RuntimeError):
    """An execution provider (CUDA, CoreML...) was requested but cannot be used."""


class MissingDependencyError(FrameswapError, ImportError):
    """An optional part is not installed (an extra, or a checkout-only tool); the message names the
    install command."""


class RuntimeMissingError(ProviderError, MissingDependencyError):
    """No ONNX Runtime is importable: the CPU and GPU builds are exclusive extras, so a bare
    install has neither; the message names both install commands."""


# --- running ---------------------------------------------------------------------------------


class OptionsError(FrameswapError, ValueError):
    """An option has an invalid value (unknown restorer name, negative limit...)."""


class CancelledError(FrameswapError):
    """The work was cancelled by the caller before it finished."""


# --- the environment -------------------------------------------------------------------------

_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def disk_full_error(exc: BaseException) -> OSError | None:
    """The "no space left" ``OSError`` behind ``exc`` (itself, or what it was raised from), if any.

    Encoders wrap I/O errors (PyAV raises its own ``OSError`` subclasses, our writers re-raise as
    media errors), so the chain is followed rather than the outer type trusted. The CLI turns it
    into one line and its own exit code, the server into 507.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None
