"""A group's docs (issue #18): what the doc pages' forms do, and what peers are sent.

The rules are content.docs'; each function here is one transaction with its deliveries (posts.py's
way). What peers get (PROTOCOL.md "Docs"):

- a new doc: ``Create{Article}`` by the group, to its remote members, and the group's FEP-1b12
  ``Announce`` of it (plus ``Announce{<Article id>}``, the boost Mastodon-family members show);
- every new revision (a save, a restore, an accepted proposal): ``Update{Article}`` by the group, sent
  and announced the same way; a deleted doc: ``Delete{<Article id>}`` by the group;
- comments are replies to the Article (services.posts.reply), from here or from any server;
- a decision on a proposed edit that came from another server as an ``Offer``: ``Accept`` (with the new
  revision's Update to the members) or ``Reject`` of the Offer, by the group, to the proposer;
- our person's proposed edit of another server's doc: ``Offer{Article}`` to that group.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content.docs import comments, pages, proposals
from content.docs.text import check_doc, check_tags
from federation.activities import activity, strip_context
from federation.doc_article import DOC_CONTEXT, offer_document
from inbox_outbox.addressing import actor_inboxes, group_member_inboxes
from inbox_outbox.federation import Federation
from inbox_outbox.fanout import announce_to_members, withdraw_boost
from inbox_outbox.ids import new_activity_id, new_object_id
from inbox_outbox.outbox import publish
from inbox_outbox.services import posts
from inbox_outbox.services.common import load_group, load_person
from storage.models import Doc, DocProposal, Follow, LocalActor, Object, RemoteActor, utcnow


@dataclass(frozen=True)
class Done:
    path: str  # where the page goes next
    message: str = ""


async def _publish(session: AsyncSession, urls: Urls, group: LocalActor, obj: Object, kind: str) -> None:
    """``Create``/``Update`` of the doc's Article, or ``Delete`` of it, by the group: to its remote members
    directly (Mastodon-family servers take them only from the author) and announced (FEP-1b12)."""
    group_uri = urls.group(group.username)
    document = obj.document or {}
    to, cc = list(document.get("to", [group_uri])), list(document.get("cc", []))
    body: Any = obj.uri if kind == "Delete" else strip_context(document)
    said = activity(new_activity_id(urls), kind, group_uri, body, to=to, cc=cc, audience=group_uri,
                    published=utcnow())
    if kind != "Delete":
        said["@context"] = DOC_CONTEXT
    await publish(session, urls, group, said, await group_member_inboxes(session, group.id))
    await announce_to_members(session, urls, group, said)


async def _group_and_access(session: AsyncSession, urls: Urls, group_name: str,
                            username: str | None) -> tuple[LocalActor, pages.Access, str | None]:
    group = await load_group(session, group_name)
    viewer = urls.person(username) if username else None
    place = await pages.access(session, urls, group, viewer)
    if not place.read:
        raise NotFound("no such group here (or it is private and you are not a member)")
    return group, place, viewer


# --------------------------------------------------------------------------------------------------
# Writing docs


async def create_doc(fed: Federation, username: str, group_name: str, *, title: str, body: str, summary: str = "",
                     tags: str = "", parent_id: int | None = None) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        pages.require(place.edit, "you may not write docs in this group: propose edits to its docs instead")
        await load_person(session, username)
        doc, obj = await pages.create(session, fed.urls, group, viewer or "", new_object_id(fed.urls), title=title,
                                      body=body, summary=summary, tags=check_tags(tags), parent_id=parent_id)
        await _publish(session, fed.urls, group, obj, "Create")
        return Done(pages.doc_path(group.username, doc.id), "The doc is saved.")


async def _taking_turns(run: Callable[[], Awaitable[Done]]) -> Done:
    """Run a write of a new revision; when another one took the same revision number at the same moment
    (SQLite: both read the head before either wrote; PostgreSQL waits on the row lock instead), run it
    once more: it then sees the new head (a save becomes a stale save, merged; nothing is lost)."""
    try:
        return await run()
    except IntegrityError:
        return await run()


async def save_doc(fed: Federation, username: str, group_name: str, doc_id: int, *, base: int, title: str,
                   body: str, summary: str = "", tags: str | None = None, parent_id: int | None = None) -> Done:
    """A new revision; ``pages.StaleSave`` (nothing written) when ``base`` is no longer the head.
    ``tags`` (not None): the doc's tags and parent are set in the same transaction."""
    return await _taking_turns(lambda: _save(fed, username, group_name, doc_id, base=base, title=title, body=body,
                                             summary=summary, tags=tags, parent_id=parent_id))


