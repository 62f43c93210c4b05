"""Post-like objects (Note, Page, Article, Question, Event): parse remote ones, render ours.

Pure protocol code (DESIGN.md layering): plain dicts in, typed data out, no database.

Parsing accepts what the peers of PROTOCOL.md send and keeps only validated, sanitised values:

- Lemmy / PieFed threads are ``Page`` with ``name`` (the title), ``audience`` (FEP-1b12) and the group
  in ``to``; comments are ``Note`` with ``inReplyTo``. Old Lemmy sent ``inReplyTo`` as a list
  ``[post, parent comment]`` and ``attributedTo`` as a list; PeerTube lists ``[Person, Group]``.
- Mastodon posts into a group by mentioning it: a ``Mention`` tag whose ``href`` is the group id, the
  group in ``cc``; threads carry ``conversation`` (a ``tag:`` URI) instead of ``context``.
- ``Question`` (polls: ``oneOf``/``anyOf``), ``Event`` (``startTime``, ``location``) and ``Article``
  (``name`` + ``content``) keep their extra fields in the stored document.

All HTML (content, summary) goes through the allowlist sanitiser; names become plain text
(PROTOCOL.md "Validation"). The document we store for a remote object is rebuilt from the parsed values
(:func:`stored_document`), so nothing unvalidated is ever served or rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from federation.activities import iso
from federation.context import AS2, PUBLIC
from federation.html import plain_text, sanitize_html
from federation.remote_actor import origin

POST_TYPES = frozenset({"Note", "Page", "Article", "Question", "Event"})
ACTOR_TYPES = frozenset({"Person", "Group", "Application", "Service", "Organization"})
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

MAX_NAME = 500  # the Object.name column
MAX_CONTENT = 200_000  # characters of HTML kept before sanitising (inbox bodies are <= 256 KiB anyway)
MAX_SUMMARY = 10_000
MAX_TAGS = 100
MAX_ATTACHMENTS = 20
MAX_OPTIONS = 50

# Terms of our object documents beyond AS2 (Mastodon's `sensitive`, Lemmy's `commentsEnabled`).
OBJECT_CONTEXT: list[object] = [
    AS2,
    {
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "lemmy": "https://join-lemmy.org/ns#",
        "commentsEnabled": "lemmy:commentsEnabled",
    },
]


class InvalidObject(ValueError):
    """The document is not a post we can use; the message says why."""


# --------------------------------------------------------------------------------------------------
# Typed values


@dataclass(frozen=True)
class Mention:
    href: str
    name: str


@dataclass(frozen=True)
class Hashtag:
    name: str  # with the leading '#'
    href: str | None


@dataclass(frozen=True)
class Attachment:
    url: str
    media_type: str | None
    name: str


@dataclass(frozen=True)
class PollOption:
    name: str
    votes: int


@dataclass(frozen=True)
class ObjectData:
    """A remote post, validated and sanitised. Only these values are ever stored or shown."""

    id: str
    type: str
    author: str  # the one actor the post is attributed to
    content: str = ""  # sanitised HTML
    name: str = ""  # plain text (a thread title)
    summary: str = ""  # sanitised HTML (a content warning on Mastodon)
    in_reply_to: str | None = None
    audience: str | None = None  # FEP-1b12: the group the post belongs to
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    hashtags: tuple[Hashtag, ...] = ()
    context: str | None = None  # `context` (Lemmy, FEP-7888) or `conversation` (Mastodon)
    published: datetime | None = None
    updated: datetime | None = None
    url: str | None = None
    sensitive: bool = False
    comments_enabled: bool | None = None  # Lemmy: false on a locked thread
    attachments: tuple[Attachment, ...] = ()
    # Question
    options: tuple[PollOption, ...] = ()
    multiple_choice: bool = False
    # Question (closing time) and Event
    end_time: datetime | None = None
    start_time: datetime | None = None
    location: str = ""
    # Groups named by attributedTo (PeerTube channels): a hint when there is no `audience`.
    attributed_groups: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return bool(PUBLIC_ALIASES & set(self.to + self.cc))

    @property
    def addressed(self) -> tuple[str, ...]:
        """Every id the post names as a recipient or its group, audience first (FEP-1b12)."""
        ids = ([self.audience] if self.audience else []) + list(self.to) + list(self.cc)
        ids += [m.href for m in self.mentions] + list(self.attributed_groups)
        return tuple(dict.fromkeys(ids))


# --------------------------------------------------------------------------------------------------
# Small value parsers


def is_http_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if is_http_url(value) else None


def id_list(value: Any) -> tuple[str, ...]:
    """``to``/``cc``: a string or a list of strings or objects with ids. Public stays by any alias."""
    found: list[str] = []
    for item in _as_list(value):
        if isinstance(item, str) and item in PUBLIC_ALIASES:
            found.append(PUBLIC)
            continue
        item_id = _id_of(item)
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


def _html_field(doc: dict[str, Any], key: str) -> str:
    """``content``, falling back to the first value of ``contentMap`` (Mastodon sends both)."""
    value = doc.get(key)
    if not isinstance(value, str):
        language_map = doc.get(f"{key}Map")
        if isinstance(language_map, dict):
            value = next((v for v in language_map.values() if isinstance(v, str)), "")
    return _text(value)


def _url(value: Any) -> str | None:
    """``url`` is a string, a Link, or a list of them (Mastodon: text/html first)."""
    for item in _as_list(value):
        if isinstance(item, str) and is_http_url(item):
            return item
        if isinstance(item, dict):
            href = item.get("href") or item.get("url")
            media_type = item.get("mediaType")
            if is_http_url(href) and media_type in (None, "text/html"):
                return str(href)
    return None


def _in_reply_to(value: Any) -> str | None:
    # Old Lemmy: [post, parent comment]; the last one is the direct parent.
    ids = [item_id for item in _as_list(value) if (item_id := _id_of(item)) is not None]
    return ids[-1] if ids else None


def _context(doc: dict[str, Any]) -> str | None:
    for key in ("context", "conversation"):
        value = doc.get(key)
        if isinstance(value, dict):
            value = value.get("id")
        if isinstance(value, str) and value and len(value) <= 2048:
            return value
    return None


def _attributed(value: Any) -> tuple[str | None, tuple[str, ...]]:
    """The author among ``attributedTo`` (a string or a list, Lemmy/PeerTube) and any groups it names."""
    people: list[str] = []
    untyped: list[str] = []
    groups: list[str] = []
    for item in _as_list(value):
        item_id = _id_of(item)
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


def _tags(value: Any) -> tuple[tuple[Mention, ...], tuple[Hashtag, ...]]:
    mentions: list[Mention] = []
    hashtags: list[Hashtag] = []
    for item in _as_list(value)[:MAX_TAGS]:
        if not isinstance(item, dict):
            continue
        kind, href, name = item.get("type"), item.get("href"), plain_text(_text(item.get("name")))[:200]
        if kind == "Mention" and is_http_url(href):
            mentions.append(Mention(href=str(href), name=name))
        elif kind == "Hashtag" and name:
            hashtags.append(Hashtag(name=name if name.startswith("#") else f"#{name}",
                                    href=str(href) if is_http_url(href) else None))
    return tuple(mentions), tuple(hashtags)


def _attachments(value: Any) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for item in _as_list(value)[:MAX_ATTACHMENTS]:
        if not isinstance(item, dict):
            continue
        url = item.get("href") if item.get("type") == "Link" else item.get("url")
        if isinstance(url, list | dict):
            url = _url(url)
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


def _poll(doc: dict[str, Any]) -> tuple[tuple[PollOption, ...], bool]:
    multiple = "anyOf" in doc and "oneOf" not in doc
    options: list[PollOption] = []
    for item in _as_list(doc.get("anyOf" if multiple else "oneOf"))[:MAX_OPTIONS]:
        if not isinstance(item, dict):
            continue
        name = plain_text(_text(item.get("name")))[:MAX_NAME]
        replies = item.get("replies")
        total = replies.get("totalItems") if isinstance(replies, dict) else 0
        votes = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else 0
        if name:
            options.append(PollOption(name=name, votes=votes))
    return tuple(options), multiple


def _location(value: Any) -> str:
    for item in _as_list(value):
        if isinstance(item, dict):
            return plain_text(_text(item.get("name")))[:MAX_NAME]
        if isinstance(item, str):
            return plain_text(item)[:MAX_NAME]
    return ""


# --------------------------------------------------------------------------------------------------
# Parsing


def is_post(doc: object) -> bool:
    return isinstance(doc, dict) and doc.get("type") in POST_TYPES


def parse_object(doc: dict[str, Any]) -> ObjectData:
    """Validate a remote post. Raises InvalidObject with the reason when it is not usable."""
    if not isinstance(doc, dict):
        raise InvalidObject("the object is not a JSON object")
    object_id = doc.get("id")
    if not is_http_url(object_id):
        raise InvalidObject(f"object id must be an http(s) URL, got {object_id!r}")
    kind = doc.get("type")
    if kind not in POST_TYPES:
        raise InvalidObject(f"{object_id} is a {kind!r}, not a post ({', '.join(sorted(POST_TYPES))})")
    author, groups = _attributed(doc.get("attributedTo"))
    if author is None:
        raise InvalidObject(f"{object_id} names no author (attributedTo)")
    # PROTOCOL.md "Validation": an object and its author live on the same server.
    if origin(author) != origin(str(object_id)):
        raise InvalidObject(f"{object_id} claims an author on another host ({author})")
    audience = next((a for item in _as_list(doc.get("audience")) if (a := _id_of(item)) is not None), None)
    mentions, hashtags = _tags(doc.get("tag"))
    options, multiple = _poll(doc) if kind == "Question" else ((), False)
    comments_enabled = doc.get("commentsEnabled")
    end_time = parse_time(doc.get("endTime")) or (parse_time(doc.get("closed")) if kind == "Question" else None)
    return ObjectData(
        id=str(object_id),
        type=str(kind),
        author=author,
        content=sanitize_html(_html_field(doc, "content")[:MAX_CONTENT]),
        name=plain_text(_html_field(doc, "name")[:MAX_CONTENT])[:MAX_NAME],
        summary=sanitize_html(_html_field(doc, "summary")[:MAX_SUMMARY]),
        in_reply_to=_in_reply_to(doc.get("inReplyTo")),
        audience=audience,
        to=id_list(doc.get("to")),
        cc=id_list(doc.get("cc")),
        mentions=mentions,
        hashtags=hashtags,
        context=_context(doc),
        published=parse_time(doc.get("published")),
        updated=parse_time(doc.get("updated")),
        url=_url(doc.get("url")),
        sensitive=doc.get("sensitive") is True,
        comments_enabled=comments_enabled if isinstance(comments_enabled, bool) else None,
        attachments=_attachments(doc.get("attachment")),
        options=options,
        multiple_choice=multiple,
        end_time=end_time,
        start_time=parse_time(doc.get("startTime")) if kind == "Event" else None,
        location=_location(doc.get("location")) if kind == "Event" else "",
        attributed_groups=groups,
    )


VOTE_KINDS = {"Like": "like", "Dislike": "dislike"}


@dataclass(frozen=True)
class Vote:
    """A Like or Dislike (Lemmy up/down-votes, Mastodon favourites)."""

    kind: str  # like | dislike
    actor: str
    object: str
    id: str | None


def parse_vote(doc: Any) -> Vote:
    """``{"type": "Like"|"Dislike", "actor": ..., "object": <id or embedded object>}``."""
    if not isinstance(doc, dict) or doc.get("type") not in VOTE_KINDS:
        raise InvalidObject("a vote is a Like or a Dislike")
    actor, target = _id_of(doc.get("actor")), _id_of(doc.get("object"))
    if actor is None or target is None:
        raise InvalidObject("a vote needs an actor and an object")
    vote_id = doc.get("id")
    return Vote(kind=VOTE_KINDS[doc["type"]], actor=actor, object=target,
                id=vote_id if isinstance(vote_id, str) else None)


def tombstone_id(value: Any) -> str | None:
    """The id a Delete names: a plain id (Lemmy) or an embedded Tombstone/object (Mastodon)."""
    return _id_of(value)


# --------------------------------------------------------------------------------------------------
# Rendering


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _tag_documents(mentions: tuple[Mention, ...], hashtags: tuple[Hashtag, ...]) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = [{"type": "Mention", "href": m.href, "name": m.name} for m in mentions]
    for tag in hashtags:
        entry: dict[str, Any] = {"type": "Hashtag", "name": tag.name}
        if tag.href:
            entry["href"] = tag.href
        tags.append(entry)
    return tags


def stored_document(data: ObjectData) -> dict[str, Any]:
    """The sanitised AS2 copy of a remote post we keep (Object.document), built from parsed values only."""
    doc: dict[str, Any] = {"id": data.id, "type": data.type, "attributedTo": data.author}
    if data.name:
        doc["name"] = data.name
    doc["content"] = data.content
    doc["mediaType"] = "text/html"
    if data.summary:
        doc["summary"] = data.summary
    for key, value in (("inReplyTo", data.in_reply_to), ("audience", data.audience), ("context", data.context),
                       ("url", data.url)):
        if value:
            doc[key] = value
    doc["to"] = list(data.to)
    doc["cc"] = list(data.cc)
    tags = _tag_documents(data.mentions, data.hashtags)
    if tags:
        doc["tag"] = tags
    if data.published:
        doc["published"] = iso(data.published)
    if data.updated:
        doc["updated"] = iso(data.updated)
    if data.sensitive:
        doc["sensitive"] = True
    if data.comments_enabled is not None:
        doc["commentsEnabled"] = data.comments_enabled
    if data.attachments:
        doc["attachment"] = [
            {"type": "Document", "url": a.url, **({"mediaType": a.media_type} if a.media_type else {}),
             **({"name": a.name} if a.name else {})}
            for a in data.attachments
        ]
    if data.type == "Question":
        doc["anyOf" if data.multiple_choice else "oneOf"] = [
            {"type": "Note", "name": o.name, "replies": {"type": "Collection", "totalItems": o.votes}}
            for o in data.options
        ]
    if data.end_time:
        doc["endTime"] = iso(data.end_time)
    if data.start_time:
        doc["startTime"] = iso(data.start_time)
    if data.location:
        doc["location"] = {"type": "Place", "name": data.location}
    return doc


@dataclass(frozen=True)
class LocalPost:
    """What :func:`render_object` needs of one of our posts (the service fills it from the database)."""

    id: str
    type: str
    author: str
    content: str  # sanitised HTML
    published: datetime
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    name: str = ""
    source: str | None = None  # the Markdown it was rendered from
    audience: str | None = None
    in_reply_to: str | None = None
    context: str | None = None
    updated: datetime | None = None
    comments_enabled: bool = True
    mentions: tuple[Mention, ...] = field(default_factory=tuple)
    hashtags: tuple[Hashtag, ...] = field(default_factory=tuple)


def replies_url(object_id: str) -> str:
    return f"{object_id}/replies"


def context_url(root_id: str) -> str:
    return f"{root_id}/context"


def render_object(post: LocalPost) -> dict[str, Any]:
    """One of our posts as AS2, in the shape Lemmy, PieFed and Mastodon all read.

    ``audience`` (FEP-1b12) names the group; ``to`` also names it for peers that look there (Lemmy,
    Friendica). ``source`` keeps the Markdown (Lemmy edits it), ``replies`` links the replies
    collection and ``context`` the thread (FEP-7888 style, as Lemmy serves it).
    """
    doc: dict[str, Any] = {
        "@context": OBJECT_CONTEXT,
        "id": post.id,
        "type": post.type,
        "attributedTo": post.author,
        "to": list(post.to),
        "cc": list(post.cc),
    }
    if post.name:
        doc["name"] = post.name
    doc["content"] = post.content
    doc["mediaType"] = "text/html"
    if post.source is not None:
        doc["source"] = {"content": post.source, "mediaType": "text/markdown"}
    if post.in_reply_to:
        doc["inReplyTo"] = post.in_reply_to
    if post.audience:
        doc["audience"] = post.audience
    if post.context:
        doc["context"] = post.context
    doc["replies"] = replies_url(post.id)
    doc["url"] = post.id
    doc["published"] = iso(_aware(post.published))
    if post.updated is not None:
        doc["updated"] = iso(_aware(post.updated))
    if post.type == "Page":
        doc["commentsEnabled"] = post.comments_enabled
    doc["sensitive"] = False
    doc["tag"] = _tag_documents(post.mentions, post.hashtags)
    return doc


def render_tombstone(object_id: str, former_type: str, deleted: datetime) -> dict[str, Any]:
    """What a deleted post's URL serves from then on (AS2 Tombstone; peers drop their copy)."""
    return {
        "@context": AS2,
        "id": object_id,
        "type": "Tombstone",
        "formerType": former_type,
        "deleted": iso(_aware(deleted)),
    }
