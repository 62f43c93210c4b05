"""Profile fields on actor documents: render ours and parse anyone's (pure: plain data in, plain data out).

What a profile says is published twice, so that every peer shows something:

- in our own terms (``skills``, ``softSkills``, ``interests``, ``skillsWanted``, ``headline``,
  ``locationPrecision``; federation.context.MADEOPEN_TERMS), which other Made Open nodes read back exactly;
- in forms other servers show: ``Hashtag`` entries in ``tag`` (Misskey and Pleroma list them; Mastodon
  uses the same shape for the hashtags of a bio), ``PropertyValue`` entries in ``attachment`` (Mastodon's
  profile fields: "Headline", "Skills", "Soft skills", "Interests", "Skills wanted", "Location", and one
  per link, its value an ``<a>`` as Mastodon writes them), and ``location`` as an AS2 ``Place``.

Parsing accepts our terms when the document's ``@context`` names our namespace; otherwise (and for what
our terms do not carry, such as links) it reads PropertyValue fields by their names in a few languages,
bio hashtags as interests, an AS2 ``Place`` or a Misskey ``vcard:Address`` as the location. Values are
returned as plain text, unnormalised (``people.tags`` normalises and caps them); nothing here fails on
odd input: what cannot be read is left out.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from federation.context import MADEOPEN_NS
from federation.html import plain_text

PRECISIONS = ("exact", "city", "hidden")
MAX_ITEMS = 60  # per list read from a remote document (people.tags keeps fewer)
MAX_ITEM_CHARS = 100
MAX_FIELDS = 30
MAX_VALUE_CHARS = 2_000
MAX_NAME_CHARS = 200
MAX_LINK_LABEL = 60
MAX_URL = 2048

LIST_FIELDS = {
    "skills": "Skills",
    "soft_skills": "Soft skills",
    "interests": "Interests",
    "skills_wanted": "Skills wanted",
}
_OUR_TERMS = {"skills": "skills", "soft_skills": "softSkills", "interests": "interests",
              "skills_wanted": "skillsWanted"}

# PropertyValue names (case-folded, trimmed of emoji and punctuation) -> what they hold.
_FIELD_NAMES: dict[str, str] = {}
for _kind, _names in {
    "skills": ("skills", "skill", "expertise", "competences", "compétences", "fähigkeiten", "kenntnisse",
               "habilidades", "competenze", "vaardigheden", "tech stack", "stack", "i can help with"),
    "soft_skills": ("soft skills", "soft skill", "softskills", "soft-skills"),
    "interests": ("interests", "interest", "hobbies", "topics", "interessen", "intérêts", "interesses",
                  "intereses", "interessi", "i care about", "into"),
    "skills_wanted": ("skills wanted", "looking for", "we need", "needs", "help wanted"),
    "headline": ("headline", "role", "job", "occupation", "profession", "position", "beruf", "métier"),
    "location": ("location", "based in", "where", "city", "place", "lives in", "ort", "wohnort", "standort",
                 "lieu", "ville", "ubicación", "localização", "posizione", "locatie"),
}.items():
    for _name in _names:
        _FIELD_NAMES[_name] = _kind

_EDGE_NOISE = re.compile(r"^[\W_]+|[\W_]+$")
_BREAKS = re.compile(r"<br\s*/?>|</p>|</li>|</div>", re.IGNORECASE)
_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:[,;|·•]|\s/\s)\s*")


@dataclass(frozen=True)
class Place:
    name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None  # how far off the coordinates may be (city precision)


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class ProfileFields:
    headline: str = ""
    skills: tuple[str, ...] = ()
    soft_skills: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()
    skills_wanted: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    place: Place | None = None
    precision: str | None = None  # ours only: exact | city (hidden publishes no place at all)


# --------------------------------------------------------------------------------------------------
# Rendering


def hashtag_name(label: str) -> str:
    """``#Label`` as Mastodon-family servers write hashtags: no spaces, words joined in CamelCase."""
    words = [w for w in re.split(r"[\s_]+", label.strip().lstrip("#")) if w]
    if len(words) == 1:
        return f"#{words[0]}"
    return "#" + "".join(word[:1].upper() + word[1:] for word in words)


