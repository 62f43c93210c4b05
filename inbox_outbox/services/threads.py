"""What the thread pages' forms do: start a thread, reply, vote, edit, delete, pin and lock.

Thin wrappers over services.posts, .votes, .post_edits and .moderation for the web UI: each checks that the person
may see the post at all (a private group's post is "not found" for outsiders, never "forbidden", so
its existence is not revealed), checks the form fields one by one (``InvalidFields``, nothing
written), then runs the action in one transaction with its deliveries. Posts are addressed by their
row id (``/posts/<id>/...``), which works for remote posts as well as ours.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput, NotFound
from actors.group_pages import local_path
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content import acceptance
from content.docs import comments
from content.kinds import DISCUSSION, check_kind
from content.rules import check_post_text
from content.store import group_of, object_by_uri, thread_root
from content.thread_views import post_path
from inbox_outbox import collections_content
from federation.object_render import LocalAttachment
from inbox_outbox.federation import Federation
from inbox_outbox.follows import BANNED
from inbox_outbox.services import board, boosts, mentions, moderation, post_edits, posts, votes
from inbox_outbox.services.common import load_group, load_person
from storage.models import Follow, Object, RemoteActor

VOTES = ("like", "dislike", "undo")
MODERATION = ("pin", "unpin", "lock", "unlock")


@dataclass(frozen=True)
class Posted:
    id: int
    uri: str
    path: str  # the post's own page
    thread_path: str  # the page of the thread it is in (its first post's)
    pending: bool = False  # sent to a remote group, which has not accepted it yet (content.acceptance)


async def _posted(session: AsyncSession, urls: Urls, obj: Object) -> Posted:
    root = await thread_root(session, obj)
    return Posted(id=obj.id, uri=obj.uri, path=post_path(urls, obj), thread_path=post_path(urls, root),
                  pending=obj.acceptance == acceptance.PENDING)


def _person_uri(urls: Urls, username: str) -> str:
    return urls.person(username)


async def visible_post(session: AsyncSession, urls: Urls, post_id: int, viewer: str | None) -> Object:
    """The post with row id ``post_id`` if ``viewer`` may see it; NotFound otherwise."""
    obj = await session.get(Object, post_id)
    if obj is None or not await collections_content.may_view(session, urls, obj, viewer):
        raise NotFound("no such post here (or it is in a private group you are not a member of)")
    return obj


# --------------------------------------------------------------------------------------------------
# Writing


async def start_thread(fed: Federation, username: str, group_name: str, title: str, body: str,
                       kind: str = DISCUSSION, attachments: tuple[LocalAttachment, ...] = ()) -> Posted:
    title, body = check_post_text(title, body, title_required=True)
    mentioned = await mentions.resolve(fed, body)  # before the transaction: WebFinger may be slow
    async with fed.sessions.begin() as session:
        author = await load_person(session, username)
        group = await load_group(session, group_name)
        obj = await posts.create_post(session, fed.urls, author, group, title, body, kind, mentioned=mentioned,
                                      attachments=attachments)
        return await _posted(session, fed.urls, obj)


async def post_status(fed: Federation, username: str, body: str, visibility: str = "public",
                      attachments: tuple[LocalAttachment, ...] = ()) -> Posted:
    """A microblog post from the author's profile to their followers (a ``Note``, as Mastodon's statuses);
    ``visibility``: public, followers (followers-only) or mentioned (the people it mentions only)."""
    _, body = check_post_text("", body, title_required=False)
    mentioned = await mentions.resolve(fed, body)  # before the transaction: WebFinger may be slow
    async with fed.sessions.begin() as session:
        author = await load_person(session, username)
        obj = await posts.create_post(session, fed.urls, author, None, "", body, mentioned=mentioned,
                                      attachments=attachments, visibility=visibility)
        return await _posted(session, fed.urls, obj)


async def start_remote_thread(fed: Federation, username: str, group_uri: str, title: str, body: str,
                              kind: str = DISCUSSION, attachments: tuple[LocalAttachment, ...] = ()) -> Posted:
    """A new thread in a group of another server (FEP-1b12: ``Create{Page}`` sent to the group, which
    announces it). Its members only: the group would refuse anyone else's post anyway (Lemmy and Made
    Open both do for private groups; a banned member is refused everywhere). ``kind``: an idea, concern
    or question travels as ``threadKind`` (PROTOCOL.md "The board"); a group that knows the term puts it
    on its board, others show a discussion."""
    title, body = check_post_text(title, body, title_required=True)
    kind = check_kind(kind)
    mentioned = await mentions.resolve(fed, body)
    async with fed.sessions.begin() as session:
        author = await load_person(session, username)
        group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group_uri))
        if group is None or group.actor_type != "Group":
            raise NotFound("no group of another server known here by that address")
        state = await session.scalar(select(Follow.state).where(
            Follow.follower_uri == _person_uri(fed.urls, username), Follow.followee_uri == group.uri))
        if state == BANNED:
            raise Forbidden(f"You are banned from {group.display_name or group.username}.")
        if state != "accepted":
            raise Forbidden(f"Join {group.display_name or group.username} first: its members start threads there.")
        obj = await posts.create_post(session, fed.urls, author, group, title, body, kind, mentioned=mentioned,
                                      attachments=attachments)
        return await _posted(session, fed.urls, obj)


async def reply_to(fed: Federation, username: str, post_id: int, body: str,
                   attachments: tuple[LocalAttachment, ...] = (), *, section: str | None = None) -> Posted:
    """A reply to a post we have. ``section``: a heading's anchor, when the post is another Made Open node's
    doc and the reply is a comment about that section of it (content.docs.comments.remote_section)."""
    _, body = check_post_text("", body, title_required=False)
    mentioned = await mentions.resolve(fed, body)
    async with fed.sessions.begin() as session:
        author = await load_person(session, username)
        parent = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        try:
            about = comments.remote_section(parent, section)
        except InvalidInput as exc:
            raise InvalidFields({"section": str(exc)}) from exc
        obj = await posts.reply(session, fed.urls, author, parent.uri, body, mentioned=mentioned,
                                attachments=attachments, section=about)
        return await _posted(session, fed.urls, obj)


async def edit_post(fed: Federation, username: str, post_id: int, title: str, body: str) -> Posted:
    mentioned = await mentions.resolve(fed, body)
    async with fed.sessions.begin() as session:
        author = await load_person(session, username)
        obj = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        if obj.author_uri != _person_uri(fed.urls, username) or not obj.local:
            raise Forbidden("only the author may edit a post")
        starts_thread = obj.type == "Page" and obj.in_reply_to_uri is None
        title, body = check_post_text(title if starts_thread else "", body, title_required=starts_thread)
        obj = await post_edits.update_post(session, fed.urls, author, obj.uri, body, title if starts_thread else None,
                                      mentioned=mentioned)
        return await _posted(session, fed.urls, obj)


def _edit_values(obj: Object) -> dict[str, str]:
    return {"title": obj.name or "", "body": obj.source or ""}


async def editable(session: AsyncSession, urls: Urls, username: str, post_id: int) -> tuple[Object, dict[str, str]]:
    """The post and its current title and Markdown, for the edit form (its author only)."""
    obj = await visible_post(session, urls, post_id, _person_uri(urls, username))
    if obj.author_uri != _person_uri(urls, username) or not obj.local or obj.deleted:
        raise Forbidden("only the author may edit a post")
    return obj, _edit_values(obj)


# --------------------------------------------------------------------------------------------------
# Votes


async def vote(fed: Federation, username: str, post_id: int, choice: str) -> Posted:
    if choice not in VOTES:
        raise InvalidInput(f"vote must be one of {', '.join(VOTES)}")
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        obj = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        if choice == "like":
            await votes.like(session, fed.urls, actor, obj.uri)
        elif choice == "dislike":
            await votes.dislike(session, fed.urls, actor, obj.uri)
        else:
            await votes.undo_reaction(session, fed.urls, actor, obj.uri)
        return await _posted(session, fed.urls, obj)


async def boost(fed: Federation, username: str, post_id: int, on: bool) -> Posted:
    """Boost a public post (an ``Announce`` to one's followers and the author), or take the boost back."""
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        obj = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        if on:
            await boosts.boost(session, fed.urls, actor, obj.uri)
        else:
            await boosts.unboost(session, fed.urls, actor, obj.uri)
        return await _posted(session, fed.urls, obj)


# --------------------------------------------------------------------------------------------------
# The board: statuses, accepted answers, following


async def set_status(fed: Federation, username: str, post_id: int, status: str, response: str,
                     duplicate_of: str = "") -> Posted:
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        thread = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        done = await board.set_status(session, fed.urls, actor, thread.uri, status, response,
                                      duplicate_of=duplicate_of or None)
        return await _posted(session, fed.urls, done.response)


async def accept_answer(fed: Federation, username: str, post_id: int, answer_id: int | None) -> Posted:
    """Mark the reply ``answer_id`` as the accepted answer of the question ``post_id`` (None: unmark)."""
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        viewer = _person_uri(fed.urls, username)
        question = await visible_post(session, fed.urls, post_id, viewer)
        answer = await visible_post(session, fed.urls, answer_id, viewer) if answer_id is not None else None
        await board.accept_answer(session, fed.urls, actor, question.uri, answer.uri if answer else None)
        return await _posted(session, fed.urls, answer or question)


async def follow_thread(fed: Federation, username: str, post_id: int, on: bool) -> Posted:
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        thread = await visible_post(session, fed.urls, post_id, _person_uri(fed.urls, username))
        await board.follow_thread(session, fed.urls, actor, thread, on)
        return await _posted(session, fed.urls, thread)


async def set_default_kind(fed: Federation, username: str, group_name: str, kind: str) -> str:
    async with fed.sessions.begin() as session:
        actor = await load_person(session, username)
        group = await load_group(session, group_name)
        return await board.set_default_kind(session, fed.urls, actor, group, kind)


# --------------------------------------------------------------------------------------------------
# Deleting and moderating


@dataclass(frozen=True)
class Target:
    """A post the moderation forms act on, and where to go afterwards."""

    uri: str
    group: str | None  # the local group's name
    back: str  # the thread page, or the group page when the thread itself goes
    author: str


async def target(session: AsyncSession, urls: Urls, username: str, post_id: int) -> Target:
    obj = await visible_post(session, urls, post_id, _person_uri(urls, username))
    if obj.deleted:
        raise InvalidInput("that post was deleted already")
    group = await group_of(session, obj)
    group_page = local_path(urls, urls.group(group.username)) if group is not None else "/groups"
    root = await object_by_uri(session, obj.context_uri) if obj.in_reply_to_uri is not None else None
    back = post_path(urls, root) if root is not None and root.uri != obj.uri else group_page
    return Target(uri=obj.uri, group=group.username if group is not None else None, back=back,
                  author=obj.author_uri)


async def delete_post(fed: Federation, username: str, post_id: int, reason: str = "") -> str:
    """The author deletes their post, or a moderator removes one from their group. Returns where to go."""
    async with fed.sessions() as session:
        found = await target(session, fed.urls, username, post_id)
        obj = await session.get(Object, post_id)
        assert obj is not None
        own = found.author == _person_uri(fed.urls, username) and obj.local
    if own:
        async with fed.sessions.begin() as session:
            actor = await load_person(session, username)
            await post_edits.delete_post(session, fed.urls, actor, found.uri)
        return found.back
    if found.group is None:
        raise Forbidden("only the author or a moderator of the group may delete a post")
    await moderation.remove_group_post(fed, found.group, found.uri, moderator=username, reason=reason)
    return found.back


async def moderate(fed: Federation, username: str, post_id: int, action: str) -> Posted:
    """Pin, unpin, lock or unlock a post of a local group (its moderators)."""
    if action not in MODERATION:
        raise InvalidInput(f"action must be one of {', '.join(MODERATION)}")
    async with fed.sessions() as session:
        found = await target(session, fed.urls, username, post_id)
        obj = await session.get(Object, post_id)
        assert obj is not None
        posted = await _posted(session, fed.urls, obj)
    if found.group is None:
        raise InvalidInput("only posts in this server's groups can be pinned or locked here")
    if action == "pin":
        await moderation.pin(fed, found.group, found.uri, moderator=username)
    elif action == "unpin":
        await moderation.unpin(fed, found.group, found.uri, moderator=username)
    elif action == "lock":
        await moderation.lock_post(fed, found.group, found.uri, moderator=username)
    else:
        await moderation.unlock_post(fed, found.group, found.uri, moderator=username)
    return posted
