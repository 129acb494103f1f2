"""Server test fixtures: they live in ``kit.server`` (``tests/kit``, on pytest's ``pythonpath``) so
the tests can import its helpers too; this file makes them fixtures here."""

import pytest

from kit.server import fake, live_server, loopback_server, make_client  # noqa: F401


@pytest.fixture(autouse=True)
def _server_home(tmp_path, monkeypatch):
    """Each test's job store (database, results) lives in its own temporary FRAMESWAP_HOME."""
    monkeypatch.setenv("FRAMESWAP_HOME", str(tmp_path / "home"))
