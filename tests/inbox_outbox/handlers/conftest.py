"""Fixtures for the handler tests: those shared with the service tests (``peer_fixtures``: our node on
http, a real peer with people and a Lemmy-like group, our people and groups, a peer serving posts), and
a second content peer, for activities whose objects live on another origin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.inbox_outbox.content_support import ContentPeer
from tests.support.peer_fixtures import *  # noqa: F403  (fixtures: pytest finds them by name here)


@pytest.fixture
async def content_peer2() -> AsyncIterator[ContentPeer]:
    """A second remote server (another origin)."""
    async with ContentPeer() as running:
        yield running
