"""Fixtures of the federation tests: a recording loopback peer and a federation client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from federation.http import FederationClient
from tests.support.http_peer import Peer, Received, build_peer_app, make_client, serve


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    received: list[Received] = []
    async with serve(build_peer_app(received)) as server:
        yield Peer(server, received)


@pytest.fixture
async def fed() -> AsyncIterator[FederationClient]:
    async with make_client() as client:
        yield client