def _link_html(url: str) -> str:
    shown = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return (
        f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="nofollow noopener noreferrer me" '
        f'translate="no">{html.escape(shown)}</a>'
    )


def render_profile(fields: ProfileFields, *, tag_url: Callable[[str], str]) -> dict[str, Any]:
    """The properties to set on an actor document: our terms, ``attachment``, ``tag`` and ``location``.

    ``fields.place`` must already be rounded to the member's precision (and None when it is hidden).
    """
    out: dict[str, Any] = {}
    attachment: list[dict[str, Any]] = []
    if fields.headline:
        out["headline"] = fields.headline
        attachment.append(_property("Headline", html.escape(fields.headline)))
    tags: dict[str, dict[str, Any]] = {}
    for kind, title in LIST_FIELDS.items():
        values: tuple[str, ...] = getattr(fields, kind)
        if not values:
            continue
        out[_OUR_TERMS[kind]] = list(values)
        attachment.append(_property(title, html.escape(", ".join(values))))
        for label in values:
            name = hashtag_name(label)
            tags.setdefault(name.casefold(), {"type": "Hashtag", "name": name, "href": tag_url(label)})
    place = fields.place
    if place is not None:
        if place.name:
            attachment.append(_property("Location", html.escape(place.name)))
        location: dict[str, Any] = {"type": "Place"}
        if place.name:
            location["name"] = place.name
        if place.latitude is not None and place.longitude is not None:
            location["latitude"] = place.latitude
            location["longitude"] = place.longitude
            if place.radius_km:
                location["radius"] = place.radius_km
                location["units"] = "km"
        out["location"] = location
        if fields.precision:
            out["locationPrecision"] = fields.precision
    for link in fields.links:
        attachment.append(_property(link.label, _link_html(link.url)))
    out["attachment"] = attachment
    out["tag"] = list(tags.values())
    return out


def _property(name: str, value: str) -> dict[str, Any]:
    return {"type": "PropertyValue", "name": name, "value": value}


# --------------------------------------------------------------------------------------------------
# Parsing


def _names_our_namespace(context: Any, depth: int = 0) -> bool:
    if depth > 4:
        return False
    if isinstance(context, str):
        return context == MADEOPEN_NS
    if isinstance(context, list):
        return any(_names_our_namespace(item, depth + 1) for item in context[:20])
    if isinstance(context, dict):
        return any(_names_our_namespace(value, depth + 1) for value in list(context.values())[:100])
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _types(entry: dict[str, Any]) -> set[str]:
    return {t for t in _as_list(entry.get("type")) if isinstance(t, str)}


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return plain_text(value[: limit * 4])[:limit]


def _strings(value: Any) -> list[str]:
    """A list of short plain strings (our terms): anything else in it is skipped."""
    found = []
    for item in _as_list(value)[:MAX_ITEMS]:
        text = _text(item, MAX_ITEM_CHARS)
        if text:
            found.append(text)
    return found


def split_values(value_html: str) -> list[str]:
    """A field value as a list: "Python, Rust", "gardening; cooking", "#python #rust", lines or items."""
    text = plain_text(_BREAKS.sub(", ", value_html[:MAX_VALUE_CHARS])).strip(" ,;")
    if not text:
        return []
    words = [word for word in re.split(r"[\s,;]+", text) if word]
    if len(words) > 1 and all(word.startswith("#") for word in words):
        parts = words
    else:
        parts = _SEPARATORS.split(text)
    items = [part.strip().lstrip("#").strip() for part in parts]
    return [item[:MAX_ITEM_CHARS] for item in items if item][:MAX_ITEMS]


def field_kind(name: str) -> str | None:
    """What a PropertyValue named ``name`` holds, if we know the name ("🛠 Skills:" -> skills)."""
    return _FIELD_NAMES.get(_EDGE_NOISE.sub("", plain_text(name)).casefold())


