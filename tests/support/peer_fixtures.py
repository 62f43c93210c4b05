"""Fixtures shared by tests that talk to a real peer on loopback: our node on http (the loopback peer has
no TLS, and handles like ``name@127.0.0.1:port`` are looked up over http), a real peer with people and a
Lemmy-like group, our people and groups, and a peer that also serves posts with the usual cast around it.

The handler and service tests star-import them all (``__all__``) into ``tests/inbox_outbox/handlers/
conftest.py`` and ``services/conftest.py`` rather than taking them from ``tests/inbox_outbox/conftest.py``:
the delivery and host tests beside those packages keep their own settings (https, real password hashing),
and a conftest there would override them. Other test modules import by name only the fixtures they want,
``from tests.support.peer_fixtures import bob, peer  # noqa: F401``, and keep their own where theirs
differ (``settings`` on https, or without ``_quick_passwords``, which is autouse wherever it is imported).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from actors import local
from madeopen.app import Services
from madeopen.settings import Settings
from tests.inbox_outbox.content_support import ContentPeer, World, make_world
from tests.inbox_outbox.groups_support import make_group, make_person
from tests.support.peer import Peer, PeerActor

# What a conftest takes with ``from tests.support.peer_fixtures import *``: the fixtures, one list.
__all__ = [
    "_quick_passwords",
    "bob",
    "carol",
    "content_peer",
    "content_world",
    "lemmings",
    "peer",
    "settings",
    "world",
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, scheme="http", allow_private_addresses=True)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    async with Peer() as running:
        yield running


@pytest.fixture
def bob(peer: Peer) -> PeerActor:
    return peer.add_actor("bob", name="Bob")


@pytest.fixture
def carol(peer: Peer) -> PeerActor:
    return peer.add_actor("carol", name="Carol")


@pytest.fixture
def lemmings(peer: Peer) -> PeerActor:
    """A remote group with Lemmy's collections (moderators, featured) on the peer."""
    base = f"{peer.base_url}/users/lemmings"
    return peer.add_actor(
        "lemmings", actor_type="Group", name="Lemmings",
        document_overrides={"moderators": f"{base}/moderators", "attributedTo": f"{base}/moderators",
                            "featured": f"{base}/featured"},
    )


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nobody logs in here: argon2 (~0.3 s a person) would be most of each test's time.
    monkeypatch.setattr(local, "hash_password", lambda password: "$test$" + password)


@pytest.fixture
async def world(services: Services) -> None:
    """alice owns the public group garden and the private group board; dave is another local person."""
    await make_person(services, "alice")
    await make_person(services, "dave")
    await make_group(services, "garden", owner="alice")
    await make_group(services, "board", private=True, owner="alice")


# -- content (posts, and the activities about them) ------------------------------------------------


@pytest.fixture
async def content_peer() -> AsyncIterator[ContentPeer]:
    async with ContentPeer() as running:
        yield running


@pytest.fixture
async def content_world(services: Services, content_peer: ContentPeer) -> World:
    return await make_world(services, content_peer)
