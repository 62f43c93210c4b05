"""Timelines for people reading the web pages: home (what I follow) and local (this node), newest first.

- **home**: posts in the groups I am in (our groups: accepted memberships; remote groups: accepted
  follows, the posts their Announces brought), public posts of the people I follow, posts from elsewhere
  addressed to me (by name, or to the followers of someone I follow: their followers-only posts;
  content.audience), and my own posts.
- **local**: everything public that lives on this node: posts of our people, and posts in our public
  groups (remote members' too), except those of servers this node silences or blocks (actors.blocks:
  whoever follows them, or shares a group with them, still sees them at home and in the group).

Posts of ours that a remote group has not accepted (content.acceptance) are on their author's home
only, marked pending or not accepted; nobody else's list has them.

Both list threads and replies alike (a reply says what it answers), leave deleted posts out, and page
with a cursor: ``before=<id of the last post shown>``, ordered by (published, id) so a page never
repeats or skips a post when new ones arrive meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import blocks, person_blocks
from actors.accounts import DELETED_NAME
from actors.errors import InvalidInput
from actors.memberships import local_actor_by_uri
from actors.urls import Urls
from content import acceptance, reply_counts, thread_views
from content.audience import addressed_to, readable_by
from content.paging import older_than
from content.post_extras import ShownAttachment, attachments_of
from content.titles import title_of
from storage.models import Follow, LocalActor, Membership, Object, PostHashtag, RemoteActor

PAGE_SIZE = 20


@dataclass(frozen=True)
class TimelineItem:
    id: int
    uri: str
    link: str  # where to read it here (web.routes.threads): our posts' ids, /posts/<id> for others
    title: str
    content: str  # sanitised HTML (stored so: federation.html allowlist)
    author_name: str
    author_url: str
    author_handle: str
    published: str  # "YYYY-MM-DD HH:MM UTC"
    published_iso: str
    group_name: str | None = None
    group_url: str | None = None
    in_reply_to: str | None = None
    reply_count: int = 0
    like_count: int = 0
    boost_count: int = 0  # content.boosts
    acceptance: str | None = None  # content.acceptance: pending | refused only ever on the author's own
    attachments: tuple[ShownAttachment, ...] = ()  # content.post_extras


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    next_before: int | None  # cursor of the next (older) page; None on the last page


async def home(session: AsyncSession, urls: Urls, person: LocalActor, before: int | None = None) -> Timeline:
    me = urls.person(person.username)
    my_groups = select(Membership.group_id).where(
        Membership.local_actor_id == person.id, Membership.state == "accepted"
    )
    followed = select(Follow.followee_uri).where(Follow.follower_uri == me, Follow.state == "accepted")
    condition = or_(
        Object.group_id.in_(my_groups),
        and_(Object.group_id.is_(None), Object.audience_uri.in_(followed)),  # remote groups I am in
        and_(Object.author_uri.in_(followed), Object.public.is_(True)),
        and_(Object.group_id.is_(None), addressed_to(me)),  # followers-only posts too
        Object.author_uri == me,
    )
    # Whom they block drops out (actors.person_blocks).
    unblocked = Object.author_uri.not_in(person_blocks.blocked_by(person.id))
    return await _page(session, urls, and_(condition, acceptance.shown_to(me), unblocked), before)


async def local(session: AsyncSession, urls: Urls, before: int | None = None, *,
                viewer_id: int | None = None) -> Timeline:
    """Public posts of this node's people and groups; ``viewer_id``: the person looking, whose blocks apply."""
    condition = and_(Object.public.is_(True), or_(Object.local.is_(True), Object.group_id.is_not(None)),
                     acceptance.counted())
    return await _page(session, urls, await _unmuted(session, condition, viewer_id), before)


async def _unmuted(session: AsyncSession, condition: ColumnElement[bool], viewer_id: int | None) -> ColumnElement[bool]:
    """``condition`` without the posts of silenced servers (actors.blocks) and of whom the viewer blocks."""
    silenced = await blocks.silenced_domains(session)
    if silenced:
        muted = select(RemoteActor.uri).where(blocks.netloc_covered(RemoteActor.domain, silenced))
        condition = and_(condition, Object.author_uri.not_in(muted))
    if viewer_id is not None:
        condition = and_(condition, Object.author_uri.not_in(person_blocks.blocked_by(viewer_id)))
    return condition


