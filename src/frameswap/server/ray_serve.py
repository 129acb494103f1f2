"""``frameswap serve --ray``: the same FastAPI app, deployed as N Ray Serve replicas.

Each replica builds its own app with :func:`frameswap.server.app.create_app` from the *same*
``ServerSettings`` (passed to every replica at deploy time), so routes, auth, limits and error
codes are exactly the plain server's, and each replica keeps its own loaded models (one CPU, or a
GPU share when the cluster has GPUs). The app is built on the replica (Serve's late-bound ingress,
``__serve_build_asgi_app__``), never pickled from the driver: it owns threads and model sessions.

v2 jobs: a job's status and result live in the job store of the replica that accepted it, and
Serve routes the polls to any replica. With one replica that is always the same one; with more,
the store must be shared: every replica gets the same settings, so the SQLite job store's path
(a file on a disk all replicas see: one node, or a shared volume) is the same for all of them.
Beyond one machine a networked store is needed (see the README's "Scaling out").
"""

from __future__ import annotations

import logging
import time
from typing import Any

from frameswap.cluster.ray_runtime import ray_connection, worker_resources
from frameswap.server.settings import ServerSettings

log = logging.getLogger("frameswap.server")

APP_NAME = "frameswap"


def build_deployment(settings: ServerSettings, replicas: int, resources: dict[str, Any]) -> Any:
    """The bound Serve application: ``replicas`` copies of the app, each built from ``settings``."""
    from ray import serve

    from frameswap.server.app import create_app

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
    settings: ServerSettings, address: str | None, replicas: int, gpus_per_worker: float | None
) -> None:
    """Deploy on Ray (``address`` as for ``batch --ray``) and serve on ``settings.host:port``
    until interrupted; the proxy is Serve's, the app and its limits are frameswap's."""
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
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            serve.shutdown()
