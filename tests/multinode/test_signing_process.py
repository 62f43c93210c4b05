"""A busy `madeopen run` signs its fan-out in its signing process (federation.signing_process), and the peer,
Mastodon-like (it verifies every POST's signature with its own httpsig, requires signed GETs), accepts every
one: the headers are what signing in the node gives."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.multinode.conftest import Databases
from tests.support.cluster import eventually, running_nodes
from tests.support.peer import Peer
from tests.support.peer_actor import AS2_CONTEXT

MEMBERS = 40  # a fan-out of 80 POSTs: more than the 32 signatures a second that start the signing process


def signing_children(pid: int) -> list[int]:
    """The node's child processes running federation.signing_child (proc(5): every thread's children)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue  # ended meanwhile
            if b"federation.signing_child" in command:
                found.append(int(child))
    return found


async def test_a_busy_node_signs_in_its_signing_process_and_a_mastodon_like_peer_verifies_it(
    databases: Databases, tmp_path: Path
) -> None:
    async with Peer(require_signed_gets=True) as peer, \
            running_nodes([await databases.sqlite()], tmp_path) as (node,):
        peer.route_origin(node.base_url, node.base_url)  # it fetches the keys of whoever signs its GETs
        await node.create_person("ann")
        await node.create_group("garden", owner="ann")
        garden = node.group("garden")
        # Personal inboxes only (no sharedInbox): the group's fan-out is two POSTs per member.
        members = [peer.add_actor(f"m{n}", document_overrides={"endpoints": {}}) for n in range(MEMBERS)]
        follows = [{"@context": AS2_CONTEXT, "id": f"{m.id}#join", "type": "Follow", "actor": m.id, "object": garden}
                   for m in members]
        answers = await asyncio.gather(*(peer.deliver(m, f"{garden}/inbox", f) for m, f in zip(members, follows)))
        assert {status for status, _ in answers} == {202}, answers[0]

        def arrived(kind: str) -> list[bool]:
            return [d.verified for d in peer.inbox if d.activity.get("type") == kind]

        async def count(kind: str) -> int:
            return len(arrived(kind))

        await eventually(lambda: count("Accept"), equals=MEMBERS, what="an Accept for every member")
        # The post's fan-out: one fan-out row the delivery worker expands into two POSTs per member, claimed
        # and signed together, far more than 32 within a second (the Accepts may have been too, or spread out
        # as the Follows were processed).
        await node.write_post("ann", garden, "Seeds", "Who has tomato seeds to share?")
        await eventually(lambda: count("Announce"), equals=2 * MEMBERS, what="the fan-out's two POSTs per member")
        assert node.node.process is not None
        assert len(signing_children(node.node.process.pid)) == 1, "the fan-out should have started one signing process"
        # Every POST verified at the peer, the Accepts and the group's Announces alike.
        assert arrived("Accept") == [True] * MEMBERS
        assert arrived("Announce") == [True] * 2 * MEMBERS
        assert [r for r in peer.requests if not r.verified and r.method == "POST"] == []
