"""Update: an edited post, or an actor that changed its profile or keys.

- A post: only its author may edit it (PROTOCOL.md: "Delete (only creator)" holds for edits too, as in
  Lemmy); the new version is parsed and sanitised like a new post; a post in one of our groups is
  re-announced to the members (FEP-1b12). Local objects are never touched, deleted ones stay deleted,
  and an older version arriving late does not undo a newer one. The board's terms (a thread's status,
  accepted answer, duplicate link) are the group team's: an Update of someone else's thread may change
  only those, from the team (content.received); the author's own edit never changes its status.
- An actor (``Update{Person|Group|...}``): the embedded document is not trusted; the cached actor is
  re-fetched from its origin (``RemoteActors.resolve(refresh=True)``), which also picks up new keys.
"""

from __future__ import annotations

import logging
from typing import Any

from actors import notifications
from actors.errors import DomainError, Forbidden, InvalidInput
from content.audience import record_recipients
from content.post_extras import index_remote
from content.received import apply_update
from content.store import aware, group_of, object_by_uri
from sqlalchemy.ext.asyncio import AsyncSession

from federation.activities import object_id
from content import statuses
from content.documents import board_document
from federation.html import SANITISE_POLICY_VERSION
from federation.board_terms import BoardTerms, InvalidBoardTerm, parse_terms, render_terms
from federation.object_render import stored_document
from federation.objects import ObjectData
from federation.remote_actor import ACTOR_TYPES, origin
from inbox_outbox.dereference import FetchBudget, trusted_document
from inbox_outbox.fanout import announce_to_members
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.create import parse_post
from inbox_outbox.handlers import projects
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from storage.models import Object, utcnow

log = logging.getLogger(__name__)
_BOARD_UPDATES = ("threadStatus", "acceptedAnswer", "duplicateOf")  # what the team's Update may change


async def on_update(fed: Federation, incoming: Incoming) -> None:
    value = incoming.activity.get("object")
    target = object_id(value)
    if target is None:
        raise Drop("Update names no object")
    if projects.is_ticket(fed, incoming):  # a project's task (ForgeFed Ticket), not a post
        await projects.on_ticket(fed, incoming)
        return
    if target == incoming.actor.uri or (isinstance(value, dict) and value.get("type") in ACTOR_TYPES):
        await refresh_actor(fed, incoming.actor.uri, target)
        return
    document = await trusted_document(fed, value, incoming.actor.uri, FetchBudget(fed.fetch_budget))
    if document.get("type") in ACTOR_TYPES:
        await refresh_actor(fed, incoming.actor.uri, target)
        return
    announced = incoming.activity if value is document else {**incoming.activity, "object": document}
    await accept_update(fed, parse_post(document), activity=announced, author=incoming.actor.uri)


async def refresh_actor(fed: Federation, actor_uri: str, target: str) -> None:
    """Re-fetch an actor from its origin. Only its own server speaks for it (a group's moderators may
    update the group, so the same host is enough); what was embedded is never used."""
    if is_local(fed.urls, target):
        raise Drop(f"{actor_uri} may not update our actor {target}")
    if origin(target) != origin(actor_uri):
        raise Drop(f"{actor_uri} may not update {target}, an actor of another server")
    try:
        await fed.remote.resolve(target, refresh=True)
    except DomainError as exc:
        raise Drop(f"could not refresh {target}: {exc.message}") from None


async def accept_update(
    fed: Federation,
    post: ObjectData,
    *,
    author: str,
    activity: dict[str, Any] | None = None,
    via_group: str | None = None,
) -> bool:
    """Apply an edit by ``author``; False when it changed nothing (stale or already applied)."""
    if post.author != author:
        if post.board.empty:
            raise Drop(f"{author} may not update {post.id}, which is attributed to {post.author}")
        return await accept_board_update(fed, post, author=author, activity=activity, via_group=via_group)
    if is_local(fed.urls, post.id):
        raise Drop(f"{post.id} is ours: remote content never replaces a local object")
    async with fed.sessions.begin() as session:
        obj = await object_by_uri(session, post.id)
        if obj is None:
            raise Drop(f"Update of {post.id}, which we do not have")
        if obj.local:
            raise Drop(f"{post.id} is a local object")
        if obj.author_uri != author:
            raise Drop(f"only the author may update {post.id}")
        if obj.deleted:
            raise Drop(f"{post.id} was deleted")
        if via_group is not None and obj.audience_uri != via_group:
            raise Drop(f"{via_group} announced an update of {post.id}, which is not in that group")
        if obj.updated is not None and post.updated is not None and aware(post.updated) <= aware(obj.updated):
            log.info("inbox: ignoring a stale or repeated update of %s", post.id)
            return False
        await _board_terms(session, fed, obj, post, author, via_group)
        obj.name = post.name
        obj.content = post.content
        obj.sanitised_version = SANITISE_POLICY_VERSION
        obj.document = stored_document(post)
        obj.updated = post.updated or utcnow()
        await record_recipients(session, obj, post.addressed)
        await index_remote(session, obj, post.hashtags, post.attachments)
        if via_group is not None and post.comments_enabled is not None:
            obj.locked = not post.comments_enabled  # the remote group's own lock (Lemmy commentsEnabled)
        group = await group_of(session, obj)
        if group is not None and activity is not None:
            await announce_to_members(session, fed.urls, group, activity)
    return True


