"""Offer{Article}: an edit of one of our groups' docs proposed from another server (issue #18), and the
team's answer going back as Accept or Reject of the Offer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from inbox_outbox.services import docs
from storage.models import DocProposal, DocRevision, Notification
from tests.inbox_outbox.content_support import World, activity, join_local, published, receive, stored


async def _doc(w: World, group: str = "garden") -> tuple[str, dict[str, Any]]:
    """alice writes a doc in ``group``: its page path and its Article."""
    assert w.services.fed is not None
    done = await docs.create_doc(w.services.fed, "alice", group, title="Returns", body="# Policy\n\nThirty days.")
    [create] = [doc for doc in await published(w.services, w.services.urls.group(group), "Create")]
    return done.path, create["object"]


def _offer(w: World, who: Any, article: dict[str, Any], *, body: str = "# Policy\n\nSixty days.", base: int = 1,
           reason: str = "The law changed.", to: str | None = None, **extra: Any) -> dict[str, Any]:
    revised = {"id": article["id"], "type": "Article", "attributedTo": article["attributedTo"], "name": "Returns",
               "source": {"content": body, "mediaType": "text/markdown"}, "docRevision": base}
    group = to or article["attributedTo"]
    return activity(who, "Offer", revised, to=[group], target=group, summary=reason, **extra)


async def _proposals(w: World) -> list[DocProposal]:
    async with w.services.sessions() as session:
        return list(await session.scalars(select(DocProposal).order_by(DocProposal.id)))


async def test_an_offered_edit_is_queued_and_its_acceptance_answered(content_world: World) -> None:
    w = content_world
    path, article = await _doc(w)
    offer = _offer(w, w.carol, article)  # carol is no member: the group is public, anyone may propose
    assert (await receive(w.services, w.carol, offer)).state == "done"
    [proposal] = await _proposals(w)
    assert (proposal.proposer_uri, proposal.offer_uri, proposal.base, proposal.reason) == (
        w.carol.id, offer["id"], 1, "The law changed.")
    async with w.services.sessions() as session:  # alice, the owner, is told
        told = list(await session.scalars(select(Notification.actor_uri).where(Notification.kind == "doc_proposed")))
    assert told == [w.carol.id]

    assert w.services.fed is not None
    doc_id = int(path.rsplit("/", 1)[1])
    await docs.decide(w.services.fed, "alice", "garden", doc_id, proposal.id, "accept")
    [accept] = await published(w.services, w.garden, "Accept")
    assert accept["object"] == {"id": offer["id"], "type": "Offer", "actor": w.carol.id}
    assert accept["to"] == [w.carol.id] and accept["result"] == article["id"]
    async with w.services.sessions() as session:
        head = await session.scalar(select(DocRevision).where(DocRevision.number == 2))
    assert head is not None and head.author_uri == w.carol.id and head.body == "# Policy\n\nSixty days."
    assert "Sixty days." in (await stored(w.services, article["id"])).content
    [update] = await published(w.services, w.garden, "Update")
    assert update["object"]["docRevision"] == 2


async def test_a_decline_is_a_reject_with_the_comment(content_world: World) -> None:
    w = content_world
    path, article = await _doc(w)
    assert (await receive(w.services, w.bob, _offer(w, w.bob, article))).state == "done"
    [proposal] = await _proposals(w)
    assert w.services.fed is not None
    await docs.decide(w.services.fed, "alice", "garden", int(path.rsplit("/", 1)[1]), proposal.id, "decline",
                      "Not yet: the law changes in June.")
    [reject] = await published(w.services, w.garden, "Reject")
    assert reject["summary"] == "Not yet: the law changes in June." and reject["object"]["actor"] == w.bob.id


async def test_bad_offers_are_dropped(content_world: World) -> None:
    w = content_world
    _, article = await _doc(w)
    _, private = await _doc(w, "board")
    cases = [
        _offer(w, w.bob, article, reason=""),  # no reason
        _offer(w, w.bob, article, base=7),  # no such revision
        _offer(w, w.bob, article, body="x" * 250_001),  # over the limit
        _offer(w, w.bob, {**article, "id": w.uri("/objects/nothing")}),  # no doc of ours
        _offer(w, w.bob, article, to=w.board),  # not sent to the doc's group
        _offer(w, w.carol, private),  # the private group's doc: carol is no member
        activity(w.bob, "Offer", {"type": "Note", "id": article["id"]}, to=[w.garden]),  # not an Article
    ]
    for offer in cases:
        outcome = await receive(w.services, w.bob if offer["actor"] == w.bob.id else w.carol, offer)
        assert outcome.dropped, offer
    assert await _proposals(w) == []


async def test_an_offer_for_a_deleted_doc_is_rejected(content_world: World) -> None:
    w = content_world
    path, article = await _doc(w)
    assert w.services.fed is not None
    await join_local(w.services, "garden", "dave", role="staff")
    await docs.delete_doc(w.services.fed, "dave", "garden", int(path.rsplit("/", 1)[1]))
    offer = _offer(w, w.bob, article)
    assert (await receive(w.services, w.bob, offer)).dropped
    [reject] = await published(w.services, w.garden, "Reject")
    assert reject["summary"] == "that doc was deleted" and reject["object"]["id"] == offer["id"]
    assert await _proposals(w) == []


async def test_an_update_of_a_doc_from_anyone_but_the_group_is_dropped(content_world: World) -> None:
    w = content_world
    _, article = await _doc(w)
    forged = {**article, "content": "<p>bob was here</p>", "attributedTo": w.bob.id}
    assert (await receive(w.services, w.bob, activity(w.bob, "Update", forged))).dropped
    assert (await receive(w.services, w.bob, activity(w.bob, "Update", {**article, "content": "<p>x</p>"}))).dropped
    assert "Thirty days." in (await stored(w.services, article["id"])).content
