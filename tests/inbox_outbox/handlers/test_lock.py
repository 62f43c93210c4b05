"""Lock / Undo{Lock} of threads in remote groups (Lemmy's lock_page.json); ours lock only from here."""

from __future__ import annotations

from typing import Any

import pytest

from madeopen.app import Services
from tests.inbox_outbox.groups_support import AS2, PUBLIC, activity_id, add_post, add_remote_member, post, receive, undo
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


def lock(actor: PeerActor, post_uri: str, group: str) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id(actor, "Lock"), "type": "Lock", "actor": actor.id, "object": post_uri,
            "to": [PUBLIC], "cc": [group], "audience": group, "summary": "heated"}


async def test_remote_group_moderator_locks_and_unlocks(services: Services, lemmings: PeerActor, peer: Peer) -> None:
    mod = peer.add_actor("mod")
    thread = await add_post(services, f"{peer.base_url}/users/carol", audience=lemmings.id)
    locking = lock(mod, thread, lemmings.id)
    assert (await receive(services, mod, locking)).state == "done"
    assert (await post(services, thread)).locked
    unlocking = undo(mod, {k: v for k, v in locking.items() if k != "@context"})
    assert (await receive(services, mod, unlocking)).state == "done"
    assert not (await post(services, thread)).locked


async def test_lock_from_an_outsider_is_dropped(services: Services, lemmings: PeerActor, peer: Peer) -> None:
    thread = await add_post(services, f"{peer.base_url}/users/carol", audience=lemmings.id)
    async with Peer() as elsewhere:
        troll = elsewhere.add_actor("troll")
        assert (await receive(services, troll, lock(troll, thread, lemmings.id))).state == "failed"
    assert not (await post(services, thread)).locked


async def test_our_groups_threads_are_locked_only_here(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    await add_remote_member(services, "garden", bob, role="moderator")
    thread = await add_post(services, carol.id, group="garden")
    assert (await receive(services, bob, lock(bob, thread, "http://node.test/groups/garden"))).state == "failed"
    assert not (await post(services, thread)).locked


async def test_lock_of_a_post_we_lack_is_ignored(services: Services, bob: PeerActor) -> None:
    assert (await receive(services, bob, lock(bob, f"{bob.id}/posts/none", bob.id))).state == "done"
