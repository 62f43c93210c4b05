"""The people finder: who has these skills, soft skills or interests, says these words, belongs to this
group, lives near here - on this node and on every server whose actors it knows.

Rules:

- Only discoverable people are ever returned (local: the member's switch, and an active account; remote:
  their server said ``discoverable: true``).
- Tags (``skill``, ``soft_skill``, ``interest``, or ``tag`` for any of them) are alternatives: a person
  matches with at least one; the more they match, the higher they rank. Words (``q``) must all match
  (full text over name, headline, tags, place and bio). ``group`` keeps its members (a private group's
  members are listed to its members only). ``near`` keeps people within ``radius_km`` (default 100 km)
  of a point ("lat,lon") or of a place name this node knows from published profiles.
- Ranking: the number of matched tags, then distance (when ``near`` is given), then the text rank,
  then the name.
- Totals are exact up to 1,000 ("1,000+" beyond: ``PeopleResults.exact``), and pages are offered that far.
- Distances use only the coordinates others may see (rounded to the member's precision; hidden
  locations never match a ``near`` search). A bounding box narrows the rows in SQL; the exact
  great-circle distance is measured in Python, on both databases.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import blocks, local, suspensions
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.memberships import can_read, local_actor_by_uri
from actors.urls import Urls
from people import fts, gazetteer, geo, index, tags, word_forms
from people.help import help_given
from storage.models import Follow, LocalActor, Membership, Profile, ProfileTag, RemoteActor

MAX_QUERY_TAGS = 10  # per kind
MAX_TEXT = 200
MAX_PAGE = 1_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
MAX_CANDIDATES = 50_000  # rows measured in Python for one distance search (the best-matching ones)
COUNT_LIMIT = 1_000  # "more than 1,000 people": counting further is work nobody reads
PERSON_TAG_KINDS = ("skill", "soft_skill", "interest")
_POINT = re.compile(r"^\s*[-+]?[0-9.]+(?:[eE][-+]?\d+)?\s*,\s*[-+]?[0-9.]+(?:[eE][-+]?\d+)?\s*$")
_WORDS = {"page": "The page number", "per_page": "The number of people per page"}  # errors say no parameter names
_TAG_WORDS = {"skill": "skills", "soft_skill": "soft skills", "interest": "interests", "tag": "tags"}
_QUERY_KINDS = {"skill": "skills", "soft_skill": "soft_skills", "interest": "interests", "tag": "tags"}


@dataclass(frozen=True)
class PeopleQuery:
    skills: tuple[str, ...] = ()  # labels (people.tags normal form)
    soft_skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()  # any of the three kinds
    text: str = ""
    group: str = ""
    near: tuple[float, float] | None = None
    near_place: str = ""  # a place name, resolved from published profiles
    radius_km: float = geo.DEFAULT_RADIUS_KM
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def has_criteria(self) -> bool:
        return bool(self.skills or self.soft_skills or self.interests or self.tags or self.text or self.group
                    or self.near or self.near_place)

    def echo(self) -> dict[str, Any]:
        """The query as understood (normalised), for the JSON answer and the search form."""
        return {
            "skill": list(self.skills), "soft_skill": list(self.soft_skills), "interest": list(self.interests),
            "tag": list(self.tags), "q": self.text, "group": self.group,
            "near": f"{self.near[0]},{self.near[1]}" if self.near else self.near_place,
            "radius_km": self.radius_km if (self.near or self.near_place) else None,
            "page": self.page, "per_page": self.per_page,
        }


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    getall = getattr(params, "getall", None)
    raw = getall(name, []) if getall is not None else ([params[name]] if name in params else [])
    return [value for value in raw if isinstance(value, str)]


def _whole(value: str, name: str, low: int, high: int) -> int:
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise InvalidInput(f"{_WORDS.get(name, name)} must be a whole number from {low} to {high}, not {value[:20]!r}")
    return int(value)


def parse_query(params: Mapping[str, Any]) -> PeopleQuery:
    """Query parameters (repeatable, or comma-separated) -> a query; InvalidInput (400) says what is wrong."""
    lists: dict[str, tuple[str, ...]] = {}
    for param, attribute in _QUERY_KINDS.items():
        raw = [item for value in _values(params, param) for item in tags.split(value)]
        lists[attribute] = tuple(tags.parse_list(raw, what=_TAG_WORDS[param], limit=MAX_QUERY_TAGS))
    text = " ".join(" ".join(_values(params, "q")).split())
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"Words: too long, at most {MAX_TEXT} characters")
    if text and not index.query_words(text):
        raise InvalidInput("Words: type at least one word or number to search for")
    group = " ".join(_values(params, "group")).strip()
    if len(group) > 300:
        raise InvalidInput("Group: too long; type the group's name or address")
    near_text = " ".join(_values(params, "near")).strip()
    near, near_place = None, ""
    if near_text:
        if _POINT.match(near_text):
            near = geo.parse_point(near_text)
        elif len(near_text) > 120:
            raise InvalidInput("Place: too long; type the name of a town or city")
        else:
            near_place = " ".join(near_text.split())
    radius_text = " ".join(_values(params, "radius_km")).strip()
    radius = geo.DEFAULT_RADIUS_KM
    if radius_text:
        if not near_text:
            raise InvalidInput("Within (km): say near which place, in the Place box")
        radius = geo.radius(radius_text)
    page_text = " ".join(_values(params, "page")).strip()
    per_page_text = " ".join(_values(params, "per_page") or _values(params, "limit")).strip()
    return PeopleQuery(
        text=text,
        group=group,
        near=near,
        near_place=near_place,
        radius_km=radius,
        page=_whole(page_text, "page", 1, MAX_PAGE) if page_text else 1,
        per_page=_whole(per_page_text, "per_page", 1, MAX_PER_PAGE) if per_page_text else DEFAULT_PER_PAGE,
        **lists,
    )


@dataclass(frozen=True)
class PersonHit:
    id: str
    url: str
    name: str
    handle: str
    server: str
    local: bool
    headline: str = ""
    skills: list[str] = field(default_factory=list)
    soft_skills: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    location: str = ""  # the published place name ("" when hidden)
    latitude: float | None = None  # published (rounded) coordinates, None when hidden
    longitude: float | None = None
    approximate: bool = False  # city precision
    distance_km: float | None = None
    matched: list[str] = field(default_factory=list)
    member: bool = False  # of the group in question (group pages, post helpers)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PeopleResults:
    query: PeopleQuery
    people: list[PersonHit]
    total: int  # at most COUNT_LIMIT
    has_next: bool
    exact: bool = True  # False: more than ``total`` match

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query.echo(),
            "total": self.total,
            "total_exact": self.exact,
            "page": self.query.page,
            "has_next": self.has_next,
            "people": [hit.as_json() for hit in self.people],
        }


# --------------------------------------------------------------------------------------------------
# Building hits


def hit_of(profile: Profile, urls: Urls, *, distance: float | None = None, matched: list[str] | None = None,
           member: bool = False) -> PersonHit:
    hidden = profile.location_precision == "hidden"
    return PersonHit(
        id=profile.actor_uri,
        url=profile.url or profile.actor_uri,
        name=profile.name or profile.username,
        handle=f"{profile.username}@{profile.domain}",
        server=profile.domain,
        local=profile.local_actor_id is not None,
        headline=profile.headline,
        skills=list(profile.skills or []),
        soft_skills=list(profile.soft_skills or []),
        interests=list(profile.interests or []),
        location="" if hidden else profile.location_name,
        latitude=None if hidden else profile.search_lat,
        longitude=None if hidden else profile.search_lon,
        approximate=profile.location_precision == "city",
        distance_km=round(distance, 1) if distance is not None else None,
        matched=matched or [],
        member=member,
    )


async def load_hits(
    session: AsyncSession, urls: Urls, ids: list[int], *, distances: dict[int, float] | None = None,
    criteria: ColumnElement[bool] | None = None, members: set[int] | None = None,
) -> list[PersonHit]:
    """Full hits for profile ids, in that order, with the tags that matched ``criteria``."""
    if not ids:
        return []
    rows = {p.id: p for p in await session.scalars(select(Profile).where(Profile.id.in_(ids)))}
    matched: dict[int, list[str]] = {}
    if criteria is not None:
        found = await session.execute(
            select(ProfileTag.profile_id, ProfileTag.label).where(ProfileTag.profile_id.in_(ids), criteria)
        )
        for profile_id, label in found:
            if label not in matched.setdefault(profile_id, []):
                matched[profile_id].append(label)
    return [
        hit_of(rows[i], urls, distance=(distances or {}).get(i), matched=_in_profile_order(rows[i], matched.get(i, [])),
               member=members is not None and i in members)
        for i in ids
        if i in rows
    ]


def _in_profile_order(profile: Profile, labels: list[str]) -> list[str]:
    order = {label: n for n, label in enumerate([*profile.skills, *profile.soft_skills, *profile.interests])}
    return sorted(labels, key=lambda label: order.get(label, len(order)))


# --------------------------------------------------------------------------------------------------
# Groups


async def _member_of(session: AsyncSession, urls: Urls, group_ref: str, viewer: str | None) -> ColumnElement[bool]:
    """Profiles of the group's members, as far as this node knows them; a private group's only for members."""
    group, remote = await find_group(session, urls, group_ref)
    if group is not None:
        if not await can_read(session, urls, group, viewer):
            raise Forbidden(f"{group.username} is a private group: its members are visible to its members only")
        return members_condition(group.id)
    assert remote is not None
    followers = select(Follow.follower_uri).where(Follow.followee_uri == remote.uri, Follow.state == "accepted")
    if (remote.document or {}).get("manuallyApprovesFollowers") is True:
        allowed = viewer is not None and await session.scalar(
            select(Follow.id).where(Follow.followee_uri == remote.uri, Follow.follower_uri == viewer,
                                    Follow.state == "accepted")
        )
        if not allowed:
            raise Forbidden(f"{remote.username}@{remote.domain} is a private group: its members are visible to "
                            "its members only")
    return Profile.actor_uri.in_(followers)


def members_condition(group_id: int) -> ColumnElement[bool]:
    accepted = and_(Membership.group_id == group_id, Membership.state == "accepted")
    return or_(
        Profile.local_actor_id.in_(select(Membership.local_actor_id).where(accepted)),
        Profile.remote_actor_id.in_(select(Membership.remote_actor_id).where(accepted)),
    )


async def find_group(session: AsyncSession, urls: Urls, ref: str) -> tuple[LocalActor | None, RemoteActor | None]:
    """A group named by local name, ``name@host`` (``!``/``@`` prefixes welcome) or id; no network."""
    ref = ref.strip()
    if ref.startswith(("http://", "https://")):
        found = await local_actor_by_uri(session, urls, ref)
        if found is not None and found.actor_type == "group":
            return found, None
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == ref))
    else:
        name, _, host = ref.lstrip("!@").partition("@")
        if not host or host.lower() == urls.domain:
            try:
                return await local.find_group(session, name), None
            except NotFound:
                raise NotFound(f"no group named {name!r} here") from None
        remote = await session.scalar(
            select(RemoteActor).where(RemoteActor.username == name, RemoteActor.domain == host.lower())
        )
    if remote is None or remote.actor_type not in index.GROUP_TYPES:
        raise NotFound(f"this node does not know a group {ref!r}")
    return None, remote


# --------------------------------------------------------------------------------------------------
# The finder


def _asked_tags(query: PeopleQuery) -> int:
    return len(query.skills) + len(query.soft_skills) + len(query.interests) + len(query.tags)


def asked_keys(query: PeopleQuery) -> list[str]:
    """The keys of every tag asked for, whatever its kind."""
    return [tags.key(label) for label in (*query.skills, *query.soft_skills, *query.interests, *query.tags)]


def tag_criteria(query: PeopleQuery) -> ColumnElement[bool] | None:
    parts = []
    for kind, labels in (("skill", query.skills), ("soft_skill", query.soft_skills), ("interest", query.interests)):
        if labels:
            parts.append(and_(ProfileTag.kind == kind, ProfileTag.key.in_([tags.key(l) for l in labels])))
    if query.tags:
        parts.append(and_(ProfileTag.kind.in_(PERSON_TAG_KINDS), ProfileTag.key.in_([tags.key(l) for l in query.tags])))
    return or_(*parts) if parts else None


async def resolve_place(session: AsyncSession, name: str) -> tuple[float, float]:
    """A place name -> the middle of the published coordinates of discoverable profiles that name it (a
    neighbourhood people here use), else the town or city of that name in the gazetteer."""
    row = (
        await session.execute(
            select(func.avg(Profile.search_lat), func.avg(Profile.search_lon), func.count()).where(
                func.lower(Profile.location_name) == name.lower(),
                Profile.search_lat.is_not(None),
                Profile.location_precision != "hidden",
                Profile.discoverable.is_(True),
            )
        )
    ).one()
    if row[2]:
        return float(row[0]), float(row[1])
    place = await gazetteer.locate(name)  # a town or city anywhere (people.gazetteer)
    if place is None:
        raise InvalidInput(f"Place: we could not find a town or city called “{name}”; try the nearest town or "
                           "city, or add the country, as in “Paris, France”")
    return place.latitude, place.longitude


def _box_condition(box: geo.Box) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = [
        Profile.search_lat.is_not(None),
        Profile.search_lat.between(box.min_lat, box.max_lat),
    ]
    if box.lon_ranges:
        conditions.append(or_(*(Profile.search_lon.between(low, high) for low, high in box.lon_ranges)))
    return and_(*conditions)


async def find_people(session: AsyncSession, urls: Urls, query: PeopleQuery, viewer: str | None) -> PeopleResults:
    """One page of people matching ``query`` for ``viewer`` (an actor id, or None for anonymous)."""
    asked = query
    query = replace(  # word forms and near spellings (people.word_forms)
        query,
        skills=await word_forms.widen(session, query.skills, ("skill",)),
        soft_skills=await word_forms.widen(session, query.soft_skills, ("soft_skill",)),
        interests=await word_forms.widen(session, query.interests, ("interest",)),
        tags=await word_forms.widen(session, query.tags, PERSON_TAG_KINDS),
    )
    conditions: list[ColumnElement[bool]] = [Profile.kind == "person", Profile.discoverable.is_(True)]
    silenced = await blocks.silenced_domains(session)
    if silenced:  # people of silenced (and blocked) servers are not offered here (actors.blocks)
        conditions.append(~blocks.netloc_covered(Profile.domain, silenced))
    conditions.append(Profile.actor_uri.not_in(suspensions.suspended_uris()))  # nor suspended accounts
    if query.group:
        conditions.append(await _member_of(session, urls, query.group, viewer))
    near = query.near
    if near is None and query.near_place:
        near = await resolve_place(session, query.near_place)
    if near is not None:
        conditions.append(_box_condition(geo.bounding_box(near[0], near[1], query.radius_km)))

    score: Any = literal_column("0")
    rank: Any = literal_column("0.0")
    order: list[Any] = []
    stmt = select(Profile.id)
    criteria = tag_criteria(query)
    if criteria is not None:
        mine = and_(ProfileTag.profile_id == Profile.id, criteria)
        several = _asked_tags(query) > 1  # one tag asked for: every match scores 1, nothing to count
        narrowed = near is not None or bool(query.text) or bool(query.group)
        if several and not narrowed:
            # Tags alone: count the matches per profile once, from the tag index.
            matches = (
                select(ProfileTag.profile_id.label("profile_id"), func.count().label("score"))
                .where(criteria)
                .group_by(ProfileTag.profile_id)
                .subquery("tag_match")
            )
            stmt = stmt.join(matches, matches.c.profile_id == Profile.id)
            score = matches.c.score
        elif narrowed:
            # Correlated to each profile, so that a selective place, words or group drive the query.
            conditions.append(exists().where(mine))
            if several:
                score = select(func.count()).where(mine).correlate(Profile).scalar_subquery()
        else:
            # One tag alone: the profiles having it, read from the tag index (SQLite then looks them up by
            # rowid; PostgreSQL picks a semi-join or, for a very common tag, the name order with a LIMIT).
            conditions.append(Profile.id.in_(select(ProfileTag.profile_id).where(criteria)))
        if several:
            order.append(score.desc())
    if query.text:
        text_match = fts.profile_matches(session, index.query_words(query.text))
        stmt = stmt.join(text_match, text_match.c.id == Profile.id)
        rank = text_match.c.rank
        order.append(rank.asc())
    if criteria is not None and near is None:  # equal matches: who helped most in groups needing them first
        helped = help_given(asked_keys(query))
        stmt = stmt.outerjoin(helped, helped.c.uri == Profile.actor_uri)
        order.append(func.coalesce(helped.c.help, 0).desc())
    stmt = stmt.where(*conditions)
    start = (query.page - 1) * query.per_page

    if near is None:
        ordered = stmt.order_by(*order, Profile.name, Profile.id)
        ids = list(await session.scalars(ordered.offset(start).limit(query.per_page)))
        # Counted up to a limit: an exact count of a very common tag costs more than the page itself.
        counted = await session.scalar(select(func.count()).select_from(stmt.limit(COUNT_LIMIT + 1).subquery())) or 0
        total = min(counted, COUNT_LIMIT)
        hits = await load_hits(session, urls, ids, criteria=criteria)
        has_next = len(ids) == query.per_page and start + len(ids) < counted
        return PeopleResults(asked, hits, total, has_next, exact=counted <= COUNT_LIMIT)

    rows = await session.execute(
        stmt.add_columns(score.label("score"), rank.label("rank"), Profile.search_lat, Profile.search_lon,
                         Profile.name)
        .order_by(*order, Profile.id)
        .limit(MAX_CANDIDATES)
    )
    measured = []
    for row in rows:
        distance = geo.haversine_km(near[0], near[1], row.search_lat, row.search_lon)
        if distance <= query.radius_km:
            measured.append((-row.score, distance, row.rank, (row.name or "").casefold(), row.id))
    measured.sort()
    page = measured[start : start + query.per_page]
    distances = {item[4]: item[1] for item in page}
    hits = await load_hits(session, urls, [item[4] for item in page], distances=distances, criteria=criteria)
    return PeopleResults(asked, hits, min(len(measured), COUNT_LIMIT), start + len(page) < len(measured),
                         exact=len(measured) <= COUNT_LIMIT)
