"""Add / Remove to featured (pins) and moderators: remote groups' are acknowledged, never ours from afar."""

from __future__ import annotations

from typing import Any

import pytest

from madeopen.app import Services
from tests.inbox_outbox.groups_support import (
    AS2,
    PUBLIC,
    activity_id,
    add_post,
    add_remote_member,
    featured_rows,
    group_uri,
    membership,
    queued,
    receive,
)
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


def add(actor: PeerActor, kind: str, obj: str, target: str, group: str) -> dict[str, Any]:
    """Lemmy's add_featured_post.json / add_mod.json shapes."""
    return {"@context": AS2, "id": activity_id(actor, kind), "type": kind, "actor": actor.id, "object": obj,
            "target": target, "to": [PUBLIC], "cc": [group], "audience": group}


@pytest.fixture
async def known_lemmings(services: Services, lemmings: PeerActor) -> PeerActor:
    assert services.remote is not None
    await services.remote.resolve(lemmings.id)
    return lemmings


@pytest.mark.parametrize("kind", ["Add", "Remove"])
async def test_pins_of_a_remote_group_are_acknowledged(services: Services, known_lemmings: PeerActor, kind: str) -> None:
    pin = add(known_lemmings, kind, f"{known_lemmings.id}/posts/1", f"{known_lemmings.id}/featured", known_lemmings.id)
    assert (await receive(services, known_lemmings, pin)).state == "done"
    assert await featured_rows(services) == []  # remote pins are not kept
    assert await queued(services) == []


async def test_moderator_change_by_an_outsider_is_dropped(services: Services, known_lemmings: PeerActor) -> None:
    async with Peer() as elsewhere:
        troll = elsewhere.add_actor("troll")
        change = add(troll, "Add", troll.id, f"{known_lemmings.id}/moderators", known_lemmings.id)
        outcome = await receive(services, troll, change)
    assert outcome.state == "failed" and "may not change" in (outcome.error or "")


@pytest.mark.parametrize("collection", ["featured", "moderators"])
async def test_our_groups_change_only_through_our_moderators(
    services: Services, bob: PeerActor, carol: PeerActor, collection: str
) -> None:
    await add_remote_member(services, "garden", bob, role="moderator")
    post = await add_post(services, carol.id, group="garden")
    item = post if collection == "featured" else carol.id
    change = add(bob, "Add", item, f"{group_uri('garden')}/{collection}", group_uri("garden"))
    assert (await receive(services, bob, change)).state == "failed"
    assert await featured_rows(services) == []
    assert await membership(services, "garden", carol.id) is None
    assert await queued(services) == []


async def test_add_to_an_unknown_collection_is_ignored(services: Services, bob: PeerActor) -> None:
    change = add(bob, "Add", f"{bob.id}/posts/1", f"{bob.id}/collections/stuff", bob.id)
    assert (await receive(services, bob, change)).state == "done"
