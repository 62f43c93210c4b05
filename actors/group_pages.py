"""What the group pages of the web UI show about groups and their people (web/routes/groups.py).

- the directory: local groups by name, title or description; public groups, plus the private ones the
  viewer is a member of (a private group's page is reachable by its URL, so people can ask to join);
- a group's about box: kind, description, rules, member count and its team (owners, admins,
  moderators and staff, who wear a badge wherever they post);
- where the viewer stands in a group (``Standing``): what the page offers them;
- the lists moderators work with: join requests, members with their roles, bans;
- the create-group form, checked field by field (``InvalidFields``: nothing is written on an error);
- a remote group we have cached, as the node-2 side of "join a group on another server" shows it.

A group's description is stored as sanitised HTML in ``LocalActor.summary`` (what AS2 and the peers
want); its rules as the Markdown the owner typed in ``Group.rules``, rendered and sanitised when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import local
from actors.errors import Conflict, InvalidInput, NotFound
from actors.local import GROUP_KINDS, MAX_TITLE, MODERATOR_ROLES
from actors.media import media_url
from actors.node_settings import InvalidFields
from actors.urls import Urls
from actors.usernames import normalise_username
from federation.html import plain_text, sanitize_html
from federation.markdown import render_markdown
from storage.models import Follow, Group, LocalActor, Membership, RemoteActor

MAX_DESCRIPTION = 5_000
MAX_RULES = 5_000
DIRECTORY_PAGE = 30
MAX_PAGE = 10_000
MAX_QUERY_WORDS = 8
TEAM_ROLES = ("owner", "admin", "moderator", "staff")  # the roles that wear a badge
ROLE_LABELS = {"owner": "Owner", "admin": "Admin", "moderator": "Moderator", "staff": "Staff", "member": "Member"}


def local_path(urls: Urls, uri: str) -> str:
    """A link to one of our own URLs as a path (works behind any proxy and in tests); others unchanged."""
    return uri[len(urls.base):] or "/" if uri.startswith(urls.base + "/") else uri


def summary_html(summary: str) -> str:
    """A group's description as safe HTML: stored HTML is sanitised again; older plain text (the CLI's
    ``--title`` groups have none, but an operator may have set one) is read as Markdown."""
    text = summary or ""
    if not text.strip():
        return ""
    return sanitize_html(text) if text.lstrip().startswith("<") else render_markdown(text)


def snippet(summary: str, limit: int = 240) -> str:
    text = plain_text(summary or "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------------------------------
# People in a group


@dataclass(frozen=True)
class PersonRef:
    """Someone as the pages name them: local ``Ada``, remote ``alice · social.example``."""

    uri: str
    name: str
    url: str
    handle: str
    server: str | None = None  # None: this node
    role: str | None = None

    @property
    def badge(self) -> str | None:
        return ROLE_LABELS.get(self.role or "") if self.role in TEAM_ROLES else None


def _member_columns():  # type: ignore[no-untyped-def]
    return (
        Membership.role, LocalActor.actor_type, LocalActor.username, LocalActor.display_name,
        RemoteActor.uri, RemoteActor.username, RemoteActor.domain, RemoteActor.display_name, RemoteActor.url,
    )


def _person_ref(urls: Urls, row) -> PersonRef:  # type: ignore[no-untyped-def]
    role, kind, name, display, r_uri, r_name, r_domain, r_display, r_url = row
    if r_uri is not None:
        return PersonRef(uri=r_uri, name=r_display or r_name, url=r_url or r_uri, handle=f"{r_name}@{r_domain}",
                         server=r_domain, role=role)
    uri = urls.actor(kind, name)
    return PersonRef(uri=uri, name=display or name, url=local_path(urls, uri), handle=f"{name}@{urls.domain}",
                     role=role)


async def members_in_state(
    session: AsyncSession, urls: Urls, group: LocalActor, state: str, *, roles: tuple[str, ...] | None = None,
    limit: int = 500,
) -> list[PersonRef]:
    """Members of ``group`` in ``state`` (pending, accepted, banned), oldest first."""
    query = (
        select(*_member_columns())
        .select_from(Membership)
        .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
        .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(Membership.group_id == group.id, Membership.state == state)
        .order_by(Membership.id)
        .limit(limit)
    )
    if roles is not None:
        query = query.where(Membership.role.in_(roles))
    return [_person_ref(urls, row) for row in await session.execute(query)]


async def team(session: AsyncSession, urls: Urls, group: LocalActor) -> list[PersonRef]:
    """Owners, admins, moderators and staff, in that order."""
    people = await members_in_state(session, urls, group, "accepted", roles=TEAM_ROLES)
    return sorted(people, key=lambda person: TEAM_ROLES.index(person.role or "staff"))


async def team_roles(session: AsyncSession, urls: Urls, group_id: int) -> dict[str, str]:
    """Actor id -> role, for the badges next to authors' names."""
    rows = await session.execute(
        select(*_member_columns())
        .select_from(Membership)
        .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
        .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(Membership.group_id == group_id, Membership.state == "accepted", Membership.role.in_(TEAM_ROLES))
    )
    return {ref.uri: ref.role or "" for ref in (_person_ref(urls, row) for row in rows)}


