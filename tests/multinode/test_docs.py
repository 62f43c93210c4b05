"""A doc of a group on node A, commented on and improved from node B (another Made Open) and read by a
bare peer (issue #18). Real `madeopen run` processes; the peer (tests.support.peer) is a Lemmy-like
member that takes Announce of any activity and checks every signature it receives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from actors import local
from content.docs import comments
from inbox_outbox.services import docs
from inbox_outbox.services import threads as thread_service
from storage.models import Doc, DocProposal, DocRevision, Membership, Notification, Object
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes
from tests.support.peer import Peer

AS2 = "https://www.w3.org/ns/activitystreams"


async def _article(node: RunningNode, title: str, **values: Any) -> Object | None:
    obj = await node.scalar(select(Object).where(Object.type == "Article", Object.name == title))
    return obj if obj is not None and all(
        (obj.document or {}).get(k) == v if k == "docRevision" else getattr(obj, k) == v
        for k, v in values.items()) else None


async def _async(value: Any) -> Any:
    return value


def _section_notes(peer: Peer, uri: str) -> list[dict[str, Any]]:
    """The Note ``uri`` as the peer got it, in whatever wrapping (the group's Announce of its Create)."""
    found = []
    for delivery in peer.inbox:
        inner = delivery.activity
        while isinstance(inner, dict) and inner.get("type") in ("Announce", "Create"):
            inner = inner.get("object")
        if isinstance(inner, dict) and inner.get("id") == uri:
            found.append(inner)
    return found


def _received(peer: Peer, kind: str) -> list[Any]:
    """Activities of ``kind`` about an Article the peer got: sent by the group, or announced by it."""
    found = []
    for delivery in peer.inbox:
        outer = delivery.activity
        inner = outer.get("object") if outer.get("type") == "Announce" else outer
        if isinstance(inner, dict) and inner.get("type") == kind and isinstance(inner.get("object"), dict) \
                and inner["object"].get("type") == "Article":
            found.append((delivery, inner))
    return found


async def test_doc_commented_and_improved_from_another_node(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer() as peer:
        peer.route_origin(a.base_url, a.base_url)  # the peer checks A's signatures with A's keys
        for name in ("olga", "sam"):
            await a.create_person(name)
        await a.create_group("shop", owner="olga")
        async with a.services.sessions.begin() as session:
            group = await local.find_group(session, "shop")
            sam = await local.find_person(session, "sam")
            session.add(Membership(group_id=group.id, local_actor_id=sam.id, role="staff", state="accepted"))
        shop = a.group("shop")
        await b.create_person("bea")
        await b.join("bea", a.handle("shop"))
        await eventually(lambda: b.follow_state("bea", shop), equals="accepted", what="bea in the shop")
        pat = peer.add_actor("pat")
        follow = {"@context": AS2, "id": f"{pat.id}#follow", "type": "Follow", "actor": pat.id, "object": shop}
        status, text = await peer.deliver(pat, f"{a.base_url}/inbox", follow)
        assert status == 202, text
        await eventually(lambda: a.member_state("shop", pat.id), equals="accepted", what="pat in the shop")

        # sam (staff on A) writes a doc; B holds its Article, revision 1, with its Markdown.
        await docs.create_doc(a.fed, "sam", "shop", title="Returns", body="# Policy\n\nThirty days.\n")
        on_a = await a.scalar(select(Object).where(Object.type == "Article"))
        on_b = await eventually(lambda: _article(b, "Returns", docRevision=1), what="the doc on B")
        assert on_b.uri == on_a.uri and on_b.author_uri == shop
        assert on_b.document["source"]["content"] == "# Policy\n\nThirty days."

        # bea (B) comments: a reply to the Article, which A shows as the doc's comment
        comment = await b.reply("bea", on_a.uri, "What about sales?")
        stored = await eventually(lambda: a.post(comment), what="bea's comment on A")
        assert stored.in_reply_to_uri == on_a.uri and stored.author_uri == b.user("bea")
        async with a.services.sessions() as session:  # the doc page's comments (the whole doc)
            threads = await comments.threads(session, await session.scalar(select(Doc)))
        assert [c.uri for c in threads.by_section[None]] == [comment] and threads.open_count == 1

        # sam comments on the Policy section: B (another Made Open node) gets ``docSection``, the bare peer (a
        # reader of content only, as Mastodon) the section as a link atop the text, in the group's relay
        doc_id = (await a.scalar(select(Doc))).id
        await docs.comment(a.fed, "sam", "shop", doc_id, "Thirty is short", anchor="s-policy")
        note = await a.scalar(select(Object).where(Object.source == "Thirty is short"))
        on_b_note = await eventually(lambda: b.post(note.uri), what="sam's section comment on B")
        assert on_b_note.document["docSection"] == "s-policy"
        relayed = await eventually(lambda: _async(_section_notes(peer, note.uri)), what="the comment at the peer")
        link = f'<a href="{a.base_url}/groups/shop/docs/{doc_id}#s-policy">Policy</a>'
        assert all(n["docSection"] == "s-policy" and link in n["content"] for n in relayed)

        # bea comments on the Policy section from B (its page of the doc offers the headings): A files it there
        posted = await thread_service.reply_to(b.fed, "bea", on_b.id, "Sixty would be kinder", section="s-policy")
        on_a_note = await eventually(lambda: a.post(posted.uri), what="bea's section comment on A")
        assert on_a_note.document["docSection"] == "s-policy"
        assert f'href="{a.base_url}/groups/shop/docs/{doc_id}#s-policy"' in on_a_note.document["content"]

        async def filed() -> list[str]:  # (a remote post's time is to the second: either may list first)
            async with a.services.sessions() as session:
                found = await comments.threads(session, await session.scalar(select(Doc)))
            return sorted(c.uri for c in found.by_section.get("s-policy", []))

        await eventually(filed, equals=sorted([note.uri, posted.uri]), what="bea's comment under Policy on A")

        # bea proposes an edit from B: an Offer of the revised Article to the group
        done = await docs.propose_remote(b.fed, "bea", on_b.id, title="Returns",
                                         body="# Policy\n\nSixty days.\n", reason="The law changed.")
        assert done.path == f"/posts/{on_b.id}"
        proposal = await eventually(lambda: a.scalar(select(DocProposal)), what="the proposal on A")
        assert proposal.proposer_uri == b.user("bea") and proposal.state == "open" and proposal.base == 1

        # A's team accepts: revision 2 credits bea; B sees it and bea is told
        doc = await a.scalar(select(Doc))
        await docs.decide(a.fed, "sam", "shop", doc.id, proposal.id, "accept")
        head = await a.scalar(select(DocRevision).where(DocRevision.number == 2))
        assert head.author_uri == b.user("bea") and head.accepted_by_uri == a.user("sam")
        on_b = await eventually(lambda: _article(b, "Returns", docRevision=2), what="revision 2 on B")
        assert "Sixty days." in on_b.content
        told = await eventually(lambda: _notified(b, "bea"), what="bea told on B")
        assert told == ["doc_accepted"]

        # the bare peer got the Create and the Update of the Article from the group, signed by it
        updates = await eventually(lambda: _async(_received(peer, "Update")), what="the Update at the peer")
        delivery, update = updates[-1]
        assert delivery.verified and delivery.key_id is not None and delivery.key_id.startswith(shop)
        assert update["actor"] == shop and update["object"]["attributedTo"] == shop
        assert update["object"]["docRevision"] == 2 and "Sixty days." in update["object"]["source"]["content"]
        assert _received(peer, "Create")[0][1]["object"]["name"] == "Returns"
        # both shapes: the group's own Update (what Mastodon-family servers take, only from the author) and
        # its FEP-1b12 Announce of it (Lemmy-family)
        outer = {delivery.activity["type"] for delivery, _ in updates}
        assert outer == {"Update", "Announce"}, outer

        # an Update of the Article by anyone but the group is refused, on A and on B
        forged = {**update["object"], "source": {"content": "pat was here", "mediaType": "text/markdown"},
                  "content": "<p>pat was here</p>"}
        for node in (a, b):
            status, _ = await peer.deliver(pat, f"{node.base_url}/inbox",
                                           {"@context": AS2, "id": f"{pat.id}#u-{node.base_url[-4:]}", "type": "Update",
                                            "actor": pat.id, "object": forged})
            assert status == 202
        await eventually(lambda: _article(b, "Returns", docRevision=2), what="B unchanged")
        assert "pat was here" not in (await a.post(on_a.uri)).content
        assert "pat was here" not in (await b.post(on_a.uri)).content
    no_tracebacks(tmp_path)


async def _notified(node: RunningNode, person: str) -> list[str]:
    async with node.services.sessions() as session:
        who = await local.find_person(session, person)
        return list(await session.scalars(select(Notification.kind).where(
            Notification.recipient_id == who.id, Notification.kind.like("doc_%"))))
