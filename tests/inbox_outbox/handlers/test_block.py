"""Block{object: user, target: group, removeData}: group bans, as Lemmy sends them (FEP-1b12 moderation)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from actors.errors import Conflict, Forbidden
from inbox_outbox.services.membership import join_group, leave_group
from madeopen.app import Services
from storage.models import Follow, ModerationEntry
from tests.inbox_outbox.groups_support import (
    PUBLIC,
    add_post,
    add_remote_member,
    block,
    follow_row,
    group_uri,
    membership,
    person_uri,
    post,
    queued,
    receive,
    undo,
)
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")
ALICE = person_uri("alice")


@pytest.fixture
def mod(peer: Peer) -> PeerActor:
    """A moderator of the remote group, on the group's own server."""
    return peer.add_actor("mod", name="Moderator")


@pytest.fixture
async def alice_in_lemmings(services: Services, world: None, lemmings: PeerActor) -> None:
    assert services.remote is not None
    await services.remote.resolve(lemmings.id)
    async with services.sessions.begin() as session:
        session.add(Follow(follower_uri=ALICE, followee_uri=lemmings.id, state="accepted", activity_uri="http://node.test/activities/f1"))


def stripped(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "@context"}


# -- a remote group bans one of our people ------------------------------------------------------


@pytest.mark.usefixtures("alice_in_lemmings")
async def test_remote_group_ban_is_recorded(services: Services, lemmings: PeerActor, mod: PeerActor) -> None:
    # Lemmy sends the moderator's Block straight to the banned user's inbox, without an Announce.
    assert (await receive(services, mod, block(mod, ALICE, lemmings.id), recipient=ALICE)).state == "done"
    row = await follow_row(services, ALICE, lemmings.id)
    assert row is not None and row.state == "banned"

    assert services.fed is not None
    with pytest.raises(Forbidden, match="banned"):
        await join_group(services.fed, "alice", lemmings.id)
    with pytest.raises(Conflict, match="banned"):
        await leave_group(services.fed, "alice", lemmings.id)
    assert await queued(services) == []


@pytest.mark.usefixtures("alice_in_lemmings")
async def test_the_group_itself_may_ban(services: Services, lemmings: PeerActor) -> None:
    assert (await receive(services, lemmings, block(lemmings, ALICE, lemmings.id))).state == "done"
    row = await follow_row(services, ALICE, lemmings.id)
    assert row is not None and row.state == "banned"


@pytest.mark.usefixtures("alice_in_lemmings")
async def test_undo_block_lifts_the_ban(services: Services, lemmings: PeerActor, mod: PeerActor) -> None:
    ban = block(mod, ALICE, lemmings.id)
    assert (await receive(services, mod, ban)).state == "done"
    assert (await receive(services, mod, undo(mod, stripped(ban)))).state == "done"
    assert await follow_row(services, ALICE, lemmings.id) is None

    assert services.fed is not None
    assert await join_group(services.fed, "alice", lemmings.id) == "pending"  # she may ask again
    [sent] = await queued(services, "Follow")
    assert sent.inbox == lemmings.inbox


@pytest.mark.usefixtures("alice_in_lemmings")
async def test_ban_from_someone_who_does_not_moderate_is_dropped(services: Services, lemmings: PeerActor) -> None:
    async with Peer() as elsewhere:
        troll = elsewhere.add_actor("troll")
        outcome = await receive(services, troll, block(troll, ALICE, lemmings.id))
    assert outcome.state == "failed" and "may not moderate" in (outcome.error or "")
    row = await follow_row(services, ALICE, lemmings.id)
    assert row is not None and row.state == "accepted"