# --------------------------------------------------------------------------------------------------
# Where the viewer stands


@dataclass(frozen=True)
class Standing:
    """The viewer's place in a local group (``viewer`` None: nobody is logged in)."""

    viewer: str | None
    private: bool
    restricted: bool = False
    state: str | None = None  # None (no row) | pending | accepted | banned
    role: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.viewer is not None

    @property
    def is_member(self) -> bool:
        return self.state == "accepted"

    @property
    def is_pending(self) -> bool:
        return self.state == "pending"

    @property
    def is_banned(self) -> bool:
        return self.state == "banned"

    @property
    def is_moderator(self) -> bool:
        return self.is_member and self.role in MODERATOR_ROLES

    @property
    def is_owner(self) -> bool:
        return self.is_member and self.role == "owner"

    @property
    def can_change_settings(self) -> bool:
        """Owners and admins (inbox_outbox.services.group_settings)."""
        return self.is_member and self.role in ("owner", "admin")

    @property
    def can_read(self) -> bool:
        return not self.private or self.is_member

    members_start_threads: bool = False

    @property
    def can_post(self) -> bool:
        """May start a thread: actors.memberships.can_post, from the row already loaded."""
        if self.viewer is None or self.is_banned:
            return False
        if self.restricted:
            return self.is_moderator
        return self.is_member if self.private or self.members_start_threads else True

    @property
    def can_reply(self) -> bool:
        return self.viewer is not None and not self.is_banned and (self.is_member or not self.private)

    @property
    def can_join(self) -> bool:
        return self.state is None


def _no_standing(group: LocalActor, viewer: str | None) -> Standing:
    assert group.group is not None
    return Standing(viewer=viewer, private=group.group.visibility == "private",
                    restricted=group.group.posting_restricted_to_mods,
                    members_start_threads=group.group.members_start_threads)


def _is_viewer(urls: Urls, viewer: str) -> Any:
    """The membership row's person is ``viewer`` (with LocalActor and RemoteActor joined)."""
    prefix = urls.base + "/users/"
    if viewer.startswith(prefix):
        return and_(LocalActor.username == viewer[len(prefix):], LocalActor.actor_type == "person")
    return RemoteActor.uri == viewer


async def standing(session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None) -> Standing:
    base = _no_standing(group, viewer)
    if viewer is None:
        return base
    query = (select(Membership.state, Membership.role).select_from(Membership)
             .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
             .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
             .where(Membership.group_id == group.id, _is_viewer(urls, viewer)))
    row = (await session.execute(query)).first()
    if row is None:
        return base
    return replace(base, state=row[0], role=row[1])