def _http_url(value: str) -> str | None:
    value = html.unescape(value.strip())
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc and len(value) <= MAX_URL:
        return value
    return None


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        return None
    return number


def parse_place(value: Any) -> Place | None:
    """An AS2 ``Place`` (the first, when several): a name and/or valid coordinates, or None."""
    for entry in _as_list(value)[:5]:
        if isinstance(entry, str):
            name = _text(entry, MAX_NAME_CHARS)
            return Place(name=name) if name else None
        if not isinstance(entry, dict):
            continue
        types = _types(entry)
        if types and "Place" not in types:
            continue
        name = _text(entry.get("name"), MAX_NAME_CHARS)
        latitude = _coordinate(entry.get("latitude"), 90.0)
        longitude = _coordinate(entry.get("longitude"), 180.0)
        if latitude is None or longitude is None:
            latitude = longitude = None
        radius = _coordinate(entry.get("radius"), 40_000_000.0)
        units = entry.get("units")
        if radius is not None:  # AS2: "m" is the default unit
            radius = radius if units == "km" else radius / 1000 if units in (None, "m") else None
        if name or latitude is not None:
            return Place(name=name, latitude=latitude, longitude=longitude, radius_km=radius)
    return None


def parse_profile(doc: dict[str, Any]) -> ProfileFields:
    ours = _names_our_namespace(doc.get("@context"))
    lists: dict[str, list[str]] = {kind: [] for kind in LIST_FIELDS}
    headline = ""
    location_name = ""
    links: list[Link] = []
    for entry in _as_list(doc.get("attachment"))[:MAX_FIELDS]:
        if not isinstance(entry, dict) or "PropertyValue" not in _types(entry):
            continue
        name, value = entry.get("name"), entry.get("value")
        if not isinstance(name, str) or not isinstance(value, str):
            continue
        kind = field_kind(name)
        if kind in LIST_FIELDS:
            lists[kind].extend(split_values(value))
        elif kind == "headline":
            headline = headline or _text(value, MAX_NAME_CHARS)
        elif kind == "location":
            location_name = location_name or _text(value, MAX_NAME_CHARS)
        else:
            href = _HREF.search(value[:MAX_VALUE_CHARS])
            url = _http_url(href.group(1)) if href else _http_url(plain_text(value[:MAX_URL]))
            label = _text(name, MAX_LINK_LABEL)
            if url and label:
                links.append(Link(label=label, url=url))
    if ours:
        for kind, term in _OUR_TERMS.items():
            lists[kind] = _strings(doc.get(term))
        headline = _text(doc.get("headline"), MAX_NAME_CHARS) or headline
    else:
        for entry in _as_list(doc.get("tag"))[:MAX_ITEMS * 2]:
            if isinstance(entry, dict) and "Hashtag" in _types(entry):
                tag = _text(entry.get("name"), MAX_ITEM_CHARS).lstrip("#").strip()
                if tag:
                    lists["interests"].append(tag)
    place = parse_place(doc.get("location"))
    address = doc.get("vcard:Address")  # Misskey's location field
    name = location_name or (_text(address, MAX_NAME_CHARS) if isinstance(address, str) else "")
    if place is None:
        place = Place(name=name) if name else None
    elif not place.name and name:
        place = Place(name, place.latitude, place.longitude, place.radius_km)
    precision = doc.get("locationPrecision") if ours else None
    return ProfileFields(
        headline=headline,
        skills=tuple(lists["skills"][:MAX_ITEMS]),
        soft_skills=tuple(lists["soft_skills"][:MAX_ITEMS]),
        interests=tuple(lists["interests"][:MAX_ITEMS]),
        skills_wanted=tuple(lists["skills_wanted"][:MAX_ITEMS]),
        links=tuple(links[:MAX_FIELDS]),
        place=place,
        precision=precision if precision in PRECISIONS else None,
    )
