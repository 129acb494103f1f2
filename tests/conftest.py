"""Fixtures shared across test folders: one local Ray instance for the whole session.

Ray starts once (seconds on 2 cores) and serves both the batch and the serve tests: 2 CPUs, no
dashboard, no usage statistics. Tests that use it skip when Ray is not installed.
"""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(scope="session")
def local_ray():
    ray = pytest.importorskip("ray")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        try:
            yield ray
        finally:
            ray.shutdown()
