"""Blocking a person across servers: alice on node A blocks bea on node B (another Made Open) and pat on a
bare Mastodon-like peer (signed GETs only). B ends the follows between bea and alice on its side as well,
and refuses nothing of its own accord; bea's new Follow is refused by A. pat's server receives the Block,
signed by alice, and the Undo{Block} when she unblocks."""

from __future__ import annotations

import uuid
from pathlib import Path

from inbox_outbox.services import membership, person_blocks
from tests.multinode.conftest import Databases
from tests.support.cluster import eventually, running_nodes
from tests.support.peer import InboxDelivery, Peer

AS2 = "https://www.w3.org/ns/activitystreams"


async def test_a_block_across_a_second_node_and_a_mastodon_peer(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer(require_signed_gets=True) as peer:
        peer.route_origin(a.base_url, a.base_url)
        await a.create_person("alice")
        await b.create_person("bea")
        alice, bea = a.user("alice"), b.user("bea")
        await membership.follow_actor(b.fed, "bea", a.handle("alice"))
        await membership.follow_actor(a.fed, "alice", b.handle("bea"))
        await eventually(lambda: b.follow_state("bea", alice), equals="accepted", what="bea follows alice")
        await eventually(lambda: a.follow_state("alice", bea), equals="accepted", what="alice follows bea")
        pat = peer.add_actor("pat")
        follow = {"@context": AS2, "id": f"{pat.id}/follows/{uuid.uuid4().hex}", "type": "Follow",
                  "actor": pat.id, "object": alice}
        assert (await peer.deliver(pat, f"{a.base_url}/inbox", follow))[0] == 202

        await person_blocks.block(a.fed, "alice", b.handle("bea"))
        await person_blocks.block(a.fed, "alice", pat.id)
        # B: bea no longer follows alice (B took A's Undo{Follow} and Block).
        await eventually(lambda: b.follow_state("bea", alice), equals=None, what="bea's follow ended on B")
        assert await a.follow_state("alice", bea) is None
        blocks = await eventually(lambda: _received(peer, "Block"), what="pat's server gets the Block")
        assert blocks[0].verified and blocks[0].key_id is not None and blocks[0].key_id.startswith(alice)
        assert blocks[0].activity["object"] == pat.id

        # bea follows again: A refuses, B ends up not following.
        await membership.follow_actor(b.fed, "bea", a.handle("alice"))
        await eventually(lambda: b.follow_state("bea", alice), equals=None, what="A refused bea's new Follow")

        await person_blocks.unblock(a.fed, "alice", pat.id)
        undos = await eventually(lambda: _received(peer, "Undo"), what="pat's server gets the Undo{Block}")
        assert undos[0].activity["object"]["id"] == blocks[0].activity["id"]


async def _received(peer: Peer, kind: str) -> list[InboxDelivery]:
    return [each for each in peer.inbox if each.activity.get("type") == kind]
