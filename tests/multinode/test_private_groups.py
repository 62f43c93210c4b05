"""A private group whose members live on two other nodes: what one member posts, the other sees.

Four real nodes on loopback: A hosts the private group, B and C each have an approved member, D has a
person whose request is still pending. When cai (on C) posts, A relays the Create to B (FEP-1b12). B
cannot fetch the post from C: C shows a post in a private group of another server to its author only
(it cannot know the group's member list), so it answers 404 to everyone else, B included. B takes the
copy A relays because cai signed it (FEP-8b32 integrity proof, eddsa-jcs-2022; federation.proofs).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from actors import local
from inbox_outbox.services import post_edits
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, http_get, running_nodes


async def test_a_members_post_reaches_members_on_other_nodes_and_nobody_else(
    databases: Databases, tmp_path: Path
) -> None:
    urls = [await databases.sqlite(), await databases.postgresql_or_sqlite(), await databases.sqlite(),
            await databases.postgresql_or_sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b, c, d):
        await a.create_person("owner")
        await a.create_group("backroom", owner="owner", private=True)
        await b.create_person("bea")
        await c.create_person("cai")
        await d.create_person("dan")
        backroom = a.group("backroom")

        # Three ask to join; the operator approves bea and cai; dan's request stays pending.
        for node, person in ((b, "bea"), (c, "cai"), (d, "dan")):
            await node.join(person, a.handle("backroom"))
            await eventually(lambda: a.member_state("backroom", node.user(person)), equals="pending",
                             what=f"{person}'s request on A")
        for node, person in ((b, "bea"), (c, "cai")):
            approved = await asyncio.to_thread(a.node.cli, "group", "approve", "backroom", node.handle(person))
            assert approved.returncode == 0, approved.stderr
            await eventually(lambda: node.follow_state(person, backroom), equals="accepted",
                             what=f"the Accept reaching {person}")
        assert await d.follow_state("dan", backroom) == "pending"

        # cai posts from C; A takes it into the group and relays it to the members' nodes only.
        idea = await c.write_post("cai", backroom, "Idea", "Tuesdays, **then**?")
        on_a = await eventually(lambda: a.post(idea), what="cai's post reaching A")
        assert on_a.group_id is not None and not on_a.public
        assert d.domain not in await a.announce_hosts("backroom", idea)

        # bea's node shows it in the group, as private as the group is.
        on_b = await eventually(lambda: b.post(idea), what="cai's post reaching B through A")
        assert on_b.audience_uri == backroom and not on_b.public
        assert on_b.name == "Idea" and "<strong>then</strong>" in on_b.content

        # ...although C still shows it to nobody but its author: unsigned, bea's node (a member's server),
        # bea herself, and the node and person whose request is pending all get the same 404.
        for signer in (None, await b.signer("actor"), await b.signer("bea"), await d.signer("actor"),
                       await d.signer("dan")):
            status, _ = await http_get(idea, signer=signer)
            assert status == 404, (signer and signer.key_id, status)
        assert await d.post(idea) is None  # and nothing reached the pending requester's node

        # An edit goes the same way: signed on C, relayed by A, taken by B.
        await _edit(c, "cai", idea, "Tuesdays, *or* Wednesdays?")
        await eventually(lambda: _content(b, idea), equals="<p>Tuesdays, <em>or</em> Wednesdays?</p>",
                         what="cai's edit reaching B")
        assert await d.post(idea) is None
    no_tracebacks(tmp_path)


async def _edit(node: RunningNode, author: str, uri: str, body: str) -> None:
    async with node.services.sessions.begin() as session:
        person = await local.find_person(session, author)
        await post_edits.update_post(session, node.services.urls, person, uri, body)


async def _content(node: RunningNode, uri: str) -> str | None:
    obj = await node.post(uri)
    return obj.content if obj is not None else None
