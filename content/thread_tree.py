"""One thread's page: the post with every reply under it, nested by ``inReplyTo`` (content.thread_views has
the group's thread lists and what both pages share: authors, readers, paths and times).

Reading only, as content.thread_views: the caller has checked the viewer may see the post. A fixed number of
queries whatever the thread's size: the posts with the viewer's votes and the group's pins, their authors, the
team's roles, their attachments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, exists, false, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.group_pages import Standing, local_path, team_roles_and_standing
from actors.urls import Urls
from content import acceptance
from content.audience import readable_by
from content.store import aware, group_of, thread_root
from content.shown_html import shown_html
from content.thread_views import MAX_DEPTH, MAX_THREAD_POSTS, Author, authors, post_path, shown_time
from content.titles import title_of
from content.post_extras import ShownAttachment, attachments_of
from storage.models import Featured, LocalActor, Object, Reaction, RemoteActor


@dataclass(frozen=True)
class SectionLink:
    title: str
    href: str


@dataclass
class PostNode:
    id: int
    uri: str
    path: str
    local: bool
    type: str
    title: str
    content: str  # sanitised HTML
    author: Author
    published: str
    published_iso: str
    updated: str | None
    likes: int
    dislikes: int
    locked: bool
    deleted: bool
    pinned: bool
    is_thread_start: bool
    # Hidden because an admin suspended its remote author (actors.suspensions): ``deleted`` is set too, so
    # every query that skips deleted posts skips it; the page says why it is hidden rather than "deleted".
    suspended: bool = False
    boosts: int = 0  # content.boosts
    my_vote: str | None = None
    acceptance: str | None = None  # content.acceptance: pending | accepted | refused, for our posts in remote groups
    refusal: str | None = None
    may_vote: bool = False
    may_reply: bool = False
    may_edit: bool = False
    may_delete: bool = False
    may_moderate: bool = False  # pin (thread starts), lock, ban the author
    may_ban_author: bool = False
    official: bool = False  # the team's official response (content.statuses)
    accepted: bool = False  # the question's accepted answer (content.answers)
    answers: Author | None = None  # shown flat below MAX_DEPTH: whom it replies to
    original_url: str | None = None  # a remote post's page on its own server
    attachments: list[ShownAttachment] = field(default_factory=list)  # content.post_extras
    public: bool = True  # may be boosted (inbox_outbox.services.boosts)
    # Dislikes are a group's votes (Lemmy's down-votes); a post outside groups (a microblog update) has
    # favourites only, as on Mastodon, which has no dislike to send back.
    downvotes: bool = True
    # One of our comments about a section of another Made Open node's doc: the link shown atop it, as the
    # doc's readers elsewhere get it in the content (content.docs.comments.local_section_links).
    section: SectionLink | None = None
    depth: int = 0
    children: list[PostNode] = field(default_factory=list)

    @property
    def descendants(self) -> int:
        """Live replies under this post (deleted ones keep their place in the tree but do not count:
        content.reply_counts)."""
        return sum((0 if child.deleted else 1) + child.descendants for child in self.children)


@dataclass(frozen=True)
class Placed:
    """One reply of a thread page in reading order (``in_order``), with the list markup around it: the page
    nests replies as ``<ol class="replies">`` lists inside the ``<li>`` of the post they answer, written by
    one loop instead of a template macro calling itself per post (the recursion was most of a member's
    thread page, issue #13)."""

    post: PostNode
    nested: bool  # replies follow: a "replies" list opens inside this post's <li>
    closes: int  # otherwise: after this post's </li>, how many enclosing lists (and their <li>) end


def in_order(top: PostNode) -> list[Placed]:
    """The replies under ``top`` depth first, each before its own replies, siblings in their order."""
    walked: list[tuple[PostNode, int]] = []
    stack = [(child, 0) for child in reversed(top.children)]
    while stack:
        post, level = stack.pop()
        walked.append((post, level))
        stack.extend((child, level + 1) for child in reversed(post.children))
    placed = []
    for index, (post, level) in enumerate(walked):
        after = walked[index + 1][1] if index + 1 < len(walked) else 0
        placed.append(Placed(post=post, nested=bool(post.children), closes=0 if post.children else level - after))
    return placed


@dataclass(frozen=True)
class GroupRef:
    name: str  # local username, or the remote group's handle
    title: str
    path: str
    local: bool
    private: bool


@dataclass(frozen=True)
class ThreadPage:
    focus: PostNode  # the post asked for, with every reply under it
    thread_start: PostNode | None  # the thread's first post when the focus is a reply (shown as context)
    parent_path: str | None
    group: GroupRef | None
    standing: Standing | None
    thread_locked: bool
    viewer: str | None


# What a thread page reads of each post: Core rows of these columns, named as Object's attributes (so
# post_path and title_of read them as they read an Object), instead of ORM entities with their identity map
# and instrumented attributes for every post of the thread (issue #13).
_POST_COLUMNS = (
    Object.id, Object.uri, Object.local, Object.type, Object.name, Object.content, Object.author_uri,
    Object.published, Object.updated, Object.like_count, Object.dislike_count, Object.boost_count, Object.locked,
    Object.deleted, Object.in_reply_to_uri, Object.group_id, Object.audience_uri, Object.acceptance, Object.refusal,
    Object.official, Object.public, Object.sanitised_version,  # content.shown_html
    Object.suspended,
    # Where a remote post is shown on its own server: its document's ``url`` when that is one link, read with
    # a JSON path in the same query (not by decoding whole documents).
    case((Object.local.is_(False), Object.document["url"].as_string()), else_=null()).label("document_url"),
)


def _post_rows(group: LocalActor | None, viewer: str | None) -> Select[Any]:
    """The posts' columns, whether each is pinned in ``group`` (the team's pins) and the viewer's vote on it
    (one per person and post: content.votes), read in the same query."""
    pinned = (exists().where(Featured.group_id == group.id, Featured.object_uri == Object.uri)
              if group is not None else false())
    my_vote = (select(Reaction.kind).where(Reaction.actor_uri == viewer, Reaction.object_uri == Object.uri)
               .limit(1).scalar_subquery() if viewer is not None else null())
    return select(*_POST_COLUMNS, pinned.label("pinned"), my_vote.label("my_vote"))


def _original_url(row: Any) -> str:
    url = row.document_url
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else row.uri


async def _group_ref(session: AsyncSession, urls: Urls, obj: Object, group: LocalActor | None) -> GroupRef | None:
    if group is not None:
        assert group.group is not None
        return GroupRef(name=group.username, title=group.display_name or group.username,
                        path=local_path(urls, urls.group(group.username)), local=True,
                        private=group.group.visibility == "private")
    if not obj.audience_uri:
        return None
    remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == obj.audience_uri))
    if remote is None or remote.actor_type != "Group":
        return None
    from urllib.parse import quote

    return GroupRef(name=f"{remote.username}@{remote.domain}", title=remote.display_name or remote.username,
                    path=f"/remote-group?id={quote(remote.uri, safe='')}", local=False,
                    private=(remote.document or {}).get("manuallyApprovesFollowers") is True)


