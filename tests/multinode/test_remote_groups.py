"""Taking part in a group of another server (issue #10 items 8, 9, 10), with real `madeopen run`
processes on loopback and a bare peer playing a Lemmy community:

- joining backfills the group's recent threads (from a Made Open group's paged outbox, and from a
  Lemmy outbox of ``Announce{Create{Page}}``), and so does the first view of an empty remote group page;
- a member on another node starts a thread in the group: pending on their node until the group
  announces it, then everyone's;
- a banned member's reply is refused by the group (``Reject{Create}``): their node says so, notifies
  them, and never counts it.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from content import acceptance
from inbox_outbox.services import membership, threads
from inbox_outbox.services.group_lookup import find_group
from storage.models import Activity, Notification, Object
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, http_get, running_nodes
from tests.support.peer import Peer
from tests.support.peer_actor import AS2_CONTEXT, PUBLIC, PeerActor


async def test_join_backfills_start_a_thread_and_a_refused_reply(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b, c):
        await a.create_person("owner")
        await a.create_group("commons", owner="owner")
        await b.create_person("bea")
        commons = a.group("commons")
        # Written before anyone on B or C is a member: no Announce of them ever reaches B or C.
        older = [await a.write_post("owner", commons, f"Before you came {n}", "History.") for n in range(3)]

        # Item 8: bea joins; the Accept makes B read the group's outbox. The threads are there at once.
        await b.join("bea", a.handle("commons"))
        await eventually(lambda: b.follow_state("bea", commons), equals="accepted", what="bea's join")
        for uri in older:
            copy = await eventually(lambda: b.post(uri), what="a backfilled thread on B")
            assert copy.audience_uri == commons and not copy.local

        # ...and on C, where nobody joined, the first view of the group's page fetches them.
        await find_group(c.fed, a.handle("commons"))
        status, page = await http_get(f"{c.base_url}/remote-group?id={commons}", accept="text/html")
        assert status == 200 and "Fetching the group's recent threads" in page
        for uri in older:
            await eventually(lambda: c.post(uri), what="a thread backfilled on C by a page view")
        status, page = await http_get(f"{c.base_url}/remote-group?id={commons}", accept="text/html")
        assert all(f"Before you came {n}" in page for n in range(3))

        # Item 9: bea starts a thread in A's group from B, as the remote group's page does.
        started = await threads.start_remote_thread(b.fed, "bea", commons, "From B", "Hello from **B**.")
        assert started.pending
        on_a = await eventually(lambda: a.post(started.uri), what="bea's thread reaching A")
        assert on_a.group_id is not None and on_a.name == "From B"
        accepted = await eventually(lambda: _acceptance(b, started.uri), equals=acceptance.ACCEPTED,
                                    what="A's Announce confirming bea's thread on B")
        assert accepted == acceptance.ACCEPTED

        # Item 10: A bans bea. Her node learns it; a reply she sends anyway is refused by A, and B says so.
        await membership.ban(a.fed, "commons", b.handle("bea"), moderator="owner", reason="spam")
        await eventually(lambda: b.follow_state("bea", commons), equals="banned", what="the ban reaching B")
        refused_reply = await b.reply("bea", older[0], "Let me back in.")
        assert (await b.post(refused_reply)).acceptance == acceptance.PENDING
        await eventually(lambda: _acceptance(b, refused_reply), equals=acceptance.REFUSED, what="A's Reject on B")
        assert "may not post" in ((await b.post(refused_reply)).refusal or "")
        assert (await b.post(older[0])).reply_count == 0  # never counted
        assert await a.post(refused_reply) is None and await a.announces("commons", refused_reply) == []
        assert await _not_accepted(b, refused_reply) == [commons]
    no_tracebacks(tmp_path)


async def _acceptance(node: RunningNode, uri: str) -> str | None:
    obj = await node.post(uri)
    return obj.acceptance if obj is not None else None


async def _not_accepted(node: RunningNode, uri: str) -> list[str]:
    return await node.scalars(select(Notification.actor_uri).where(
        Notification.kind == "not_accepted", Notification.object_uri == uri))


# --------------------------------------------------------------------------------------------------
# A Lemmy community (a bare peer) and a Made Open node


def _announce(group: PeerActor, inner: Any) -> dict[str, Any]:
    return {"@context": AS2_CONTEXT, "id": f"{group.peer.base_url}/activities/announce/{uuid.uuid4().hex}",
            "type": "Announce", "actor": group.id, "to": [PUBLIC], "cc": [f"{group.id}/followers"], "object": inner}


def _lemmy_thread(author: PeerActor, group: PeerActor, name: str) -> dict[str, Any]:
    page = {"id": f"{author.peer.base_url}/post/{uuid.uuid4().hex}", "type": "Page", "attributedTo": author.id,
            "to": [group.id, PUBLIC], "name": name, "content": f"<p>{name}</p>", "mediaType": "text/html",
            "audience": group.id, "published": "2024-05-01T10:00:00Z"}
    return {"id": f"{author.peer.base_url}/activities/create/{uuid.uuid4().hex}", "type": "Create",
            "actor": author.id, "to": page["to"], "object": page, "audience": group.id}


async def test_lemmy_community_backfill_acceptance_and_reject(databases: Databases, tmp_path: Path) -> None:
    async with Peer() as lemmy, running_nodes([await databases.postgresql_or_sqlite()], tmp_path) as (b,):
        lemmy.route_origin(b.base_url, b.base_url)  # the community checks B's signatures with B's keys
        outbox = f"{lemmy.base_url}/c/lemmings/outbox"
        lemmings = lemmy.add_actor("lemmings", actor_type="Group", name="Lemmings",
                                   document_overrides={"outbox": outbox})
        bob = lemmy.add_actor("bob", name="Bob")
        history = [_lemmy_thread(bob, lemmings, f"Lemmy thread {n}") for n in range(2)]
        garbage = [_announce(bob, history[0]), 7, {"id": f"{lemmy.base_url}/post/forged-elsewhere", "type": "Page"}]
        lemmy.serve({"@context": AS2_CONTEXT, "id": outbox, "type": "OrderedCollection", "totalItems": 5,
                     "orderedItems": garbage + [_announce(lemmings, create) for create in history]})
        await b.create_person("bea")

        # bea joins; the community answers Accept (as Lemmy does, at once); B backfills from its outbox.
        await b.join("bea", lemmings.handle)
        follow = await eventually(lambda: _sent(lemmy, "Follow"), what="bea's Follow at the community")
        accept = {"@context": AS2_CONTEXT, "id": f"{lemmings.id}/accept/{uuid.uuid4().hex}", "type": "Accept",
                  "actor": lemmings.id, "object": follow, "to": [follow["actor"]]}
        assert (await lemmy.deliver(lemmings, f"{b.base_url}/inbox", accept))[0] == 202
        for create in history:
            copy = await eventually(lambda: b.post(create["object"]["id"]), what="a Lemmy thread backfilled")
            assert copy.audience_uri == lemmings.id
        assert len(await b.scalars(select(Object.uri).where(Object.audience_uri == lemmings.id))) == 2

        # bea starts two threads. Lemmy announces the first as received, and rejects the second.
        first = await threads.start_remote_thread(b.fed, "bea", lemmings.id, "First", "Hello Lemmy.")
        second = await threads.start_remote_thread(b.fed, "bea", lemmings.id, "Second", "Hello again.")
        created = {}
        for posted in (first, second):
            created[posted.uri] = await eventually(lambda: _sent(lemmy, "Create", posted.uri), what="the Create")
            assert created[posted.uri]["to"] == [lemmings.id] and created[posted.uri]["audience"] == lemmings.id
        status, _ = await lemmy.deliver(lemmings, f"{b.base_url}/inbox", _announce(lemmings, created[first.uri]))
        assert status == 202
        reject = {"@context": AS2_CONTEXT, "id": f"{lemmings.id}/reject/{uuid.uuid4().hex}", "type": "Reject",
                  "actor": lemmings.id, "object": created[second.uri]["id"], "to": [created[second.uri]["actor"]]}
        assert (await lemmy.deliver(lemmings, f"{b.base_url}/inbox", reject))[0] == 202
        await eventually(lambda: _acceptance(b, first.uri), equals=acceptance.ACCEPTED, what="the Announce on B")
        await eventually(lambda: _acceptance(b, second.uri), equals=acceptance.REFUSED, what="the Reject on B")
        assert await _not_accepted(b, second.uri) == [lemmings.id]
    no_tracebacks(tmp_path)


def _sent(peer: Peer, kind: str, object_uri: str | None = None) -> Any:
    async def find() -> dict[str, Any] | None:
        for delivery in peer.inbox:
            activity = delivery.activity
            inner = activity.get("object")
            named = inner.get("id") if isinstance(inner, dict) else inner
            if activity.get("type") == kind and (object_uri is None or named == object_uri) and delivery.verified:
                return activity
        return None
    return find()
