"""A local person's or group's profile as it is published: on the actor document (AS2) and on its page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import inspect

from actors.urls import Urls
from federation.profile_fields import Link, Place, ProfileFields, render_profile
from people import geo
from storage.models import LocalActor, Profile


def tag_url(urls: Urls, label: str) -> str:
    """Where a tag points: the people finder for that tag (``/tags/<label>`` redirects there)."""
    return f"{urls.base}/tags/{quote(label, safe='')}"


def published_place(profile: Profile) -> Place | None:
    """The location others may see: rounded to the member's precision; None when hidden or empty."""
    if profile.location_precision == "hidden":
        return None
    point = geo.published(profile.latitude, profile.longitude, profile.location_precision)
    if point is None and not profile.location_name:
        return None
    return Place(
        name=profile.location_name,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        radius_km=geo.CITY_RADIUS_KM if point and profile.location_precision == "city" else None,
    )


def profile_fields(profile: Profile) -> ProfileFields:
    place = published_place(profile)
    return ProfileFields(
        headline=profile.headline,
        skills=tuple(profile.skills or ()),
        soft_skills=tuple(profile.soft_skills or ()),
        interests=tuple(profile.interests or ()),
        skills_wanted=tuple(profile.skills_wanted or ()) if profile.kind == "group" else (),
        links=tuple(Link(link["label"], link["url"]) for link in profile.links or []),
        place=place,
        precision=profile.location_precision if place is not None else None,
    )


def actor_properties(actor: LocalActor, urls: Urls) -> dict[str, Any]:
    """What to set on the actor document (people.profile_fields renders it); empty without a profile."""
    if actor.actor_type not in ("person", "group") or "profile" in inspect(actor).unloaded:
        return {}  # (unloaded: an actor created in this transaction, which has no profile yet)
    profile = actor.profile
    if profile is None:
        return {}
    return render_profile(profile_fields(profile), tag_url=lambda label: tag_url(urls, label))


@dataclass(frozen=True)
class ProfilePage:
    """What a profile page shows (never coordinates: a place name and how precise it is)."""

    headline: str = ""
    skills: list[str] = field(default_factory=list)
    soft_skills: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    skills_wanted: list[str] = field(default_factory=list)
    location: str = ""
    approximate: bool = False
    links: list[dict[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.headline or self.skills or self.soft_skills or self.interests or self.skills_wanted
                    or self.location or self.links)


def profile_page(profile: Profile | None) -> ProfilePage:
    if profile is None:
        return ProfilePage()
    place = published_place(profile)
    location = ""
    if place is not None:
        location = place.name or f"{place.latitude:.4g}, {place.longitude:.4g}"
    return ProfilePage(
        headline=profile.headline,
        skills=list(profile.skills or []),
        soft_skills=list(profile.soft_skills or []),
        interests=list(profile.interests or []),
        skills_wanted=list(profile.skills_wanted or []) if profile.kind == "group" else [],
        location=location,
        approximate=place is not None and profile.location_precision == "city",
        links=[dict(link) for link in profile.links or []],
    )