async def _save(fed: Federation, username: str, group_name: str, doc_id: int, *, base: int, title: str, body: str,
                summary: str, tags: str | None, parent_id: int | None) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id, for_update=True)
        pages.require(place.edit, "you may not edit this doc directly: propose your edit instead")
        if tags is not None:
            await pages.set_place(session, doc, parent_id, check_tags(tags))
        saved = await pages.save(session, fed.urls, group, doc, viewer or "", base=base, title=title, body=body,
                                 summary=summary)
        if saved.changed:
            await _publish(session, fed.urls, group, await _object(session, doc), "Update")
        path = pages.doc_path(group.username, doc.id)
        return Done(path, f"Saved as revision {doc.head}." if saved.changed else "Saved; the text is unchanged, so no new revision.")


async def restore(fed: Federation, username: str, group_name: str, doc_id: int, number: int) -> Done:
    return await _taking_turns(lambda: _restore(fed, username, group_name, doc_id, number))


async def _restore(fed: Federation, username: str, group_name: str, doc_id: int, number: int) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id, for_update=True)
        pages.require(place.edit, "you may not edit this doc directly")
        made = await pages.restore(session, fed.urls, group, doc, number, viewer or "")
        await _publish(session, fed.urls, group, await _object(session, doc), "Update")
        return Done(pages.doc_path(group.username, doc.id), f"Revision {number} is back, as revision {made.number}.")


async def delete_doc(fed: Federation, username: str, group_name: str, doc_id: int) -> Done:
    async with fed.sessions.begin() as session:
        group, place, _ = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id)
        pages.require(place.team, "only the group's team deletes docs")
        obj = await pages.delete(session, doc)
        await _publish(session, fed.urls, group, obj, "Delete")
        await withdraw_boost(session, fed.urls, group, obj.uri)
        return Done(f"/groups/{group.username}/docs", f"{doc.title} was deleted.")


async def set_editors(fed: Federation, username: str, group_name: str, editors: str) -> Done:
    async with fed.sessions.begin() as session:
        group, place, _ = await _group_and_access(session, fed.urls, group_name, username)
        pages.require(place.moderator, "only the group's moderators choose who edits its docs")
        await pages.set_editors(session, group.id, editors)
        return Done(f"/groups/{group.username}/docs", "Saved: " + pages.EDITOR_LABELS[editors].lower() + " edit docs.")


async def _object(session: AsyncSession, doc: Doc) -> Object:
    obj = await session.get(Object, doc.object_id)
    assert obj is not None
    return obj


# --------------------------------------------------------------------------------------------------
# Proposed edits


async def propose(fed: Federation, username: str, group_name: str, doc_id: int, *, base: int, title: str, body: str,
                  reason: str) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id)
        pages.require(place.propose, "you may not propose edits in this group")
        made = await proposals.propose(session, doc, viewer or "", base=base, title=title, body=body, reason=reason)
        path = proposals.proposal_path(group.username, doc.id, made.id)
        await notifications.doc_proposed(session, group.id, made.proposer_uri, fed.urls.base + path)
        return Done(path,
                    "Your proposed edit is with the team. You will be told when they answer.")


