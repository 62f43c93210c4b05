"""Fixtures for the service tests: the ones they share with the handler tests (``peer_fixtures``: our
node on http, a real peer with people and a Lemmy-like group, our people and groups, a peer serving
posts)."""

from __future__ import annotations

from tests.support.peer_fixtures import *  # noqa: F403  (fixtures: pytest finds them by name here)