async def _page(session: AsyncSession, urls: Urls, condition: ColumnElement[bool], before: int | None) -> Timeline:
    query = select(Object).where(condition, Object.deleted.is_(False))
    if before is not None:
        cursor = await session.get(Object, before)
        if cursor is None:
            raise InvalidInput("that page no longer exists: start again from the newest posts")
        query = query.where(older_than(Object.published, Object.id, cursor.published, cursor.id))
    rows = list(await session.scalars(
        query.order_by(Object.published.desc(), Object.id.desc()).limit(PAGE_SIZE + 1)
    ))
    names = _Names(session, urls)
    attached = await attachments_of(session, (row.id for row in rows[:PAGE_SIZE]))
    counts = await reply_counts.of_posts(session, rows[:PAGE_SIZE])
    items = [await _item(names, urls, row, counts.get(row.uri, 0), tuple(attached.get(row.id, ())))
             for row in rows[:PAGE_SIZE]]
    return Timeline(items=items, next_before=rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None)


class _Names:
    """(name, link, handle) of actors, looked up once per page."""

    def __init__(self, session: AsyncSession, urls: Urls) -> None:
        self.session = session
        self.urls = urls
        self.known: dict[str, tuple[str, str, str]] = {}

    async def of(self, uri: str) -> tuple[str, str, str]:
        if uri not in self.known:
            self.known[uri] = await self._lookup(uri)
        return self.known[uri]

    async def _lookup(self, uri: str) -> tuple[str, str, str]:
        local = await local_actor_by_uri(self.session, self.urls, uri)
        if local is not None and local.account is not None and local.account.deleted_at is not None:
            return DELETED_NAME, uri, ""  # anonymised posts (inbox_outbox.services.account_deletion)
        if local is not None:
            return (local.display_name or local.username), uri, f"{local.username}@{self.urls.domain}"
        remote = await self.session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
        if remote is not None:
            handle = f"{remote.username}@{remote.domain}"
            return (remote.display_name or handle), (remote.url or uri), handle
        return uri, uri, ""


async def _item(names: _Names, urls: Urls, obj: Object, replies: int,
                attachments: tuple[ShownAttachment, ...] = ()) -> TimelineItem:
    author_name, author_url, handle = await names.of(obj.author_uri)
    group_name = group_url = None
    if obj.group_id is not None:
        group = await names.session.get(LocalActor, obj.group_id)
        if group is not None:
            group_name, group_url = group.display_name or group.username, urls.group(group.username)
    elif obj.audience_uri:
        group_name, group_url, _ = await names.of(obj.audience_uri)
    link = thread_views.post_path(urls, obj)  # ours at their id; others' at /posts/<id>, with reply and votes
    return TimelineItem(
        id=obj.id,
        uri=obj.uri,
        link=link,
        title=title_of(obj),
        content=obj.content,
        author_name=author_name,
        author_url=author_url,
        author_handle=handle,
        published=obj.published.strftime("%Y-%m-%d %H:%M UTC"),
        published_iso=obj.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        group_name=group_name,
        group_url=group_url,
        in_reply_to=obj.in_reply_to_uri,
        reply_count=replies,
        like_count=obj.like_count,
        boost_count=obj.boost_count,
        acceptance=obj.acceptance,
        attachments=attachments,
    )


async def tagged(session: AsyncSession, urls: Urls, tag: str, before: int | None = None, *,
                 viewer_id: int | None = None) -> Timeline:
    """Public posts with the hashtag ``tag`` (content.post_extras normal form), ours and received, as
    the local timeline filters them (silenced servers' posts and the viewer's blocked people left out)."""
    with_tag = select(PostHashtag.object_id).where(PostHashtag.tag == tag)
    condition = and_(Object.id.in_(with_tag), Object.public.is_(True), acceptance.counted())
    return await _page(session, urls, await _unmuted(session, condition, viewer_id), before)


async def by_author(session: AsyncSession, urls: Urls, author_uri: str, viewer: str | None,
                    before: int | None = None) -> Timeline:
    """The posts of one of our people that ``viewer`` may read, for their profile: public ones (their
    microblog and public groups), and their followers-only or mentioned-only updates for those they
    reach (content.audience); never their posts in private groups."""
    condition = and_(
        Object.author_uri == author_uri, Object.local.is_(True),
        or_(Object.public.is_(True), and_(Object.group_id.is_(None), readable_by(viewer))),
        acceptance.shown_to(viewer),
    )
    return await _page(session, urls, condition, before)