async def revise(fed: Federation, username: str, group_name: str, doc_id: int, proposal_id: int, *, title: str,
                 body: str, reason: str) -> Done:
    async with fed.sessions.begin() as session:
        group, _, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id)
        proposal = await proposals.find(session, doc, proposal_id)
        await proposals.revise(session, doc, proposal, viewer or "", title=title, body=body, reason=reason)
        await notifications.doc_proposed(session, group.id, proposal.proposer_uri, fed.urls.base
                                         + proposals.proposal_path(group.username, doc.id, proposal.id))
        return Done(proposals.proposal_path(group.username, doc.id, proposal.id), "Your revised edit is with the team.")


_TOLD = {"accept": "doc_accepted", "changes": "doc_changes", "decline": "doc_declined"}


async def decide(fed: Federation, username: str, group_name: str, doc_id: int, proposal_id: int, decision: str,
                 comment: str = "") -> Done:
    return await _taking_turns(lambda: _decide(fed, username, group_name, doc_id, proposal_id, decision, comment))


async def _decide(fed: Federation, username: str, group_name: str, doc_id: int, proposal_id: int, decision: str,
                  comment: str) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id, for_update=True)
        proposal = await proposals.find(session, doc, proposal_id)
        pages.require(place.team, "only the group's team reviews proposed edits")
        remote = proposal.offer_uri is not None
        if remote and decision == "changes":
            raise InvalidInput("this edit was proposed on another server, where it cannot be revised: decline it "
                               "with a comment saying what to change, and they can propose again")
        made = await proposals.decide(session, fed.urls, group, doc, proposal, viewer or "", decision, comment)
        path = proposals.proposal_path(group.username, doc.id, proposal.id)
        if made is not None:
            await _publish(session, fed.urls, group, await _object(session, doc), "Update")
        if remote:
            await _answer_offer(session, fed.urls, group, proposal, accepted=made is not None)
        else:
            await notifications.doc_proposal(session, fed.urls, proposal.proposer_uri, viewer or "",
                                             _TOLD[decision], fed.urls.base + path)
        message = {"accept": f"Accepted: revision {doc.head} credits the proposer.",
                   "changes": "The proposer is asked for changes.", "decline": "Declined; the proposer is told."}
        return Done(path if made is None else pages.doc_path(group.username, doc.id), message[decision])


async def _answer_offer(session: AsyncSession, urls: Urls, group: LocalActor, proposal: DocProposal, *,
                        accepted: bool) -> None:
    """``Accept``/``Reject`` of a remote proposer's ``Offer``, by the group, to the proposer's inbox.
    An Accept names the revised Article as its ``result`` (ForgeFed's Accept of an Offer)."""
    group_uri = urls.group(group.username)
    offer = {"id": proposal.offer_uri, "type": "Offer", "actor": proposal.proposer_uri}
    fields: dict[str, Any] = {"to": [proposal.proposer_uri], "published": utcnow()}
    if accepted:
        doc = await session.get(Doc, proposal.doc_id)
        assert doc is not None
        fields["result"] = (await _object(session, doc)).uri
    elif proposal.response:
        fields["summary"] = proposal.response
    answer = activity(new_activity_id(urls), "Accept" if accepted else "Reject", group_uri, offer, **fields)
    await publish(session, urls, group, answer, await actor_inboxes(session, [proposal.proposer_uri], shared=False))


# --------------------------------------------------------------------------------------------------
# Comments


async def comment(fed: Federation, username: str, group_name: str, doc_id: int, body: str, *,
                  anchor: str | None = None, reply_to: int | None = None) -> Done:
    """A comment on the doc (or one of its sections), or a reply to a comment: a reply to the Article."""
    async with fed.sessions.begin() as session:
        group, place, _ = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id)
        author = await load_person(session, username)
        root = await _object(session, doc)
        parent = await comments.comment_of(session, doc, reply_to) if reply_to is not None else root
        anchor = comments.check_anchor(root.source or "", anchor) if reply_to is None else None
        section = comments.doc_section(root.source or "", anchor, fed.urls.base + pages.doc_path(group.username, doc.id))
        made = await posts.reply(session, fed.urls, author, parent.uri, body, section=section)
        await comments.mark(session, doc, made, anchor)
        return Done(f"{pages.doc_path(group.username, doc.id)}#comment-{made.id}", "Your comment is posted.")


