"""Create{Note|Page|Article|Question|Event}: a post arrives.

Where it goes (PROTOCOL.md "Groups", FEP-1b12):

- into one of our groups when it replies to a post of the group, or names the group in ``audience``,
  ``to``/``cc`` (Lemmy, PieFed) or a ``Mention`` tag (Mastodon: ``@group@host`` in the text). The author
  must be allowed to post (``can_post``: banned never, private groups members only, restricted groups
  moderators only); a locked thread refuses replies; a public group takes public posts only (it
  announces them to Public). Then the group announces it to its members: ``Announce{Create}`` and,
  for Mastodon-family members, ``Announce{<object id>}``.
- to one of our people when it mentions them or replies to one of their posts, or when one of our
  people follows its author (their home timeline): stored, nothing relayed.
- from a remote group we follow (the Announce handler calls :func:`accept_post` with ``via_group``):
  stored with ``audience_uri`` = that group, for our members to read.

Anything else is about nothing we host and is dropped with a log. The same post arriving twice (a
retry, a second copy through a group) is stored once and announced once. Remote content never
replaces a local object (PROTOCOL.md "Validation").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors import group_rows, notifications
from actors.errors import Forbidden
from actors.memberships import can_post, local_actor_by_uri
from actors.urls import Urls
from content.audience import record_recipients
from content.docs import comments as doc_comments
from content.post_extras import index_remote
from content.received import Columns, link_response, new_post_columns
from content.store import have_object, note_reply, object_by_uri, thread_context, thread_locked
from federation.activities import activity as new_activity
from federation.html import SANITISE_POLICY_VERSION
from federation.object_fields import id_list
from federation.object_render import stored_document
from federation.objects import InvalidObject, ObjectData, parse_object
from inbox_outbox.dereference import FetchBudget, trusted_document
from inbox_outbox.fanout import announce_to_members
from inbox_outbox.federation import Federation
from inbox_outbox.handlers import projects
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local, new_activity_id
from inbox_outbox.outbox import publish
from storage.models import Follow, LocalActor, Object, utcnow
from storage.persist import insert_now

log = logging.getLogger(__name__)


async def on_create(fed: Federation, incoming: Incoming) -> None:
    if projects.is_ticket(fed, incoming):  # a project's task (ForgeFed Ticket), not a post
        await projects.on_ticket(fed, incoming)
        return
    budget = FetchBudget(fed.fetch_budget)
    # An embedded object from another origin (or a bare id) is fetched from its origin first.
    document = await trusted_document(fed, incoming.activity.get("object"), incoming.actor.uri, budget)
    post = parse_post(document)
    if post.author != incoming.actor.uri:
        raise Drop(f"{incoming.actor.uri} may not create a post attributed to {post.author}")
    announced = incoming.activity
    if incoming.activity.get("object") is not document:
        # FEP-1b12 relays the activity as received; but what we relay must be what we trusted, so a
        # bare id or a re-fetched object is replaced by the document its origin served.
        announced = {**incoming.activity, "object": document}
    try:
        await accept_post(fed, post, activity=announced, addressed=activity_addressing(incoming.activity))
    except Refused as refusal:
        await _reject(fed, incoming, post, refusal)
        raise


class Refused(Drop):
    """One of our groups refuses a post (``reason``: what its author is told)."""

    def __init__(self, group: LocalActor, reason: str) -> None:
        super().__init__(f"{group.username}: {reason}")
        self.group_id = group.id
        self.reason = reason


async def _reject(fed: Federation, incoming: Incoming, post: ObjectData, refusal: Refused) -> None:
    """Tell the author's server the group refused the post: ``Reject{Create}`` by the group, so the
    author is not left believing it was posted (issue #10 item 10; inbox_outbox.post_acceptance is the
    other side). Sent to the author alone; the Create is named with its type, so it reads without a lookup."""
    create = {"id": incoming.id, "type": "Create", "actor": incoming.actor.uri, "object": post.id}
    async with fed.sessions.begin() as session:
        group = await session.get(LocalActor, refusal.group_id)
        if group is None or incoming.id is None:
            return
        group_uri = fed.urls.group(group.username)
        reject = new_activity(new_activity_id(fed.urls), "Reject", group_uri, create, to=[incoming.actor.uri],
                          summary=refusal.reason, published=utcnow())
        await publish(session, fed.urls, group, reject, [incoming.actor.inbox])


def activity_addressing(activity: dict[str, Any]) -> tuple[str, ...]:
    """The Create's own ``audience``/``to``/``cc``: Lemmy names the group there and not always on the
    comment itself (crates/apub/assets/lemmy/activities/create_or_update/create_note.json)."""
    return tuple(dict.fromkeys(id_list(activity.get("audience")) + id_list(activity.get("to")) + id_list(activity.get("cc"))))


def parse_post(document: dict[str, Any]) -> ObjectData:
    try:
        return parse_object(document)
    except InvalidObject as exc:
        raise Drop(str(exc)) from None


async def accept_post(
    fed: Federation,
    post: ObjectData,
    *,
    activity: dict[str, Any] | None = None,
    via_group: str | None = None,
    boosted: bool = False,
    addressed: tuple[str, ...] = (),
) -> Object | None:
    """Store a trusted, parsed post where it belongs; None when we had it already.

    ``activity``: the Create to relay when the post goes into one of our groups. ``via_group``: a
    remote group we follow announced it. ``boosted``: someone our people follow boosted it.
    ``addressed``: recipients named by the activity, besides those the post names itself.
    """
    if is_local(fed.urls, post.id):
        raise Drop(f"{post.id} is ours: remote content never replaces a local object")
    if await fed.policy.suspends(post.author):  # relayed, boosted or backfilled: not stored (actors.suspensions)
        raise Drop(f"{post.id} is by {post.author}, suspended by this server's admins")
    try:
        async with fed.sessions.begin() as session:
            stored = await _store(session, fed.urls, post, activity, via_group, boosted, addressed)
            if stored.post is not None:  # replies to and mentions of our people
                await notifications.post_arrived(session, fed.urls, stored.post, [m.href for m in post.written_mentions],
                                                 group=stored.group)
            return stored.post
    except IntegrityError:
        # Two workers stored the same post at once: the other one won; that is the idempotent outcome.
        async with fed.sessions() as session:
            if await object_by_uri(session, post.id) is not None:
                log.info("inbox: %s was stored concurrently", post.id)
                return None
        raise


@dataclass(frozen=True)
class _Stored:
    """What :func:`_store` stored (None: we had it already), and the local group it went into. The group is
    handed on to ``notifications.post_arrived``: the session's identity map holds its rows weakly, so once
    ``_store`` returned, asking the session for the group again was a second SELECT of the same row per
    post (issue #13)."""

    post: Object | None
    group: LocalActor | None = None


async def _store(
    session: AsyncSession,
    urls: Urls,
    post: ObjectData,
    activity: dict[str, Any] | None,
    via_group: str | None,
    boosted: bool,
    addressed: tuple[str, ...],
) -> _Stored:
    if await have_object(session, post.id):
        log.info("inbox: already have %s; nothing to do", post.id)
        return _Stored(None)
    parent = await object_by_uri(session, post.in_reply_to)

    if via_group is not None:
        # FEP-1b12: the group vouches for posts made in it, not for posts of other groups.
        if post.audience is not None and post.audience != via_group:
            raise Drop(f"{via_group} announced {post.id}, which belongs to {post.audience}")
        columns = await _board_columns(session, urls, post, parent, group_id=None, vouched=True)
        return _Stored(await _add(session, post, parent, audience=via_group, public=post.public,
                                  locked=post.comments_enabled is False, addressed=addressed, columns=columns))

    candidates = tuple(dict.fromkeys(post.addressed + addressed))
    group = await target_group(session, urls, candidates, parent)
    if group is not None:
        assert group.group is not None
        await _check_group_post(session, urls, group, post, parent)
        public = group.group.visibility == "public"
        columns = await _board_columns(session, urls, post, parent, group_id=group.id, vouched=False)
        obj = await _add(session, post, parent, group=group, audience=urls.group(group.username), public=public,
                         addressed=addressed, columns=columns)
        if activity is not None:
            await announce_to_members(session, urls, group, activity)
        return _Stored(obj, group)

    if boosted or await _names_local_person(session, urls, candidates, parent) or await _followed_here(session, urls, post):
        audience = post.audience or (parent.audience_uri if parent is not None else None)
        return _Stored(await _add(session, post, parent, audience=audience, public=post.public, addressed=addressed))

    raise Drop(f"{post.id} is about nothing hosted here (no group or person of ours is addressed)")


async def _board_columns(
    session: AsyncSession, urls: Urls, post: ObjectData, parent: Object | None, *, group_id: int | None,
    vouched: bool,
) -> Columns:
    """The board's terms of the post (content.received): who may say what is decided there."""
    try:
        return await new_post_columns(session, urls, post.board, author=post.author,
                                      thread_start=post.in_reply_to is None, group_id=group_id, vouched=vouched,
                                      when=post.updated or post.published)
    except Forbidden as exc:
        raise Drop(exc.message) from None


async def target_group(
    session: AsyncSession, urls: Urls, candidates: tuple[str, ...], parent: Object | None
) -> LocalActor | None:
    """The local group the post goes into: its parent's group; else the first of ours it names."""
    if parent is not None:
        if parent.group_id is None:
            return None  # a reply in a thread outside our groups stays outside them
        return await group_rows.group_by_id(session, parent.group_id)
    groups = urls.base + "/groups/"
    for candidate in candidates:
        name = candidate.removesuffix("/followers").removeprefix(groups)
        if not candidate.startswith(groups) or "/" in name:
            continue  # not one of our groups (actors.memberships.local_actor_by_uri's test)
        # From memory (actors/group_rows.py): every post into a group read its row (issue #13).
        actor = await group_rows.group_by_name(session, name)
        if actor is not None:
            return actor
    return None


async def _check_group_post(
    session: AsyncSession, urls: Urls, group: LocalActor, post: ObjectData, parent: Object | None
) -> None:
    assert group.group is not None
    name = group.username
    if not await can_post(session, urls, group, post.author, starting_thread=parent is None):
        raise Refused(group, f"{post.author} may not post in {name} (banned, not a member, or posting restricted)")
    if parent is not None:
        if parent.deleted:
            raise Refused(group, f"{parent.uri} was deleted; it takes no replies")
        if await thread_locked(session, parent):
            raise Refused(group, f"the thread of {parent.uri} in {name} is locked")
    if group.group.visibility == "public" and not post.public:
        # The group would announce it to Public: a followers-only or direct post must not leak that way.
        raise Refused(group, f"{post.id} is not public; {name} announces publicly")


async def _names_local_person(
    session: AsyncSession, urls: Urls, candidates: tuple[str, ...], parent: Object | None
) -> bool:
    if parent is not None and parent.local:
        return True
    for candidate in candidates:
        if is_local(urls, candidate):
            actor = await local_actor_by_uri(session, urls, candidate)
            if actor is not None and actor.actor_type == "person":
                return True
    return False


async def _followed_here(session: AsyncSession, urls: Urls, post: ObjectData) -> bool:
    """Posts of someone our people follow reach us addressed to their followers: a home timeline."""
    found = await session.scalar(
        select(Follow.id).where(
            Follow.followee_uri == post.author,
            Follow.state == "accepted",
            Follow.follower_uri.startswith(urls.base + "/"),
        ).limit(1)
    )
    return found is not None


async def _add(
    session: AsyncSession,
    post: ObjectData,
    parent: Object | None,
    *,
    audience: str | None,
    public: bool,
    group: LocalActor | None = None,
    locked: bool = False,
    addressed: tuple[str, ...] = (),
    columns: Columns = Columns(),
) -> Object:
    now = utcnow()
    obj = Object(
        uri=post.id,
        local=False,
        type=post.type,
        author_uri=post.author,
        group_id=group.id if group is not None else None,
        audience_uri=audience,
        in_reply_to_uri=post.in_reply_to,
        context_uri=thread_context(parent, post.id, post.in_reply_to),
        name=post.name,
        content=post.content,
        sanitised_version=SANITISE_POLICY_VERSION,  # parse_object sanitised it just now
        public=public,
        document=stored_document(post),
        published=post.published or now,
        updated=post.updated,
        locked=locked,
        last_activity_at=now,
        kind=columns.kind,
        status=columns.status,
        accepted_answer_uri=columns.accepted_answer_uri,
        duplicate_of_uri=columns.duplicate_of_uri,
        official=columns.official,
        answered_at=columns.answered_at,
    )
    # Written at once with the table's INSERT, not by a flush of the unit of work (storage/persist.py: ~0.3 ms
    # less of every inbound post, issue #13, sixth pass); ``obj`` is the session's, as after a flush.
    await insert_now(session, obj)
    # Who may read it, if it is not public (content.audience): the post's recipients, and the activity's.
    await record_recipients(session, obj, post.addressed + addressed, new=True)
    await index_remote(session, obj, post.hashtags, post.attachments, new=True)
    await note_reply(session, parent, now)
    if post.doc_section is not None and parent is not None and parent.type == "Article":
        await doc_comments.mark_arrived(session, obj, parent, post.doc_section)
    if obj.official:
        await link_response(session, obj)
    return obj