async def team_roles_and_standing(
    session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None,
) -> tuple[dict[str, str], Standing]:
    """``team_roles`` and ``standing`` in one query, the team's membership rows and the viewer's (a thread
    page needs both; one query fewer per page, issue #13)."""
    place = _no_standing(group, viewer)
    team = and_(Membership.state == "accepted", Membership.role.in_(TEAM_ROLES))
    mine = _is_viewer(urls, viewer) if viewer is not None else None
    rows = await session.execute(
        select(*_member_columns(), Membership.state, (mine if mine is not None else false()).label("mine"))
        .select_from(Membership)
        .outerjoin(LocalActor, LocalActor.id == Membership.local_actor_id)
        .outerjoin(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
        .where(Membership.group_id == group.id, or_(team, mine) if mine is not None else team)
    )
    roles: dict[str, str] = {}
    for row in rows:
        *person, state, is_viewer = row
        if state == "accepted" and person[0] in TEAM_ROLES:
            ref = _person_ref(urls, person)
            roles[ref.uri] = ref.role or ""
        if is_viewer:
            place = replace(place, state=state, role=person[0])
    return roles, place


# --------------------------------------------------------------------------------------------------
# The directory


@dataclass(frozen=True)
class GroupCard:
    name: str
    title: str
    handle: str
    path: str
    kind: str
    private: bool
    about: str  # plain text
    members: int
    state: str | None = None  # the viewer's membership state


@dataclass(frozen=True)
class Directory:
    query: str
    page: int
    groups: list[GroupCard]
    has_next: bool


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def member_counts(session: AsyncSession, group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = await session.execute(
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(group_ids), Membership.state == "accepted")
        .group_by(Membership.group_id)
    )
    return {group_id: count for group_id, count in rows}


async def directory(session: AsyncSession, urls: Urls, viewer_id: int | None, text: str, page: int = 1) -> Directory:
    """Local groups whose name, title or description has every word of ``text`` (case-insensitive)."""
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page must be a whole number from 1 to {MAX_PAGE}")
    words = text.split()
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidInput(f"too many words: search with at most {MAX_QUERY_WORDS}")
    visible = Group.visibility == "public"
    if viewer_id is not None:
        mine = select(Membership.group_id).where(
            Membership.local_actor_id == viewer_id, Membership.state == "accepted"
        )
        visible = or_(visible, Group.actor_id.in_(mine))
    query = select(LocalActor).join(Group, Group.actor_id == LocalActor.id).where(visible)
    for word in words:
        pattern = _like(word.lower())
        query = query.where(or_(
            func.lower(LocalActor.username).like(pattern, escape="\\"),
            func.lower(LocalActor.display_name).like(pattern, escape="\\"),
            func.lower(LocalActor.summary).like(pattern, escape="\\"),
        ))
    query = query.order_by(func.lower(LocalActor.display_name), LocalActor.id)
    rows = list(await session.scalars(query.offset((page - 1) * DIRECTORY_PAGE).limit(DIRECTORY_PAGE + 1)))
    has_next, rows = len(rows) > DIRECTORY_PAGE, rows[:DIRECTORY_PAGE]
    ids = [actor.id for actor in rows]
    counts = await member_counts(session, ids)
    states: dict[int, str] = {}
    if viewer_id is not None and ids:
        found = await session.execute(
            select(Membership.group_id, Membership.state).where(
                Membership.group_id.in_(ids), Membership.local_actor_id == viewer_id
            )
        )
        states = {group_id: state for group_id, state in found}
    cards = [
        GroupCard(
            name=actor.username,
            title=actor.display_name or actor.username,
            handle=f"{actor.username}@{urls.domain}",
            path=local_path(urls, urls.group(actor.username)),
            kind=actor.group.kind if actor.group else "community",
            private=bool(actor.group and actor.group.visibility == "private"),
            about=snippet(actor.summary),
            members=counts.get(actor.id, 0),
            state=states.get(actor.id),
        )
        for actor in rows
    ]
    return Directory(query=" ".join(words), page=page, groups=cards, has_next=has_next)


# --------------------------------------------------------------------------------------------------
# A group's about box


@dataclass(frozen=True)
class GroupAbout:
    name: str
    title: str
    handle: str
    uri: str
    path: str
    kind: str
    private: bool
    restricted: bool
    description_html: str
    rules_html: str
    members: int
    team: list[PersonRef] = field(default_factory=list)
    default_kind: str = "discussion"  # what the composer offers first (content.kinds)
    banner: str | None = None  # the banner image's URL
    members_start_threads: bool = False


async def about(session: AsyncSession, urls: Urls, group: LocalActor, *, reader: Standing | None = None) -> GroupAbout:
    """``reader``: who looks. In a private group, someone who is not a member sees the moderators (as
    the public ``moderators`` collection lists them) but not the staff."""
    assert group.group is not None
    uri = urls.group(group.username)
    counts = await member_counts(session, [group.id])
    return GroupAbout(
        name=group.username,
        title=group.display_name or group.username,
        handle=f"{group.username}@{urls.domain}",
        uri=uri,
        path=local_path(urls, uri),
        kind=group.group.kind,
        private=group.group.visibility == "private",
        restricted=group.group.posting_restricted_to_mods,
        description_html=summary_html(group.summary),
        rules_html=render_markdown(group.group.rules or "", urls.base),
        members=counts.get(group.id, 0),
        default_kind=group.group.default_kind or "discussion",
        banner=local_path(urls, media_url(urls, group.group.banner)) if group.group.banner else None,
        members_start_threads=group.group.members_start_threads,
        team=[person for person in await team(session, urls, group)
              if reader is None or reader.can_read or person.role in MODERATOR_ROLES],
    )


# --------------------------------------------------------------------------------------------------
# Creating a group


@dataclass(frozen=True)
class GroupForm:
    name: str
    title: str = ""
    kind: str = "community"
    visibility: str = "public"  # public | private
    description: str = ""
    rules: str = ""


async def create_group(session: AsyncSession, form: GroupForm, owner: str) -> LocalActor:
    """A new local group owned by ``owner`` (a local username); every field checked before anything is
    written, each problem reported against its field."""
    errors: dict[str, str] = {}
    username = ""
    try:
        username = normalise_username(form.name)
    except InvalidInput as exc:
        errors["name"] = exc.message
    if username and await session.scalar(select(LocalActor.id).where(LocalActor.username == username)):
        errors["name"] = f"the name {username!r} is already taken: choose another"
    if form.kind not in GROUP_KINDS:
        errors["kind"] = f"choose one of: {', '.join(GROUP_KINDS)}"
    if form.visibility not in ("public", "private"):
        errors["visibility"] = "choose public or private"
    title = " ".join(form.title.split())
    if len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters (this has {len(title)})"
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"at most {MAX_DESCRIPTION} characters (this has {len(description)})"
    rules = form.rules.strip()
    if len(rules) > MAX_RULES:
        errors["rules"] = f"at most {MAX_RULES} characters (this has {len(rules)})"
    if errors:
        raise InvalidFields(errors)
    try:
        actor = await local.create_group(session, local.NewGroup(
            username=username, kind=form.kind, private=form.visibility == "private", title=title,
            summary=render_markdown(description), owner=owner,
        ))
    except (Conflict, NotFound) as exc:  # a race for the name; the owner was suspended meanwhile
        raise InvalidFields({"name": exc.message}) from None
    assert actor.group is not None
    actor.group.rules = rules
    actor.group.description_source = description
    await session.flush()
    return actor


# --------------------------------------------------------------------------------------------------
# A remote group (another server's), as we have it cached


@dataclass(frozen=True)
class RemoteGroup:
    uri: str
    name: str
    handle: str
    server: str
    url: str
    description_html: str
    private: bool
    state: str | None  # the viewer's Follow: None | pending | accepted | banned


async def remote_group(session: AsyncSession, uri: str, viewer: str | None) -> RemoteGroup:
    actor = await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
    if actor is None or actor.actor_type != "Group":
        raise NotFound("no group of another server known here by that address")
    state = None
    if viewer is not None:
        state = await session.scalar(
            select(Follow.state).where(and_(Follow.follower_uri == viewer, Follow.followee_uri == actor.uri))
        )
    return RemoteGroup(
        uri=actor.uri,
        name=actor.display_name or actor.username,
        handle=f"{actor.username}@{actor.domain}",
        server=actor.domain,
        url=actor.url or actor.uri,
        description_html=sanitize_html(actor.summary or ""),
        private=(actor.document or {}).get("manuallyApprovesFollowers") is True,
        state=state,
    )