async def test_remove_data_tombstones_our_copies_of_their_posts(
    services: Services, lemmings: PeerActor, mod: PeerActor, carol: PeerActor
) -> None:
    spam = await add_post(services, carol.id, audience=lemmings.id)
    elsewhere = await add_post(services, carol.id, audience="http://other.example/c/other")
    ours = await add_post(services, ALICE, audience=lemmings.id, local_post=True)

    assert (await receive(services, mod, block(mod, carol.id, lemmings.id, remove_data=True))).state == "done"
    removed = await post(services, spam)
    assert removed.deleted and removed.content == "" and removed.document["type"] == "Tombstone"
    assert not (await post(services, elsewhere)).deleted
    kept = await post(services, ours)
    assert not kept.deleted and kept.content  # a peer never changes our own posts


async def test_block_without_target_or_of_no_group_is_ignored(services: Services, bob: PeerActor, lemmings: PeerActor) -> None:
    user_block = block(bob, ALICE, None)
    assert (await receive(services, bob, user_block)).state == "done"
    instance_ban = block(bob, ALICE, bob.id)  # target is no Group (Lemmy's site bans name the instance)
    assert (await receive(services, bob, instance_ban)).state == "done"
    assert await follow_row(services, ALICE, lemmings.id) is None


# -- a remote moderator of one of our groups ----------------------------------------------------


@pytest.fixture
async def garden_with_remote_mod(services: Services, world: None, bob: PeerActor, carol: PeerActor) -> None:
    await add_remote_member(services, "garden", bob, role="moderator")
    await add_remote_member(services, "garden", carol)


@pytest.mark.usefixtures("garden_with_remote_mod")
async def test_remote_moderator_bans_in_our_group(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    spam = await add_post(services, carol.id, group="garden")
    ban = block(bob, carol.id, group_uri("garden"), remove_data=True)
    assert (await receive(services, bob, ban, recipient=group_uri("garden"))).state == "done"

    row = await membership(services, "garden", carol.id)
    assert row is not None and row.state == "banned"
    assert (await post(services, spam)).deleted

    announces = await queued(services, "Announce")
    assert [a.activity["object"] for a in announces] == [stripped(ban)]  # relayed exactly as received
    [announce] = announces
    assert announce.signer == "garden" and announce.inbox == f"{bob.peer.base_url}/inbox"
    assert announce.activity["to"] == [PUBLIC] and announce.activity["audience"] == group_uri("garden")
    [reject] = await queued(services, "Reject")  # carol's server learns she no longer follows
    assert reject.inbox == carol.inbox and reject.activity["object"]["actor"] == carol.id

    lift = undo(bob, stripped(ban))
    assert (await receive(services, bob, lift)).state == "done"
    assert await membership(services, "garden", carol.id) is None
    assert [a.activity["object"]["type"] for a in await queued(services, "Announce")] == ["Block", "Undo"]
    async with services.sessions() as session:  # the group's moderation log names the remote moderator
        logged = [(e.actor_uri, e.action, e.target, e.reason) for e in await session.scalars(
            select(ModerationEntry).order_by(ModerationEntry.id))]
    assert logged == [(bob.id, "ban", carol.id, "spam"), (bob.id, "unban", carol.id, "")]


@pytest.mark.usefixtures("garden_with_remote_mod")
async def test_member_cannot_ban_in_our_group(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    outcome = await receive(services, carol, block(carol, bob.id, group_uri("garden")))
    assert outcome.state == "failed" and "not a moderator" in (outcome.error or "")
    row = await membership(services, "garden", bob.id)
    assert row is not None and (row.state, row.role) == ("accepted", "moderator")
    assert await queued(services) == []


@pytest.mark.usefixtures("garden_with_remote_mod")
async def test_remote_moderator_cannot_ban_the_owner(services: Services, bob: PeerActor) -> None:
    outcome = await receive(services, bob, block(bob, ALICE, group_uri("garden")))
    assert outcome.state == "failed" and "owns" in (outcome.error or "")
    row = await membership(services, "garden", ALICE)
    assert row is not None and (row.state, row.role) == ("accepted", "owner")
    assert await queued(services) == []
