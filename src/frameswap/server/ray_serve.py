"""``frameswap serve --ray``: the same FastAPI app, deployed as N Ray Serve replicas.

Each replica builds its own app with :func:`frameswap.server.app.create_app` from the *same*
``ServerSettings`` (passed to every replica at deploy time), so routes, auth, limits and error
codes are exactly the plain server's, and each replica keeps its own loaded models (one CPU, or a
GPU share when the cluster has GPUs). The app is built on the replica (Serve's late-bound ingress,
``__serve_build_asgi_app__``), never pickled from the driver: it owns threads and model sessions.

v2 jobs: Serve sends a job's polls to any replica, so every replica must see every job. They all
open the one SQLite job store (``frameswap.server.store``, made for several processes on one
node): the driver pins the store's paths (``jobs_db``, ``results_dir``) to absolute paths before
deploying, so a replica whose ``$FRAMESWAP_HOME`` differs still opens the same files. Across
machines those paths must be one shared volume with working ``flock`` and SQLite locking, which
most network filesystems lack: beyond one node, keep v2 jobs to one node's replicas or put a
networked store behind the job store (see the README's "Scaling out").
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from frameswap.cluster.ray_runtime import ray_connection, worker_resources
from frameswap.server.settings import ServerSettings
from frameswap.server.store import default_server_home

log = logging.getLogger("frameswap.server")

APP_NAME = "frameswap"


def pinned_store_paths(settings: ServerSettings, environ: Mapping[str, str]) -> ServerSettings:
    """``settings`` with the job store's paths made absolute, as this process resolves them."""
    home = default_server_home(environ)
    return settings.with_changes(
        jobs_db=(settings.jobs_db or home / "jobs.sqlite3").resolve(),
        results_dir=(settings.results_dir or home / "results").resolve(),
    )


def build_deployment(settings: ServerSettings, replicas: int, resources: dict[str, Any]) -> Any:
    """The bound Serve application: ``replicas`` copies of the app, each built from ``settings``
    (with the job store's paths pinned here, so that every replica shares one store)."""
    from ray import serve

    from frameswap.server.app import create_app

    settings = pinned_store_paths(settings, os.environ)

    @serve.deployment(
        name=APP_NAME,
        num_replicas=replicas,
        ray_actor_options=resources,
        # the app's own queue answers 429 when full; Serve must not refuse earlier or differently
        max_ongoing_requests=settings.workers + settings.queue_size + 1,
    )
    @serve.ingress()
    class FrameswapReplica:
        def __init__(self, replica_settings: ServerSettings) -> None:
            self.settings = replica_settings

        def __serve_build_asgi_app__(self) -> Any:
            return create_app(self.settings)

    return FrameswapReplica.bind(settings)  # type: ignore[attr-defined]  # Serve adds bind()


def run_on_ray(
    settings: ServerSettings,
    address: str | None,
    replicas: int,
    gpus_per_worker: float | None,
    stop: threading.Event | None = None,
) -> None:
    """Deploy on Ray (``address`` as for ``batch --ray``) and serve on ``settings.host:port``
    until interrupted (Ctrl-C, SIGTERM through the CLI) or ``stop`` is set; the proxy is
    Serve's, the app and its limits are frameswap's."""
    with ray_connection(address) as ray:
        from ray import serve

        serve.start(
            http_options={
                "host": settings.host,
                "port": settings.port,
                "request_timeout_s": settings.job_timeout_s + settings.fetch_timeout_s + 30,
            }
        )
        app = build_deployment(settings, replicas, worker_resources(ray, gpus_per_worker))
        serve.run(app, name=APP_NAME, route_prefix="/")
        log.info("Ray Serve: %d replica(s) on http://%s:%d", replicas, settings.host, settings.port)
        try:
            (stop or threading.Event()).wait()  # a lock wait: Ctrl-C still interrupts it
        except KeyboardInterrupt:
            pass
        finally:
            serve.shutdown()
