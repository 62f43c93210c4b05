"""What the recognition pages show (read models): leaderboards, a member's points and ledger, the kudos
and badges on a thread page, badges on a profile."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.group_pages import local_path
from actors.urls import Urls
from content.recognition import badges, kudos
from content.recognition.ledger import Entry, Ledger, ledger, period_start, spent
from content.store import aware
from content.thread_tree import PostNode, ThreadPage
from content.thread_views import Author, authors, shown_time
from storage.models import BadgeAward, LocalActor, Object, ReceivedBadge

TOP_HELPERS = 5


@dataclass(frozen=True)
class Place:
    rank: int
    who: Author
    points: int
    badges: list[str]


async def leaderboard(session: AsyncSession, urls: Urls, group_id: int, period: str, *, limit: int = 50,
                      book: Ledger | None = None) -> list[Place]:
    book = book or await ledger(session, urls, group_id)
    totals = book.totals(since=period_start(period))
    ranked = sorted(((points, uri) for uri, points in totals.items() if points > 0), key=lambda p: (-p[0], p[1]))[:limit]
    people = await authors(session, urls, {uri for _, uri in ranked})
    held = await badges.by_member(session, group_id, [uri for _, uri in ranked])
    places, rank, last = [], 0, None
    for n, (points, uri) in enumerate(ranked, start=1):
        if points != last:
            rank, last = n, points  # equal points share a rank
        places.append(Place(rank=rank, who=people[uri], points=points, badges=held.get(uri, [])))
    return places


@dataclass(frozen=True)
class Line:
    points: int
    reason: str
    link: str
    at: str
    at_iso: str
    capped: bool


@dataclass(frozen=True)
class MyPoints:
    earned: int
    spent: int
    lines: list[Line]
    badges: list[BadgeAward]

    @property
    def balance(self) -> int:
        return self.earned - self.spent


def _line(urls: Urls, entry: Entry) -> Line:
    shown, iso = shown_time(entry.at)
    return Line(points=entry.points, reason=entry.reason, link=local_path(urls, entry.link), at=shown, at_iso=iso,
                capped=entry.capped)


async def my_points(session: AsyncSession, urls: Urls, group_id: int, member_uri: str,
                    book: Ledger | None = None) -> MyPoints:
    book = book or await ledger(session, urls, group_id)
    mine = book.of(member_uri)
    return MyPoints(earned=sum(entry.points for entry in mine),
                    spent=(await spent(session, group_id, member_uri)).get(member_uri, 0),
                    lines=[_line(urls, entry) for entry in reversed(mine)],
                    badges=await badges.of_member(session, member_uri, group_id))


@dataclass
class ThreadKudos:
    """The kudos buttons and byline badges of a thread page in one of our groups."""

    may_give: bool = False
    given: set[int] = field(default_factory=set)
    counts: dict[int, int] = field(default_factory=dict)
    badges: dict[str, list[str]] = field(default_factory=dict)


def _nodes(post: PostNode | None) -> list[PostNode]:
    if post is None:
        return []
    return [post, *(node for child in post.children for node in _nodes(child))]


async def thread_kudos(session: AsyncSession, urls: Urls, page: ThreadPage, root: Object) -> ThreadKudos:
    nodes = _nodes(page.focus) + _nodes(page.thread_start)
    if root.group_id is None:  # a remote Made Open group the viewer belongs to: kudos are sent there
        viewer = page.viewer
        if viewer is None or await kudos.remote_group(session, urls, root, viewer) is None:
            return ThreadKudos()
        sent = await kudos.sent(session, viewer, [node.uri for node in nodes])
        return ThreadKudos(may_give=True, given={node.id for node in nodes if node.uri in sent})
    ids = [node.id for node in nodes]
    standing = page.standing
    member = page.viewer is not None and standing is not None and standing.is_member
    return ThreadKudos(
        may_give=member,
        given=await kudos.given_by(session, page.viewer, ids) if member and page.viewer else set(),
        counts=await kudos.counts(session, ids),
        badges=await badges.by_member(session, root.group_id, list({node.author.uri for node in nodes})),
    )


@dataclass(frozen=True)
class ShownBadge:
    name: str
    description: str
    group_title: str
    group_path: str
    at: datetime
    manual: bool


async def profile_badges(session: AsyncSession, urls: Urls, person: LocalActor) -> list[ShownBadge]:
    """A person's badges: from our groups, and those groups of other servers awarded (handlers.recognition)."""
    uri = urls.person(person.username)
    shown = []
    rows = await session.execute(select(BadgeAward, LocalActor).join(LocalActor, LocalActor.id == BadgeAward.group_id)
                                 .where(BadgeAward.member_uri == uri))
    for award, group in rows:
        shown.append(ShownBadge(name=award.name, description=award.reason, group_title=group.display_name or group.username,
                                group_path=local_path(urls, urls.group(group.username)), at=award.created_at,
                                manual=award.granted_by_uri is not None))
    for received in await session.scalars(select(ReceivedBadge).where(ReceivedBadge.actor_id == person.id)):
        group_name = received.group_uri.rstrip("/").rsplit("/", 1)[-1]
        shown.append(ShownBadge(name=received.name, description=received.description,
                                group_title=f"{group_name} · {received.group_uri.split('://', 1)[-1].split('/', 1)[0]}",
                                group_path=f"/remote-group?id={quote(received.group_uri, safe='')}", at=received.created_at,
                                manual=False))
    return sorted(shown, key=lambda badge: aware(badge.at))
