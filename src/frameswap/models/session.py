"""ONNX Runtime session creation with one provider policy for every model.

The GPU path is only a provider name: the same session code runs on CUDA and on the CPU, so the
CPU tests cover it. ``auto`` takes CUDA, then CoreML, then the CPU, whichever this onnxruntime build
offers; an explicitly requested provider that is missing raises :class:`ProviderError`.

Which onnxruntime is installed is the user's choice of extra: ``onnxruntime`` and
``onnxruntime-gpu`` ship the same ``onnxruntime`` module, so installing both lets either overwrite
the other's files and the CUDA provider can vanish. frameswap therefore depends on neither; the
``[cpu]`` and ``[gpu]`` extras pick one (as rembg does), and this is the one place that imports
it, so a missing runtime is one clear error naming both commands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from frameswap.errors import ModelContractError, ModelNotFoundError, ProviderError, RuntimeMissingError
from frameswap.options import ProviderName

_ORT_NAMES: dict[str, str] = {
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "cpu": "CPUExecutionProvider",
}
_AUTO_ORDER = ("cuda", "coreml", "cpu")
INSTALL_RUNTIME = 'pip install "frameswap[cpu]" (or "frameswap[gpu]" on a CUDA machine)'
_RUNTIME_DISTRIBUTIONS = ("onnxruntime", "onnxruntime-gpu")


def import_onnxruntime() -> ModuleType:
    """The ``onnxruntime`` module, or :class:`RuntimeMissingError` naming the install commands."""
    try:
        import onnxruntime
    except ImportError as exc:
        raise RuntimeMissingError(f"no ONNX Runtime is installed ({exc}); {INSTALL_RUNTIME}") from exc
    return onnxruntime


def installed_runtimes() -> list[str]:
    """The onnxruntime distributions pip installed (more than one means they overwrote each other)."""
    found = []
    for name in _RUNTIME_DISTRIBUTIONS:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found.append(name)
    return found


def available_providers() -> list[str]:
    """Provider names (``cuda``, ``coreml``, ``cpu``) this onnxruntime build offers."""
    ort = import_onnxruntime()
    offered = set(ort.get_available_providers())
    return [name for name, ort_name in _ORT_NAMES.items() if ort_name in offered]


def resolve_providers(requested: Sequence[ProviderName] | ProviderName = "auto") -> list[str]:
    """onnxruntime provider names for a request, most preferred first, the CPU always last."""
    if isinstance(requested, str):
        requested = [requested]
    offered = available_providers()
    chosen: list[str] = []
    for name in requested:
        if name == "auto":
            chosen.extend(n for n in _AUTO_ORDER if n in offered)
        elif name not in _ORT_NAMES:
            raise ProviderError(f"unknown provider {name!r}; use one of: auto, cuda, coreml, cpu")
        elif name not in offered:
            raise ProviderError(_missing_provider_message(name, offered))
        else:
            chosen.append(name)
    if "cpu" not in chosen:
        chosen.append("cpu")
    ordered = list(dict.fromkeys(chosen))
    return [_ORT_NAMES[n] for n in ordered]


def _missing_provider_message(name: str, offered: Sequence[str]) -> str:
    message = (
        f"provider {name!r} is not available in this onnxruntime build "
        f"(available: {', '.join(offered)}); for CUDA install frameswap[gpu] "
        "(onnxruntime-gpu) matching your CUDA and cuDNN versions"
    )
    if len(installed_runtimes()) > 1:
        message += (
            "; both onnxruntime and onnxruntime-gpu are installed and share one module, so remove both "
            "and install one: pip uninstall -y onnxruntime onnxruntime-gpu && "
            'pip install "frameswap[gpu]"'
        )
    return message


@dataclass(frozen=True)
class SessionOptions:
    """How sessions are built: providers and thread counts (0 lets onnxruntime decide)."""

    providers: tuple[ProviderName, ...] = ("auto",)
    intra_op_threads: int = 0


def create_session(
    path: str | Path, options: SessionOptions = SessionOptions(), *, model: bytes | None = None
) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path`` with the chosen providers.

    ``model``: the serialised graph to run instead of the file's (a model cleaned in memory, such
    as CenterFace's); ``path`` then only names it in errors. Falls back to the CPU when a GPU
    provider fails to initialise (a CUDA/cuDNN mismatch is the usual cause), which onnxruntime
    does by itself when the CPU is in the provider list.
    """
    ort = import_onnxruntime()
    path = Path(path)
    if model is None and not path.is_file():
        raise ModelNotFoundError(f"model file not found: {path}")
    so = ort.SessionOptions()
    so.log_severity_level = 3  # keep "Removing initializer" chatter out of user output
    # Idle worker threads would otherwise spin after each run and take the CPU from the OpenCV
    # paste-back that follows (measured: 8 frames x 2 faces at 720p, 106 ms spinning vs 64 ms not).
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if options.intra_op_threads:
        so.intra_op_num_threads = options.intra_op_threads
    try:
        return ort.InferenceSession(
            str(path) if model is None else model, sess_options=so,
            providers=resolve_providers(options.providers),
        )
    except ProviderError:
        raise
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ModelContractError(f"cannot load ONNX model {path}: {exc}") from exc
