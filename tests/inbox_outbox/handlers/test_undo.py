"""Undo: the inner activity is resolved (embedded, from our records, or fetched), must be the undoer's own,
and is dispatched to its undo handler. Here: Undo{Follow} (leaving a group, unfollowing a person)."""

from __future__ import annotations

import pytest

from madeopen.app import Services
from tests.inbox_outbox.groups_support import (
    add_remote_member,
    follow,
    follow_row,
    group_uri,
    membership,
    person_uri,
    receive,
    undo,
)
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


async def test_undo_follow_leaves_the_group(services: Services, bob: PeerActor) -> None:
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, request)).state == "done"
    embedded = {k: v for k, v in request.items() if k != "@context"}
    assert (await receive(services, bob, undo(bob, embedded))).state == "done"
    assert await membership(services, "garden", bob.id) is None


async def test_undo_naming_the_follow_by_id(services: Services, bob: PeerActor) -> None:
    # Mastodon's Follow ids do not dereference: the Undo is matched against the Follow we recorded.
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, request)).state == "done"
    assert (await receive(services, bob, undo(bob, request["id"]))).state == "done"
    assert await membership(services, "garden", bob.id) is None


async def test_undo_of_someone_elses_follow_is_dropped(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, request)).state == "done"

    embedded = {k: v for k, v in request.items() if k != "@context"}
    outcome = await receive(services, carol, undo(carol, embedded))
    assert outcome.state == "failed" and bob.id in (outcome.error or "")
    by_id = await receive(services, carol, undo(carol, request["id"]))
    assert by_id.state == "failed"
    row = await membership(services, "garden", bob.id)
    assert row is not None and row.state == "accepted"


async def test_leaving_does_not_lift_a_ban(services: Services, bob: PeerActor) -> None:
    await add_remote_member(services, "garden", bob, state="banned")
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, undo(bob, {k: v for k, v in request.items() if k != "@context"}))).state == "done"
    row = await membership(services, "garden", bob.id)
    assert row is not None and row.state == "banned"


async def test_undo_follow_of_a_person(services: Services, bob: PeerActor) -> None:
    request = follow(bob, person_uri("alice"))
    assert (await receive(services, bob, request)).state == "done"
    assert (await receive(services, bob, undo(bob, request["id"]))).state == "done"
    assert await follow_row(services, bob.id, person_uri("alice")) is None


async def test_undo_of_an_unknown_type_is_ignored(services: Services, bob: PeerActor) -> None:
    inner = {"id": f"{bob.id}/things/1", "type": "Listen", "actor": bob.id, "object": "http://x.example/song"}
    assert (await receive(services, bob, undo(bob, inner))).state == "done"


async def test_unknown_inner_activity_that_cannot_be_fetched_is_dropped(services: Services, bob: PeerActor) -> None:
    outcome = await receive(services, bob, undo(bob, f"{bob.id}/follows/never-seen"))
    assert outcome.state == "failed"


async def test_embedded_inner_from_another_host_is_not_trusted(services: Services, bob: PeerActor) -> None:
    request = follow(bob, group_uri("garden"))
    assert (await receive(services, bob, request)).state == "done"
    async with Peer() as elsewhere:
        # An inner activity claiming an id on another host must come from that host: it does not exist
        # there, so nothing is undone.
        forged = {"id": f"{elsewhere.base_url}/follows/1", "type": "Follow", "actor": bob.id, "object": group_uri("garden")}
        assert (await receive(services, bob, undo(bob, forged))).state == "failed"
    row = await membership(services, "garden", bob.id)
    assert row is not None and row.state == "accepted"
