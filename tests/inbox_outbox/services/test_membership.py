"""Membership services: joining and leaving, following, join requests and bans, as users and peers see them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from inbox_outbox.federation import Federation
from inbox_outbox.services import membership as svc
from madeopen.app import Services
from storage.models import Activity, Delivery
from tests.inbox_outbox.groups_support import (
    PUBLIC,
    add_local_member,
    add_post,
    add_remote_member,
    follow,
    follow_row,
    group_uri,
    membership,
    memberships,
    person_uri,
    post,
    published,
    queued,
    receive,
)
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")
ALICE, DAVE = person_uri("alice"), person_uri("dave")


@pytest.fixture
def fed(services: Services) -> Federation:
    assert services.fed is not None
    return services.fed


def stripped(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "@context"}


async def nothing_written(services: Services) -> bool:
    async with services.sessions() as session:
        return (await session.scalar(select(Activity.id).limit(1))) is None and (
            await session.scalar(select(Delivery.id).limit(1))
        ) is None


# -- local groups ---------------------------------------------------------------------------------


async def test_join_local_groups(services: Services, fed: Federation) -> None:
    assert await svc.join_group(fed, "dave", "garden") == "accepted"
    assert await svc.join_group(fed, "dave", "garden") == "accepted"  # idempotent
    assert await svc.join_group(fed, "dave", f"board@node.test") == "pending"
    assert await svc.pending_requests(fed, "board") == [DAVE]

    await svc.approve_join(fed, "board", "dave", moderator="alice")
    row = await membership(services, "board", DAVE)
    assert row is not None and row.state == "accepted"
    assert await queued(services) == []  # local people need no messages

    await svc.leave_group(fed, "dave", group_uri("board"))
    assert await membership(services, "board", DAVE) is None


async def test_last_owner_cannot_leave(fed: Federation) -> None:
    with pytest.raises(Conflict, match="last owner"):
        await svc.leave_group(fed, "alice", "garden")
    with pytest.raises(NotFound, match="not a member"):
        await svc.leave_group(fed, "dave", "garden")


async def test_reject_a_local_request(services: Services, fed: Federation) -> None:
    await svc.join_group(fed, "dave", "board")
    await svc.reject_join(fed, "board", "dave@node.test")
    assert await membership(services, "board", DAVE) is None


# -- remote groups and people -------------------------------------------------------------------


async def test_join_and_leave_a_remote_group(services: Services, fed: Federation, lemmings: PeerActor) -> None:
    assert await svc.join_group(fed, "alice", lemmings.handle) == "pending"
    [sent] = await queued(services, "Follow")
    assert (sent.inbox, sent.signer, sent.activity["object"]) == (lemmings.inbox, "alice", lemmings.id)

    assert await svc.join_group(fed, "alice", lemmings.id) == "pending"  # asked again: the Follow is re-sent
    second = (await queued(services, "Follow"))[-1].activity
    row = await follow_row(services, ALICE, lemmings.id)
    assert row is not None and row.activity_uri == second["id"]

    await svc.leave_group(fed, "alice", lemmings.handle)
    [withdrawal] = await queued(services, "Undo")
    assert withdrawal.inbox == lemmings.inbox
    assert withdrawal.activity["object"] == {"id": second["id"], "type": "Follow", "actor": ALICE, "object": lemmings.id}
    assert await follow_row(services, ALICE, lemmings.id) is None


async def test_a_person_is_not_a_group(fed: Federation, bob: PeerActor) -> None:
    with pytest.raises(InvalidInput, match="not a group"):
        await svc.join_group(fed, "alice", bob.id)
    with pytest.raises(InvalidInput, match="not a group"):
        await svc.join_group(fed, "alice", "dave")


async def test_follow_and_unfollow_people(services: Services, fed: Federation, bob: PeerActor) -> None:
    assert await svc.follow_actor(fed, "alice", bob.handle) == "pending"
    [sent] = await queued(services, "Follow")
    assert sent.inbox == bob.inbox and sent.bypass_host_health

    assert await svc.follow_actor(fed, "alice", "dave") == "accepted"  # local: at once, nothing sent
    row = await follow_row(services, ALICE, DAVE)
    assert row is not None and row.state == "accepted"

    await svc.unfollow_actor(fed, "alice", bob.id)
    [withdrawal] = await queued(services, "Undo")
    assert withdrawal.activity["object"]["id"] == sent.activity["id"]
    await svc.unfollow_actor(fed, "alice", "dave")
    assert await follow_row(services, ALICE, DAVE) is None
    with pytest.raises(NotFound):
        await svc.unfollow_actor(fed, "alice", "dave")
    with pytest.raises(InvalidInput, match="yourself"):
        await svc.follow_actor(fed, "alice", "alice")


async def test_unknown_names(fed: Federation, peer: Peer) -> None:
    with pytest.raises(NotFound, match="unknown group"):
        await svc.approve_join(fed, "nosuchgroup", "dave")
    with pytest.raises(NotFound, match="unknown user"):
        await svc.join_group(fed, "nobody", "garden")
    with pytest.raises(NotFound):
        await svc.join_group(fed, "alice", f"nobody@{peer.host}")


# -- join requests from remote actors -----------------------------------------------------------


async def test_approve_a_remote_request(services: Services, fed: Federation, bob: PeerActor) -> None:
    request = follow(bob, group_uri("board"))
    assert (await receive(services, bob, request)).state == "done"
    await svc.approve_join(fed, "board", bob.handle)  # the operator (CLI): answered in the group's name

    row = await membership(services, "board", bob.id)
    assert row is not None and row.state == "accepted"
    [answer] = await queued(services)
    assert (answer.activity["type"], answer.inbox, answer.signer) == ("Accept", bob.inbox, "board")
    assert answer.activity["object"] == {"id": request["id"], "type": "Follow", "actor": bob.id, "object": group_uri("board")}

    with pytest.raises(Conflict, match="already a member"):
        await svc.approve_join(fed, "board", bob.id)


async def test_reject_a_remote_request(services: Services, fed: Federation, bob: PeerActor) -> None:
    request = follow(bob, group_uri("board"))
    assert (await receive(services, bob, request)).state == "done"
    await svc.reject_join(fed, "board", bob.id, moderator="alice")
    assert await membership(services, "board", bob.id) is None
    [answer] = await queued(services)
    assert answer.activity["type"] == "Reject" and answer.activity["object"]["id"] == request["id"]


async def test_answering_needs_a_pending_request_and_a_moderator(services: Services, fed: Federation, bob: PeerActor) -> None:
    with pytest.raises(NotFound, match="no pending request"):
        await svc.approve_join(fed, "board", bob.id)  # never heard of bob
    assert (await receive(services, bob, follow(bob, group_uri("board")))).state == "done"
    with pytest.raises(Forbidden, match="not a moderator"):
        await svc.approve_join(fed, "board", bob.id, moderator="dave")
    with pytest.raises(NotFound, match="no pending request"):
        await svc.reject_join(fed, "board", "dave")
    row = await membership(services, "board", bob.id)
    assert row is not None and row.state == "pending"
    assert await queued(services) == []


# -- bans ---------------------------------------------------------------------------------------


async def test_ban_a_remote_member(services: Services, fed: Federation, bob: PeerActor, carol: PeerActor) -> None:
    await add_remote_member(services, "garden", bob)
    await add_remote_member(services, "garden", carol)
    await svc.ban(fed, "garden", bob.handle, moderator="alice", reason="spam")

    row = await membership(services, "garden", bob.id)
    assert row is not None and row.state == "banned"
    [block] = await published(services, "Block")
    assert block["actor"] == ALICE and block["object"] == bob.id and block["target"] == group_uri("garden")
    assert block["removeData"] is False and block["summary"] == "spam"
    assert block["to"] == [PUBLIC] and block["cc"] == [group_uri("garden")] and block["audience"] == group_uri("garden")

    sent = await queued(services)
    direct = [q for q in sent if q.activity["type"] == "Block"]
    assert [(q.inbox, q.signer) for q in direct] == [(bob.inbox, "alice")]  # the banned user is told
    [announce] = [q for q in sent if q.activity["type"] == "Announce"]
    assert announce.signer == "garden" and announce.activity["object"] == stripped(block)
    assert announce.inbox == f"{carol.peer.base_url}/inbox"  # remaining members (carol's shared inbox)
    [reject] = [q for q in sent if q.activity["type"] == "Reject"]
    assert reject.inbox == bob.inbox  # Mastodon-family servers drop the follow on Reject

    # A banned actor's Follow is refused.
    assert (await receive(services, bob, follow(bob, group_uri("garden")))).state == "done"
    assert len(await queued(services, "Reject")) == 2
    assert (await membership(services, "garden", bob.id)).state == "banned"  # type: ignore[union-attr]

    with pytest.raises(Conflict, match="already banned"):
        await svc.ban(fed, "garden", bob.id)


async def test_ban_with_remove_data(services: Services, fed: Federation, bob: PeerActor, carol: PeerActor) -> None:
    await add_remote_member(services, "garden", bob)
    await add_remote_member(services, "garden", carol)
    spam = [await add_post(services, bob.id, group="garden") for _ in range(2)]
    kept = await add_post(services, carol.id, group="garden")

    await svc.ban(fed, "garden", bob.id, remove_data=True)  # the operator: alice, the owner, signs
    for uri in spam:
        removed = await post(services, uri)
        assert removed.deleted and removed.content == "" and removed.document["type"] == "Tombstone"
    assert not (await post(services, kept)).deleted

    deletes = await published(services, "Delete")
    assert sorted(d["object"] for d in deletes) == sorted(spam)
    assert all(d["actor"] == ALICE and d["cc"] == [group_uri("garden")] for d in deletes)
    announced = [q.activity["object"]["type"] for q in await queued(services, "Announce")]
    assert announced == ["Block", "Delete", "Delete"]
    [block] = await published(services, "Block")
    assert block["removeData"] is True


async def test_ban_someone_who_never_joined_then_unban(services: Services, fed: Federation, bob: PeerActor) -> None:
    await svc.ban(fed, "garden", bob.handle)
    assert (await membership(services, "garden", bob.id)).state == "banned"  # type: ignore[union-attr]
    assert [q.activity["type"] for q in await queued(services)] == ["Block"]  # no members to announce to

    await svc.unban(fed, "garden", bob.id, moderator="alice")
    assert await membership(services, "garden", bob.id) is None
    [block] = await published(services, "Block")
    [undo] = [q for q in await queued(services, "Undo")]
    assert undo.inbox == bob.inbox and undo.activity["actor"] == ALICE
    assert undo.activity["object"] == stripped(block)  # the very Block, so peers can match it

    with pytest.raises(NotFound, match="not banned"):
        await svc.unban(fed, "garden", bob.id)
    assert (await receive(services, bob, follow(bob, group_uri("garden")))).state == "done"
    assert (await membership(services, "garden", bob.id)).state == "accepted"  # type: ignore[union-attr]


async def test_ban_of_a_local_person(services: Services, fed: Federation, bob: PeerActor) -> None:
    await add_local_member(services, "garden", "dave")
    await add_remote_member(services, "garden", bob)
    await svc.ban(fed, "garden", "dave")
    assert (await membership(services, "garden", DAVE)).state == "banned"  # type: ignore[union-attr]
    with pytest.raises(Forbidden, match="banned"):
        await svc.join_group(fed, "dave", "garden")
    [announce] = await queued(services)
    assert announce.activity["type"] == "Announce" and announce.activity["object"]["object"] == DAVE


async def test_who_may_ban_whom(services: Services, fed: Federation, bob: PeerActor) -> None:
    await add_local_member(services, "garden", "dave", role="moderator")
    await add_remote_member(services, "garden", bob, role="admin")
    with pytest.raises(Forbidden, match="owns"):
        await svc.ban(fed, "garden", "alice", moderator="dave")
    with pytest.raises(Forbidden, match="only an owner"):
        await svc.ban(fed, "garden", bob.id, moderator="dave")
    with pytest.raises(InvalidInput, match="themselves"):
        await svc.ban(fed, "garden", "dave", moderator="dave")
    with pytest.raises(InvalidInput, match="only people"):
        await svc.ban(fed, "garden", "board")
    assert await nothing_written(services)
    assert await memberships(services, "garden") == 3