async def resolve(fed: Federation, username: str, group_name: str, doc_id: int, comment_id: int, resolved: bool) -> Done:
    async with fed.sessions.begin() as session:
        group, place, viewer = await _group_and_access(session, fed.urls, group_name, username)
        doc = await pages.find(session, group, doc_id)
        found = await comments.comment_of(session, doc, comment_id)
        await comments.resolve(session, doc, found, viewer or "", team=place.team, resolved=resolved)
        return Done(f"{pages.doc_path(group.username, doc.id)}#comment-{found.id}",
                    "Marked resolved." if resolved else "Open again.")


# --------------------------------------------------------------------------------------------------
# Docs of groups on other servers (another Made Open node): our person proposes an edit


@dataclass(frozen=True)
class RemoteDoc:
    post_id: int
    uri: str
    title: str
    source: str
    revision: int
    group: RemoteActor


async def remote_doc(session: AsyncSession, post_id: int) -> RemoteDoc:
    """A doc of another server's group, as we hold its Article (a post of that group)."""
    obj = await session.get(Object, post_id)
    if obj is None or not comments.is_remote_doc(obj):
        raise NotFound("no doc of another server's group here by that number")
    group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == obj.author_uri))
    if group is None or group.actor_type != "Group":
        raise NotFound("that doc's group is not known here")
    return RemoteDoc(post_id=obj.id, uri=obj.uri, title=obj.name, source=comments.remote_source(obj.document),
                     revision=obj.document["docRevision"], group=group)


async def propose_remote(fed: Federation, username: str, post_id: int, *, title: str, body: str, reason: str) -> Done:
    """``Offer{Article}`` to the doc's group (its members and, in a public group, anyone may propose; the
    group's server decides and answers Accept or Reject)."""
    errors: dict[str, str] = {}
    try:
        title, body, _ = check_doc(title, body)
    except InvalidFields as exc:
        errors.update(exc.errors)
    if not (reason or "").strip():
        errors["reason"] = "say why: the team reads the reason with the change"
    if errors:
        raise InvalidFields(errors)
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        found = await remote_doc(session, post_id)
        person_uri = fed.urls.person(person.username)
        state = await session.scalar(select(Follow.state).where(
            Follow.follower_uri == person_uri, Follow.followee_uri == found.group.uri))
        if state == "banned":
            raise Forbidden("you are banned from that group")
        obj = await session.get(Object, post_id)
        assert obj is not None
        offer = offer_document(new_activity_id(fed.urls), person_uri, found.group.uri, obj.document, found.revision,
                               title, body, reason.strip())
        await publish(session, fed.urls, person, offer, [found.group.inbox])
        return Done(f"/posts/{post_id}", "Your proposed edit was sent to the group's team. You will be told when "
                                         "they answer.")


async def offer_answered(fed: Federation, group_uri: str, answer: dict[str, Any]) -> bool:
    """A group answered an ``Offer`` one of our people sent (Accept/Reject): they are told. False when
    the answer names no Offer of ours (the caller handles it as it would otherwise)."""
    inner = answer.get("object")
    offer_id = inner.get("id") if isinstance(inner, dict) else inner
    if not isinstance(offer_id, str):
        return False
    async with fed.sessions.begin() as session:
        sent = await notifications.sent_offer(session, offer_id)
        if sent is None:
            return False
        if sent.get("target") != group_uri and group_uri not in sent.get("to", []):
            return True  # answered by someone it was not offered to: nothing changes
        kind = "doc_accepted" if answer.get("type") == "Accept" else "doc_declined"
        await notifications.doc_proposal(session, fed.urls, str(sent.get("actor")), group_uri, kind, offer_id)
        return True
