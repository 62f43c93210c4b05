"""Reading one property of a remote AS2 object into a plain, validated value.

Peers write the same property in many shapes: a string or a list, an id or an embedded object with an
id, a Link or a URL (PROTOCOL.md "Validation"). Each reader here accepts those shapes, bounds sizes, makes
names plain text, and returns ``None``/empty when nothing usable is there; :mod:`federation.objects`
combines them into a whole post. The typed values (mentions, hashtags, attachments, poll options) are
defined here with their readers.

Pure protocol code (DESIGN.md layering): plain dicts in, typed data out, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from federation.context import PUBLIC
from federation.html import plain_text
from federation.remote_actor import ACTOR_TYPES

PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

MAX_NAME = 500  # the Object.name column
MAX_TAGS = 100
MAX_ATTACHMENTS = 20
MAX_OPTIONS = 50


@dataclass(frozen=True)
class Mention:
    """A ``Mention`` tag: the actor it names and the handle as written."""

    href: str
    name: str


@dataclass(frozen=True)
class Hashtag:
    """A ``Hashtag`` tag and, when the peer gave one, the page that lists it."""

    name: str  # with the leading '#'
    href: str | None


@dataclass(frozen=True)
class Attachment:
    """An attached file or link (Document, Image, Link, ...)."""

    url: str
    media_type: str | None
    name: str


@dataclass(frozen=True)
class PollOption:
    """One answer of a ``Question`` and the votes the peer counted for it."""

    name: str
    votes: int


def is_http_url(value: object) -> bool:
    """An absolute http(s) URL of sane length: what every id and link we keep must be."""
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def as_list(value: Any) -> list[Any]:
    """AS2 allows one value or a list for most properties; always a list (absent: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The http(s) id of a plain id or of an embedded object; None otherwise."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if is_http_url(value) else None


def id_list(value: Any) -> tuple[str, ...]:
    """``to``/``cc``: a string or a list of strings or objects with ids. Public stays by any alias."""
    found: list[str] = []
    for item in as_list(value):
        if isinstance(item, str) and item in PUBLIC_ALIASES:
            found.append(PUBLIC)
            continue
        item_id = id_of(item)
        if item_id is not None:
            found.append(item_id)
    return tuple(dict.fromkeys(found))


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 as peers write it (``Z`` or an offset, with or without microseconds); naive means UTC."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def html_field(doc: dict[str, Any], key: str) -> str:
    """``content``, falling back to the first value of ``contentMap`` (Mastodon sends both)."""
    value = doc.get(key)
    if not isinstance(value, str):
        language_map = doc.get(f"{key}Map")
        if isinstance(language_map, dict):
            value = next((v for v in language_map.values() if isinstance(v, str)), "")
    return _text(value)


def link_url(value: Any) -> str | None:
    """``url`` is a string, a Link, or a list of them (Mastodon: text/html first)."""
    for item in as_list(value):
        if isinstance(item, str) and is_http_url(item):
            return item
        if isinstance(item, dict):
            href = item.get("href") or item.get("url")
            media_type = item.get("mediaType")
            if is_http_url(href) and media_type in (None, "text/html"):
                return str(href)
    return None


def reply_target(value: Any) -> str | None:
    """The direct parent a reply names in ``inReplyTo``."""
    # Old Lemmy: [post, parent comment]; the last one is the direct parent.
    ids = [item_id for item in as_list(value) if (item_id := id_of(item)) is not None]
    return ids[-1] if ids else None


def context_id(doc: dict[str, Any]) -> str | None:
    """The thread: ``context`` (Lemmy, FEP-7888) or ``conversation`` (Mastodon's ``tag:`` URI)."""
    for key in ("context", "conversation"):
        value = doc.get(key)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str) and value and len(value) <= 2048:
            return value
    return None


def author_and_groups(value: Any) -> tuple[str | None, tuple[str, ...]]:
    """The author among ``attributedTo`` (a string or a list, Lemmy/PeerTube) and any groups it names."""
    people: list[str] = []
    untyped: list[str] = []
    groups: list[str] = []
    for item in as_list(value):
        item_id = id_of(item)
        if item_id is None:
            continue
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "Group":
            groups.append(item_id)
        elif kind in ACTOR_TYPES:
            people.append(item_id)
        else:
            untyped.append(item_id)
    candidates = people + untyped
    return (candidates[0] if candidates else None), tuple(groups)


def parse_tags(value: Any) -> tuple[tuple[Mention, ...], tuple[Hashtag, ...]]:
    """Mentions and hashtags from ``tag``; other tag types (Mastodon's Emoji) are dropped."""
    mentions: list[Mention] = []
    hashtags: list[Hashtag] = []
    for item in as_list(value)[:MAX_TAGS]:
        if not isinstance(item, dict):
            continue
        kind, href, name = item.get("type"), item.get("href"), plain_text(_text(item.get("name")))[:200]
        if kind == "Mention" and is_http_url(href):
            mentions.append(Mention(href=str(href), name=name))
        elif kind == "Hashtag" and name:
            hashtags.append(Hashtag(name=name if name.startswith("#") else f"#{name}",
                                    href=str(href) if is_http_url(href) else None))
    return tuple(mentions), tuple(hashtags)


def parse_attachments(value: Any) -> tuple[Attachment, ...]:
    """Attachments with an http(s) URL (a Link keeps it in ``href``, other types in ``url``)."""
    found: list[Attachment] = []
    for item in as_list(value)[:MAX_ATTACHMENTS]:
        if not isinstance(item, dict):
            continue
        url = item.get("href") if item.get("type") == "Link" else item.get("url")
        if isinstance(url, list | dict):
            url = link_url(url)
        if not is_http_url(url):
            continue
        media_type = item.get("mediaType")
        found.append(
            Attachment(
                url=str(url),
                media_type=media_type if isinstance(media_type, str) and len(media_type) < 128 else None,
                name=plain_text(_text(item.get("name")))[:MAX_NAME],
            )
        )
    return tuple(found)


def parse_poll(doc: dict[str, Any]) -> tuple[tuple[PollOption, ...], bool]:
    """A Question's options, and whether several may be chosen (``anyOf``) rather than one (``oneOf``)."""
    multiple = "anyOf" in doc and "oneOf" not in doc
    options: list[PollOption] = []
    for item in as_list(doc.get("anyOf" if multiple else "oneOf"))[:MAX_OPTIONS]:
        if not isinstance(item, dict):
            continue
        name = plain_text(_text(item.get("name")))[:MAX_NAME]
        replies = item.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else 0
        votes = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else 0
        if name:
            options.append(PollOption(name=name, votes=votes))
    return tuple(options), multiple


def location_name(value: Any) -> str:
    """An Event's place as plain text: a Place's name or a bare string."""
    for item in as_list(value):
        if isinstance(item, dict):
            return plain_text(_text(item.get("name")))[:MAX_NAME]
        if isinstance(item, str):
            return plain_text(item)[:MAX_NAME]
    return ""
