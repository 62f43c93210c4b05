"""The board of a group on node A, seen, voted on and answered across node B (another Made Open) and a
bare peer (issue #12). Real `madeopen run` processes; the peer (tests.support.peer) is a Lemmy-like
member that takes Announce of any activity and checks every signature it receives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from actors import local
from content import board
from inbox_outbox.services import board as board_services
from inbox_outbox.services import posts
from storage.models import Membership, Notification, Object, StatusChange
from tests.multinode.conftest import Databases, members_elsewhere, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes
from tests.support.peer import Peer

AS2 = "https://www.w3.org/ns/activitystreams"


async def _staff(a: RunningNode, group: str, person: str) -> None:
    async with a.services.sessions.begin() as session:
        found = await local.find_group(session, group)
        who = await local.find_person(session, person)
        session.add(Membership(group_id=found.id, local_actor_id=who.id, role="staff", state="accepted"))


async def _thread(a: RunningNode, author: str, title: str, kind: str) -> str:
    async with a.services.sessions.begin() as session:
        person = await local.find_person(session, author)
        group = await local.find_group(session, "shop")
        return (await posts.create_post(session, a.services.urls, person, group, title, "Please.", kind)).uri


async def _with(node: RunningNode, uri: str, **values: Any) -> Object | None:
    obj = await node.post(uri)
    return obj if obj is not None and all(getattr(obj, k) == v for k, v in values.items()) else None


def _relayed(peer: Peer, kind: str, inner_type: str) -> list[Any]:
    """What the group announced to the peer: (delivery, inner activity) of Announce{<kind>}."""
    found = []
    for delivery in peer.inbox:
        inner = delivery.activity.get("object")
        if delivery.activity.get("type") == "Announce" and isinstance(inner, dict) and inner.get("type") == kind:
            if isinstance(inner.get("object"), dict) and inner["object"].get("type") == inner_type:
                found.append((delivery, inner))
    return found


async def test_board_across_a_second_node_and_a_bare_peer(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer() as peer:
        peer.route_origin(a.base_url, a.base_url)  # the peer checks A's signatures with A's keys
        for name in ("olga", "erin", "sam"):
            await a.create_person(name)
        await a.create_group("shop", owner="olga")
        await _staff(a, "shop", "sam")
        shop = a.group("shop")
        pat = await members_elsewhere(a, b, peer, "shop", person="bea", peer_actor="pat")

        # erin (A) posts an idea and a question; B shows them on its board of A's group.
        # Times go out to the second (as Mastodon's), so B orders posts of the same second by arrival: the
        # question is posted once the idea is on B, as two posts a person writes one after the other.
        idea = await _thread(a, "erin", "Dark mode", "idea")
        on_b = await eventually(lambda: _with(b, idea, kind="idea", status="open"), what="the idea on B")
        question = await _thread(a, "erin", "Where is the manual?", "question")
        await eventually(lambda: _with(b, question, kind="question", status="unsolved"), what="the question on B")
        assert on_b.content == "<p>Please.</p>"  # "Status: Open" shown from the terms, not the text
        async with b.services.sessions() as session:
            view = await board.board(session, b.services.urls, board.Where(audience_uri=shop), board.BoardQuery(sort="new"))
        assert [item.thread.title for item in view.items] == ["Where is the manual?", "Dark mode"]
        assert view.kind_counts == {"idea": 1, "concern": 0, "question": 1}

        # Votes from B (bea) and from the peer (a Lemmy-style Like): one each, on A and on B.
        await b.like("bea", idea)
        like = peer.serve({"@context": AS2, "id": f"{peer.base_url}/activities/like/1", "type": "Like",
                           "actor": pat.id, "object": idea})  # dereferenceable, as Lemmy's are
        assert (await peer.deliver(pat, f"{a.base_url}/inbox", like))[0] == 202
        await eventually(lambda: _with(a, idea, net_votes=2), what="both votes on A")
        await eventually(lambda: _with(b, idea, net_votes=2), what="both votes on B (pat's relayed by A)")

        # sam (staff on A) sets "planned" with an official response.
        async with a.services.sessions.begin() as session:
            sam = await local.find_person(session, "sam")
            done = await board_services.set_status(session, a.services.urls, sam, idea, "planned", "Coming in **May**.")
            response = done.response.uri
        on_b = await eventually(lambda: _with(b, idea, status="planned"), what="the status on B")
        reply_on_b = await eventually(lambda: _with(b, response, official=True), what="the official response on B")
        assert "<strong>May</strong>" in reply_on_b.content
        changes = await eventually(lambda: _linked_changes(b, on_b.id), what="B's history linking the response")
        assert [(c.status, c.actor_uri, c.response_uri) for c in changes] == [("planned", a.user("sam"), response)]
        bea_told = await eventually(lambda: _notified(b, "bea", "status"), what="bea told of the change on B")
        assert bea_told == [idea]

        # The bare peer got both, announced and signed by the group; the inner activities are sam's.
        updates = await eventually(lambda: _async(_relayed(peer, "Update", "Page")), what="the Update at the peer")
        delivery, update = updates[-1]
        assert delivery.verified and delivery.key_id is not None and delivery.key_id.startswith(shop)
        assert update["actor"] == a.user("sam") and update["object"]["threadStatus"] == "planned"
        assert update["object"]["content"].startswith("<p><strong>Dark mode</strong></p><p>Status: Planned</p>")
        notes = await eventually(lambda: _async(_relayed(peer, "Create", "Note")), what="the response at the peer")
        delivery, create = notes[-1]
        assert delivery.verified and delivery.key_id.startswith(shop)
        assert create["actor"] == a.user("sam") and create["object"]["official"] is True
        assert create["object"]["id"] == response and create["object"]["inReplyTo"] == idea

        # bea (B) answers the question; erin (A) accepts it; B shows it solved and tells bea.
        answer = await b.reply("bea", question, "On page 3.")
        await eventually(lambda: a.post(answer), what="bea's answer on A")
        async with a.services.sessions.begin() as session:
            erin = await local.find_person(session, "erin")
            assert await board_services.accept_answer(session, a.services.urls, erin, question, answer)
        await eventually(lambda: _with(b, question, status="solved", accepted_answer_uri=answer), what="solved on B")
        assert await eventually(lambda: _notified(b, "bea", "answer"), what="bea told on B") == [answer]
        solved = await eventually(lambda: _async([u for _, u in _relayed(peer, "Update", "Page")
                                                  if u["object"].get("acceptedAnswer") == answer]),
                                  what="the accepted answer at the peer")
        assert solved[0]["actor"] == a.user("erin")
    no_tracebacks(tmp_path)


async def _async(value: Any) -> Any:
    return value


async def _linked_changes(node: RunningNode, thread_id: int) -> list[StatusChange]:
    rows = await node.scalars(select(StatusChange).where(StatusChange.object_id == thread_id))
    return rows if rows and all(row.response_uri for row in rows) else []


async def _notified(node: RunningNode, person: str, kind: str) -> list[str]:
    async with node.services.sessions() as session:
        who = await local.find_person(session, person)
        return list(await session.scalars(select(Notification.object_uri).where(
            Notification.recipient_id == who.id, Notification.kind == kind)))
