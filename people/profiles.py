"""A member's profile (skills, soft skills, interests, headline, location, links, discoverability) and what
a group says it needs.

Every function validates all of its input before it changes anything and raises ``InvalidFields`` (one
message per field, fit for a form and for the JSON API's 400) or another typed error; the caller owns
the transaction. Publishing the change to other servers (``Update{Person}``) is the outbox's job:
``inbox_outbox.services.profiles`` wraps these functions for the web UI and the API.

Locations: the member may give a place name, coordinates, or both, and chooses the precision others
see (``exact``, ``city``, ``hidden``; people.geo). The entered values are kept for their own form only.
A first place saved without a precision is shown at ``city`` precision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from actors import local
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.local import MODERATOR_ROLES
from actors.memberships import role_of
from actors.node_settings import InvalidFields
from actors.urls import Urls
from people import gazetteer, geo, index, tags
from storage.models import LocalActor, Profile

MAX_LINKS = index.MAX_LINKS
MAX_LINK_LABEL = 60
MAX_URL = 2048
_UNSET: Any = object()  # "not sent" (None is sent and means: clear)


@dataclass(frozen=True)
class ProfileChange:
    """What a member sends. ``None`` leaves a field as it is.

    - tag lists: a list of strings, or one string separated by commas, semicolons or new lines;
    - ``latitude``/``longitude``: numbers or numeric strings, always both; both empty (or null) clears them;
    - ``links``: ``[{"label": ..., "url": ...}]`` or lines of ``url`` / ``label url`` / ``label | url``.
    """

    headline: str | None = None
    skills: str | list[str] | None = None
    soft_skills: str | list[str] | None = None
    interests: str | list[str] | None = None
    location_name: str | None = None
    latitude: object = _UNSET
    longitude: object = _UNSET
    location_precision: str | None = None
    links: str | list[Any] | None = None
    discoverable: bool | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileChange:
        """The JSON API's body: the same names; unknown names are refused, so typos do not pass silently."""
        known = {name for name in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(f"unknown profile field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for name in ("headline", "location_name", "location_precision"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise InvalidFields({name: "must be a string"})
        if data.get("discoverable") is not None and not isinstance(data["discoverable"], bool):
            raise InvalidFields({"discoverable": "must be true or false"})
        for name in ("skills", "soft_skills", "interests"):
            value = data.get(name)
            if value is not None and not (
                isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            ):
                raise InvalidFields({name: "must be a list of strings"})
        return cls(**dict(data))


@dataclass(frozen=True)
class ProfileView:
    """A profile as its owner sees it on their settings page (entered coordinates included)."""

    headline: str = ""
    skills: list[str] = field(default_factory=list)
    soft_skills: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    location_precision: str = "hidden"
    links: list[dict[str, str]] = field(default_factory=list)
    discoverable: bool = True

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def view_of(profile: Profile | None, actor: LocalActor) -> ProfileView:
    if profile is None:
        return ProfileView(discoverable=actor.discoverable)
    return ProfileView(
        headline=profile.headline,
        skills=list(profile.skills or []),
        soft_skills=list(profile.soft_skills or []),
        interests=list(profile.interests or []),
        location_name=profile.location_name,
        latitude=profile.latitude,
        longitude=profile.longitude,
        location_precision=profile.location_precision,
        links=[dict(link) for link in profile.links or []],
        discoverable=actor.discoverable,
    )


async def _person(session: AsyncSession, actor_id: int) -> LocalActor:
    actor = await session.get(LocalActor, actor_id)
    if actor is None or actor.actor_type != "person" or actor.account is None:
        raise NotFound("no such account")
    return actor


async def own_profile(session: AsyncSession, urls: Urls, actor_id: int) -> ProfileView:
    actor = await _person(session, actor_id)
    return view_of(actor.profile, actor)


# --------------------------------------------------------------------------------------------------
# Validation


def _one_line(value: str, limit: int, what: str, errors: dict[str, str], name: str) -> str:
    text = " ".join(value.split())
    if len(text) > limit:
        errors[name] = f"{what} is too long: at most {limit} characters (this one has {len(text)})"
    return text


def _link(label: str, url: str) -> dict[str, str]:
    label, url = " ".join(label.split()), url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in url):
        raise InvalidInput(f"{url[:80]!r} is not a web address: links start with https:// or http://")
    if len(url) > MAX_URL:
        raise InvalidInput(f"a link is too long: at most {MAX_URL} characters")
    label = label or (parts.hostname or "").removeprefix("www.")
    if len(label) > MAX_LINK_LABEL:
        raise InvalidInput(f"the label {label[:MAX_LINK_LABEL]!r}… is too long: at most {MAX_LINK_LABEL} characters")
    return {"label": label, "url": url}


def _links(value: str | list[Any]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    items: Iterable[Any] = value.splitlines() if isinstance(value, str) else value
    for item in items:
        if isinstance(item, Mapping):
            label, url = item.get("label", ""), item.get("url", "")
            if not isinstance(label, str) or not isinstance(url, str):
                raise InvalidInput("each link needs a text label and url")
        elif isinstance(item, str):
            line = item.strip()
            if not line:
                continue
            if "|" in line:
                label, _, url = line.rpartition("|")
            else:
                label, _, url = line.rpartition(" ")
        else:
            raise InvalidInput("each link is a {label, url} object or a line of text")
        found.append(_link(label, url))
        if len(found) > MAX_LINKS:
            raise InvalidInput(f"too many links: at most {MAX_LINKS}")
    return found


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------------------------------
# Changing a profile


async def update_profile(session: AsyncSession, urls: Urls, actor_id: int, change: ProfileChange) -> Profile:
    """Apply ``change`` to the person's profile: all fields checked first, then all applied."""
    actor = await _person(session, actor_id)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if change.headline is not None:
        values["headline"] = _one_line(change.headline, index.MAX_HEADLINE, "the headline", errors, "headline")
    for name, what in (("skills", "skills"), ("soft_skills", "soft skills"), ("interests", "interests")):
        raw = getattr(change, name)
        if raw is not None:
            try:
                values[name] = tags.parse_list(raw, what=what)
            except InvalidInput as exc:
                errors[name] = exc.message
    if change.location_name is not None:
        values["location_name"] = _one_line(
            change.location_name, index.MAX_LOCATION_NAME, "the place name", errors, "location_name"
        )
    if change.latitude is not _UNSET or change.longitude is not _UNSET:
        if change.latitude is _UNSET or change.longitude is _UNSET:
            errors["latitude"] = "give both latitude and longitude, or neither"
        elif _is_blank(change.latitude) and _is_blank(change.longitude):
            values["latitude"] = values["longitude"] = None
        elif _is_blank(change.latitude) or _is_blank(change.longitude):
            errors["latitude"] = "give both latitude and longitude, or neither"
        else:
            try:
                values["latitude"], values["longitude"] = geo.coordinates(change.latitude, change.longitude)
            except InvalidInput as exc:
                errors["latitude" if "latitude" in exc.message else "longitude"] = exc.message
    if "location_name" in values and change.latitude is _UNSET and change.longitude is _UNSET and not errors:
        await _place_from_name(session, urls, actor, values, errors)
    if change.location_precision is not None:
        try:
            values["location_precision"] = geo.check_precision(change.location_precision)
        except InvalidInput as exc:
            errors["location_precision"] = exc.message
    if change.links is not None:
        try:
            values["links"] = _links(change.links)
        except InvalidInput as exc:
            errors["links"] = exc.message
    if errors:
        raise InvalidFields(errors)
    profile = await index.local_profile(session, urls, actor)
    first_place = profile.latitude is None and not profile.location_name and (
        values.get("latitude") is not None or values.get("location_name")
    )
    if first_place and "location_precision" not in values and profile.location_precision == "hidden":
        values["location_precision"] = "city"  # a first place without a choice: the coarse default
    for name, value in values.items():
        setattr(profile, name, value)
    if change.discoverable is not None:
        actor.discoverable = change.discoverable
    await index.refresh_local(session, urls, actor)
    return profile


async def _place_from_name(
    session: AsyncSession, urls: Urls, actor: LocalActor, values: dict[str, Any], errors: dict[str, str]
) -> None:
    """A place typed by name, without coordinates (the profile form): found in the offline gazetteer
    (people.gazetteer). An unchanged name keeps its coordinates; an empty one clears them."""
    name = values["location_name"]
    if not name:
        values["latitude"] = values["longitude"] = None
        return
    profile = await index.local_profile(session, urls, actor)
    if profile.latitude is not None and (profile.location_name or "").casefold() == name.casefold():
        return
    place = await gazetteer.locate(name)
    if place is None:
        errors["location_name"] = (f"we could not find a town or city called “{name}”: try the nearest town or "
                                   "city, or add the country, as in “Paris, France”")
        return
    values["latitude"], values["longitude"] = place.latitude, place.longitude


# --------------------------------------------------------------------------------------------------
# What groups need


async def set_skills_wanted(
    session: AsyncSession, urls: Urls, group_name: str, skills: str | list[str], *, by: str | None = None
) -> LocalActor:
    """Set the skills a local group is looking for. ``by``: a local person holding a moderator role
    there (owner, admin, moderator); None: the node operator. Returns the group."""
    group = await local.find_group(session, group_name)
    if by is not None:
        person = await local.find_person(session, by)
        if await role_of(session, urls, group, urls.person(person.username)) not in MODERATOR_ROLES:
            raise Forbidden(f"{person.username} is not a moderator of {group.username}")
    try:
        wanted = tags.parse_list(skills, what="skills wanted")
    except InvalidInput as exc:
        raise InvalidFields({"skills_wanted": exc.message}) from None
    profile = await index.local_profile(session, urls, group)
    profile.skills_wanted = wanted
    await index.refresh_local(session, urls, group)
    return group


def skills_wanted(group: LocalActor) -> list[str]:
    profile = group.profile
    return list(profile.skills_wanted or []) if profile is not None else []
