"""Connect to Ray (or start a local instance) and say what each frameswap worker needs from it.

Address rules, the same for ``batch --ray`` and ``serve --ray``:

- ``None`` / ``"local"``: start a Ray instance on this machine for this run only, and stop it at
  the end. No dashboard; usage statistics off unless the user set ``RAY_USAGE_STATS_ENABLED``.
- ``"auto"``: join the cluster this machine belongs to (``ray start`` was run here).
- ``"ray://host:10001"`` or ``"host:6379"``: join that cluster (Ray Client, or as a driver).

When Ray is already initialised in this process (a notebook, a test), it is used as it is and left
running. Every node of a cluster needs frameswap installed in the same version.

A cluster address is tried with a plain TCP connection first (``CONNECT_TIMEOUT_S``): Ray itself
retries an address where nothing answers for a long time (a ``host:port`` for over 11 minutes,
a ``ray://`` one 30 s and then a traceback), and a mistyped address deserves one clear line.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

from frameswap.errors import MissingDependencyError, OptionsError

INSTALL_HINT = "pip install 'frameswap[ray]'"
DEFAULT_GPUS_PER_WORKER = 0.5  # two workers share a GPU: one decodes/encodes while the other infers
CONNECT_TIMEOUT_S = 5.0


def require_ray() -> ModuleType:
    """The ``ray`` module, or a ``MissingDependencyError`` that says how to install it (a missing
    extra, not a bad option: the CLI exits with MISSING_PART)."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


@contextmanager
def _no_usage_stats() -> Iterator[None]:
    """``RAY_USAGE_STATS_ENABLED=0`` for the block, unless the user set it, then as it was.

    Ray decides whether to report usage from this variable when ``ray.init`` starts the local
    head (its processes inherit the environment then); ``ray.init`` has no argument for it, and
    a ``runtime_env`` reaches only the workers. So it is set just around the call: a library must
    not change its host process's environment for good.
    """
    name = "RAY_USAGE_STATS_ENABLED"
    if name in os.environ:
        yield
        return
    os.environ[name] = "0"
    try:
        yield
    finally:
        os.environ.pop(name, None)


@contextmanager
def ray_connection(address: str | None) -> Iterator[ModuleType]:
    """Ray, initialised for the block (see the module docstring for ``address``)."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    if address in (None, "local"):
        with _no_usage_stats():  # frameswap never reports on its user's behalf
            ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
    else:
        _check_reachable(address)
        try:
            ray.init(address=address, logging_level=logging.WARNING)
        except ConnectionError as exc:
            raise OptionsError(f"--ray {address}: {exc}".rstrip()) from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def _check_reachable(address: str) -> None:
    """An ``OptionsError`` unless something accepts a TCP connection at a ``ray://host:port`` or
    ``host:port`` address (``auto`` is Ray's own lookup, left to it)."""
    where = address.removeprefix("ray://")
    host, sep, port = where.rpartition(":")
    if address == "auto" or not sep or not (port.isascii() and port.isdigit()):
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise OptionsError(
            f"--ray {address}: nothing answers there ({exc.strerror or exc}); give the address of a "
            "running Ray cluster (ray://head:10001 or head:6379), 'auto' on a cluster node, or no "
            "address for a local Ray"
        ) from None


def worker_resources(ray: ModuleType, gpus_per_worker: float | None = None) -> dict[str, Any]:
    """What each worker (a batch actor or a serve replica) asks Ray for: one CPU, plus a share of a
    GPU when the cluster has any (``gpus_per_worker``, default 0.5)."""
    resources: dict[str, Any] = {"num_cpus": 1}
    share = DEFAULT_GPUS_PER_WORKER if gpus_per_worker is None else gpus_per_worker
    if share < 0 or (share > 1 and share != int(share)):
        raise OptionsError(f"GPUs per worker must be a fraction in (0, 1] or a whole number, got {share}")
    if share > 0 and ray.cluster_resources().get("GPU", 0) > 0:
        resources["num_gpus"] = share
    return resources


def worker_count(ray: ModuleType, resources: dict[str, Any], cap: int) -> int:
    """How many such workers the cluster can run at once (at least 1, at most ``cap``)."""
    available = ray.cluster_resources()
    fits = available.get("CPU", 1) // resources["num_cpus"]
    if resources.get("num_gpus"):
        fits = min(fits, available.get("GPU", 0) // resources["num_gpus"])
    return max(1, min(int(fits), cap))
