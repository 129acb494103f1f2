"""Server test fixtures: they live in ``kit.server`` (``tests/kit``, on pytest's ``pythonpath``) so
the tests can import its helpers too; this file only makes them fixtures here."""

from kit.server import fake, loopback_server, make_client  # noqa: F401
