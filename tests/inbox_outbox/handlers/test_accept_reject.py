"""Accept / Reject of the Follows our people send to remote groups and people."""

from __future__ import annotations

from typing import Any

import pytest

from inbox_outbox.services.membership import join_group
from madeopen.app import Services
from tests.inbox_outbox.groups_support import AS2, activity_id, follow_row, person_uri, queued, receive
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


def answer(actor: PeerActor, kind: str, inner: Any) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id(actor, kind), "type": kind, "actor": actor.id, "object": inner,
            "to": [person_uri("alice")]}


@pytest.fixture
async def our_follow(services: Services, lemmings: PeerActor) -> dict[str, Any]:
    """alice asked to join the remote group by its handle; the Follow she sent."""
    assert services.fed is not None
    assert await join_group(services.fed, "alice", f"!{lemmings.handle}") == "pending"
    [sent] = await queued(services, "Follow")
    return sent.activity


async def test_join_sends_follow_and_waits(services: Services, lemmings: PeerActor, our_follow: dict[str, Any]) -> None:
    [sent] = await queued(services, "Follow")
    assert sent.inbox == lemmings.inbox and sent.signer == "alice"
    assert sent.bypass_host_health  # follow requests go out even to a host marked unavailable
    assert our_follow["actor"] == person_uri("alice") and our_follow["object"] == lemmings.id
    assert our_follow["to"] == [lemmings.id]
    row = await follow_row(services, person_uri("alice"), lemmings.id)
    assert row is not None and row.state == "pending" and row.activity_uri == our_follow["id"]


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded-follow", "follow-id"])
async def test_accept_from_the_group(
    services: Services, lemmings: PeerActor, our_follow: dict[str, Any], embedded: bool
) -> None:
    inner = {k: our_follow[k] for k in ("id", "type", "actor", "object")} if embedded else our_follow["id"]
    assert (await receive(services, lemmings, answer(lemmings, "Accept", inner))).state == "done"
    row = await follow_row(services, person_uri("alice"), lemmings.id)
    assert row is not None and row.state == "accepted"


async def test_accept_matching_by_actor_and_object(services: Services, lemmings: PeerActor, our_follow: dict[str, Any]) -> None:
    # Some servers answer with a Follow of their own id; the follower/followee pair still names ours.
    inner = {"id": f"{lemmings.id}/follows/1", "type": "Follow", "actor": person_uri("alice"), "object": lemmings.id}
    assert (await receive(services, lemmings, answer(lemmings, "Accept", inner))).state == "done"
    row = await follow_row(services, person_uri("alice"), lemmings.id)
    assert row is not None and row.state == "accepted"


async def test_only_the_followee_may_accept(
    services: Services, lemmings: PeerActor, bob: PeerActor, our_follow: dict[str, Any]
) -> None:
    outcome = await receive(services, bob, answer(bob, "Accept", our_follow["id"]))
    assert outcome.state == "failed"
    row = await follow_row(services, person_uri("alice"), lemmings.id)
    assert row is not None and row.state == "pending"


async def test_reject_ends_the_request(services: Services, lemmings: PeerActor, our_follow: dict[str, Any]) -> None:
    assert (await receive(services, lemmings, answer(lemmings, "Reject", our_follow["id"]))).state == "done"
    assert await follow_row(services, person_uri("alice"), lemmings.id) is None
    # ... and she may ask again.
    assert services.fed is not None
    assert await join_group(services.fed, "alice", lemmings.id) == "pending"
    assert len(await queued(services, "Follow")) == 2


async def test_answer_about_an_unknown_follow_changes_nothing(
    services: Services, lemmings: PeerActor, our_follow: dict[str, Any]
) -> None:
    outcome = await receive(services, lemmings, answer(lemmings, "Accept", "http://node.test/activities/unknown"))
    assert outcome.state == "done"
    row = await follow_row(services, person_uri("alice"), lemmings.id)
    assert row is not None and row.state == "pending"
