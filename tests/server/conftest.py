"""Server test fixtures. They live in ``srvkit`` so the tests can import its helpers too; this
directory is put on ``sys.path`` for that (pytest does not do it for conftest directories here)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from srvkit import fake, live_server, loopback_server, make_client  # noqa: F401


@pytest.fixture(autouse=True)
def _server_home(tmp_path, monkeypatch):
    """Each test's job store (database, results) lives in its own temporary FRAMESWAP_HOME."""
    monkeypatch.setenv("FRAMESWAP_HOME", str(tmp_path / "home"))