async def thread_page(session: AsyncSession, urls: Urls, obj: Object, viewer: str | None) -> ThreadPage:
    """``obj`` with all the replies under it, nested by ``inReplyTo``; for a reply, also the thread's
    first post. What each post offers the viewer (vote, reply, edit, delete, moderate) is decided here."""
    root = await thread_root(session, obj)
    where: Any = or_(Object.context_uri == root.uri, Object.uri == root.uri)
    if root.group_id is not None:
        where = and_(where, or_(Object.public.is_(True), Object.group_id == root.group_id))
    else:
        where = and_(where, readable_by(viewer))  # public, or addressed to the viewer (content.audience)
    where = and_(where, acceptance.shown_to(viewer))  # others' unaccepted replies are not part of the thread
    group = await group_of(session, obj)
    posts = _post_rows(group, viewer)
    rows = (await session.execute(
        posts.where(where).order_by(Object.published, Object.id).limit(MAX_THREAD_POSTS)
    )).all()
    by_uri: dict[str, Any] = {row.uri: row for row in rows}
    missing = {obj.uri, root.uri} - by_uri.keys()  # the post asked for is shown even when the filter leaves it out
    if missing:
        by_uri.update((row.uri, row) for row in await session.execute(posts.where(Object.uri.in_(missing))))
    children: dict[str, list[Any]] = {}
    for row in by_uri.values():
        if row.uri == root.uri:
            continue
        parent = row.in_reply_to_uri if row.in_reply_to_uri in by_uri else root.uri
        children.setdefault(parent, []).append(row)
    for siblings in children.values():
        siblings.sort(key=lambda row: (aware(row.published), row.id))

    place: Standing | None = None
    roles: dict[str, str] = {}
    if group is not None:
        roles, place = await team_roles_and_standing(session, urls, group, viewer)
    people = await authors(session, urls, {row.author_uri for row in by_uri.values()}, roles)
    locked = root.locked
    attached = await attachments_of(session, (row.id for row in by_uri.values() if not row.deleted))

    def node(row: Any, depth: int, answers: Author | None = None, *, leaf: bool = False) -> PostNode:
        published, published_iso = shown_time(row.published)
        is_author = viewer is not None and viewer == row.author_uri
        moderator = place is not None and place.is_moderator
        alive = not row.deleted
        if place is not None:
            may_read, may_post = place.can_read and not place.is_banned, place.can_reply
        else:
            may_read = may_post = viewer is not None
        author = people[row.author_uri]
        made = PostNode(
            id=row.id, uri=row.uri, path=post_path(urls, row), local=row.local, type=row.type,
            title=title_of(row),
            content=shown_html(row) if alive else "",
            author=author, published=published, published_iso=published_iso,
            updated=shown_time(row.updated)[0] if row.updated and alive else None,
            likes=row.like_count, dislikes=row.dislike_count, locked=row.locked, deleted=row.deleted,
            suspended=row.suspended,
            pinned=row.pinned and row.uri == root.uri, is_thread_start=row.uri == root.uri, boosts=row.boost_count,
            my_vote=row.my_vote,
            acceptance=row.acceptance, refusal=row.refusal,
            may_vote=alive and viewer is not None and may_read,
            may_reply=alive and may_post and not locked and not row.locked
            and row.acceptance in (None, acceptance.ACCEPTED),
            may_edit=alive and is_author and row.local,
            may_delete=alive and ((is_author and row.local) or moderator),
            may_moderate=alive and moderator,
            may_ban_author=alive and moderator and not is_author and author.role != "owner"
            and not row.author_uri.startswith(urls.base + "/groups/"),
            official=row.official, accepted=root.accepted_answer_uri == row.uri and not row.deleted,
            answers=answers,
            original_url=None if row.local else _original_url(row),
            attachments=attached.get(row.id, []) if alive else [],
            public=row.public,
            downvotes=root.group_id is not None or root.audience_uri is not None,
            depth=depth,
        )
        kids = [] if leaf else children.get(row.uri, [])
        if depth + 1 < MAX_DEPTH:
            made.children = [child for child in (node(kid, depth + 1) for kid in kids) if _shown(child)]
        else:
            flat: list[tuple[Any, Author]] = []
            stack = [(kid, author) for kid in kids]
            seen: set[str] = {row.uri}
            while stack:
                kid, parent_author = stack.pop()
                if kid.uri in seen:  # remote inReplyTo values can go round in circles
                    continue
                seen.add(kid.uri)
                flat.append((kid, parent_author))
                stack.extend((grandchild, people[kid.author_uri]) for grandchild in children.get(kid.uri, []))
            flat.sort(key=lambda pair: (aware(pair[0].published), pair[0].id))
            shown = (node(kid, depth + 1, whom, leaf=True) for kid, whom in flat)
            made.children = [post for post in shown if not post.deleted]
        return made

    focus = node(by_uri[obj.uri], 0)
    start = None
    if obj.uri != root.uri:
        start = node(by_uri[root.uri], 0)
        start.children = []
    return ThreadPage(
        focus=focus,
        thread_start=start,
        parent_path=post_path(urls, by_uri[obj.in_reply_to_uri]) if obj.in_reply_to_uri in by_uri else None,
        group=await _group_ref(session, urls, obj, group),
        standing=place,
        thread_locked=locked,
        viewer=viewer,
    )


def _shown(post: PostNode) -> bool:
    """A deleted reply stays (as "deleted") only when replies under it are still there."""
    return not post.deleted or bool(post.children)