async def _board_terms(
    session: AsyncSession, fed: Federation, obj: Object, post: ObjectData, actor: str, via_group: str | None
) -> None:
    """The board's terms of an Update (content.received decides who may change what)."""
    vouched = via_group is not None and obj.group_id is None and obj.audience_uri == via_group
    await _apply_board(session, fed, obj, post.board, actor, vouched=vouched)


async def _apply_board(
    session: AsyncSession, fed: Federation, obj: Object, terms: BoardTerms, actor: str, *, vouched: bool
) -> bool:
    """Apply the terms; our people who follow the thread hear of a new status, and the author of a newly
    accepted answer of it. Refusals drop the activity."""
    before = (obj.status, obj.accepted_answer_uri)
    try:
        changed = await apply_update(session, fed.urls, obj, terms, actor, vouched=vouched)
    except (Forbidden, InvalidInput) as exc:
        raise Drop(exc.message) from None
    if obj.status != before[0] and obj.kind in ("idea", "concern"):
        await notifications.status_changed(session, fed.urls, actor, obj, await statuses.audience(session, obj))
    answer = await object_by_uri(session, obj.accepted_answer_uri)
    if answer is not None and obj.accepted_answer_uri != before[1]:
        await notifications.answer_accepted(session, fed.urls, actor, answer)
    return changed


async def accept_board_update(
    fed: Federation, post: ObjectData, *, author: str, activity: dict[str, Any] | None, via_group: str | None,
) -> bool:
    """An Update of someone else's thread: only its board terms (status, accepted answer, duplicate),
    from the group's team; never its title or text (PROTOCOL.md "The board")."""
    if is_local(fed.urls, post.id):
        raise Drop(f"{post.id} is ours: its status is set here")
    async with fed.sessions.begin() as session:
        obj = await object_by_uri(session, post.id)
        if obj is None or obj.deleted:
            raise Drop(f"Update of {post.id}, which we do not have")
        if via_group is not None and obj.audience_uri != via_group:
            raise Drop(f"{via_group} announced an update of {post.id}, which is not in that group")
        vouched = via_group is not None and obj.group_id is None
        changed = await _apply_board(session, fed, obj, post.board, author, vouched=vouched)
        if not vouched and not changed:
            raise Drop(f"{author} may not update {post.id}, which is attributed to {post.author}")
        if changed:  # the stored copy keeps its text and takes the new terms
            terms = render_terms(post.board)
            kept = {key: value for key, value in (obj.document or {}).items() if key not in _BOARD_UPDATES}
            obj.document = {**kept, **{key: value for key, value in terms.items() if key in _BOARD_UPDATES}}
        group = await group_of(session, obj)
        if changed and group is not None and activity is not None:
            await announce_to_members(session, fed.urls, group, activity)
    return changed


async def accept_local_board_update(fed: Federation, value: dict[str, Any], *, actor: str, via_group: str) -> bool:
    """A remote group relays its team's status change (or accepted answer) of a thread one of our people
    started in it: our own copy takes the board terms only (the group vouches; content and title stay
    ours), and the document we serve says the new status."""
    try:
        terms = parse_terms(value)
    except InvalidBoardTerm as exc:
        raise Drop(str(exc)) from None
    async with fed.sessions.begin() as session:
        obj = await object_by_uri(session, object_id(value))
        if obj is None or not obj.local or obj.deleted or obj.group_id is not None or obj.audience_uri != via_group:
            raise Drop(f"{via_group} may not change {object_id(value)}: not a thread of ours in that group")
        changed = await _apply_board(session, fed, obj, terms, actor, vouched=True)
        if changed:
            obj.document = board_document(obj)
    return changed
