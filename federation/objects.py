"""Remote posts and votes: parse AS2 JSON from peers into validated, typed values.

Post-like objects are Note, Page, Article, Question and Event. Pure protocol code (DESIGN.md layering):
plain dicts in, typed data out, no database.

Parsing accepts what the peers of PROTOCOL.md send and keeps only validated, sanitised values:

- Lemmy / PieFed threads are ``Page`` with ``name`` (the title), ``audience`` (FEP-1b12) and the group
  in ``to``; comments are ``Note`` with ``inReplyTo``. Old Lemmy sent ``inReplyTo`` as a list
  ``[post, parent comment]`` and ``attributedTo`` as a list; PeerTube lists ``[Person, Group]``.
- Mastodon posts into a group by mentioning it: a ``Mention`` tag whose ``href`` is the group id, the
  group in ``cc``; threads carry ``conversation`` (a ``tag:`` URI) instead of ``context``.
- ``Question`` (polls: ``oneOf``/``anyOf``), ``Event`` (``startTime``, ``location``) and ``Article``
  (``name`` + ``content``) keep their extra fields in the stored document.

All HTML (content, summary) goes through the allowlist sanitiser; names become plain text
(PROTOCOL.md "Validation"). Each property is read by :mod:`federation.object_fields`; the document we
store for a remote object is rebuilt from the parsed values (``federation.object_render.stored_document``),
so nothing unvalidated is ever served or rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.board_terms import BoardTerms, InvalidBoardTerm, parse_terms, without_status_paragraph
from federation.html import plain_text, sanitize_html
from federation.object_fields import (
    MAX_NAME,
    PUBLIC_ALIASES,
    Attachment,
    Hashtag,
    Mention,
    PollOption,
    as_list,
    author_and_groups,
    context_id,
    html_field,
    id_list,
    id_of,
    is_http_url,
    link_url,
    location_name,
    parse_attachments,
    parse_poll,
    parse_tags,
    parse_time,
    reply_target,
)
from federation.remote_actor import origin
from federation.thread_title import without_title_line

POST_TYPES = frozenset({"Note", "Page", "Article", "Question", "Event"})

MAX_CONTENT = 200_000  # characters of HTML kept before sanitising (inbox bodies are <= 256 KiB anyway)
MAX_SUMMARY = 10_000


class InvalidObject(ValueError):
    """The document is not a post we can use; the message says why."""


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
    # The board's terms (federation.board_terms): a thread's kind and status, official responses.
    board: BoardTerms = BoardTerms()
    # A group's doc on a Made Open node (federation.doc_article): its revision and Markdown, so our
    # people can propose an edit of it (an Offer of the revised Article).
    doc_revision: int | None = None
    doc_source: str | None = None
    # A comment about one section of such a doc (``docSection``: the heading's anchor), unchecked here.
    doc_section: str | None = None

    @property
    def public(self) -> bool:
        return bool(PUBLIC_ALIASES & set(self.to + self.cc))

    @property
    def written_mentions(self) -> tuple[Mention, ...]:
        """The mentions its text shows (``@name`` in it). A tag alone is a silent mention, Mastodon's term
        for one that gives access but no notification: how a private group's post names its members for
        their servers (inbox_outbox.services.posts)."""
        text = plain_text(self.content).lower()
        shown = []
        for mention in self.mentions:
            local_part = mention.name.lstrip("@").split("@", 1)[0].lower()
            if not local_part or f"@{local_part}" in text:
                shown.append(mention)
        return tuple(shown)

    @property
    def addressed(self) -> tuple[str, ...]:
        """Every id the post names as a recipient or its group, audience first (FEP-1b12)."""
        ids = ([self.audience] if self.audience else []) + list(self.to) + list(self.cc)
        ids += [m.href for m in self.mentions] + list(self.attributed_groups)
        return tuple(dict.fromkeys(ids))


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
    author, groups = author_and_groups(doc.get("attributedTo"))
    if author is None:
        raise InvalidObject(f"{object_id} names no author (attributedTo)")
    # PROTOCOL.md "Validation": an object and its author live on the same server.
    if origin(author) != origin(str(object_id)):
        raise InvalidObject(f"{object_id} claims an author on another host ({author})")
    audience = next((a for item in as_list(doc.get("audience")) if (a := id_of(item)) is not None), None)
    mentions, hashtags = parse_tags(doc.get("tag"))
    options, multiple = parse_poll(doc) if kind == "Question" else ((), False)
    comments_enabled = doc.get("commentsEnabled")
    try:
        board = parse_terms(doc)
    except InvalidBoardTerm as exc:
        raise InvalidObject(f"{object_id}: {exc}") from None
    name = plain_text(html_field(doc, "name")[:MAX_CONTENT])[:MAX_NAME]
    # A Made Open thread repeats its title atop its content for Mastodon-family readers, then (on the
    # board) its status in words: a Made Open reader shows both from name and the terms instead.
    content = without_title_line(name, sanitize_html(html_field(doc, "content")[:MAX_CONTENT]))
    if board.kind is not None:
        content = without_status_paragraph(content)
    end_time = parse_time(doc.get("endTime")) or (parse_time(doc.get("closed")) if kind == "Question" else None)
    revision = doc.get("docRevision")
    doc_revision = revision if kind == "Article" and type(revision) is int and revision > 0 else None
    source = doc.get("source")
    markdown = source.get("content") if isinstance(source, dict) else None
    return ObjectData(
        id=str(object_id),
        type=str(kind),
        author=author,
        content=content,
        name=name,
        summary=sanitize_html(html_field(doc, "summary")[:MAX_SUMMARY]),
        in_reply_to=reply_target(doc.get("inReplyTo")),
        audience=audience,
        to=id_list(doc.get("to")),
        cc=id_list(doc.get("cc")),
        mentions=mentions,
        hashtags=hashtags,
        context=context_id(doc),
        published=parse_time(doc.get("published")),
        updated=parse_time(doc.get("updated")),
        url=link_url(doc.get("url")),
        sensitive=doc.get("sensitive") is True,
        comments_enabled=comments_enabled if isinstance(comments_enabled, bool) else None,
        attachments=parse_attachments(doc.get("attachment")),
        options=options,
        multiple_choice=multiple,
        end_time=end_time,
        start_time=parse_time(doc.get("startTime")) if kind == "Event" else None,
        location=location_name(doc.get("location")) if kind == "Event" else "",
        attributed_groups=groups,
        board=board,
        doc_revision=doc_revision,
        doc_source=markdown[:MAX_CONTENT] if doc_revision is not None and isinstance(markdown, str) else None,
        doc_section=_doc_section(doc.get("docSection")),
    )


MAX_SECTION = 200  # a heading's anchor is a slug of its text (content.docs.text)


def _doc_section(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= MAX_SECTION else None


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
    actor, target = id_of(doc.get("actor")), id_of(doc.get("object"))
    if actor is None or target is None:
        raise InvalidObject("a vote needs an actor and an object")
    vote_id = doc.get("id")
    return Vote(kind=VOTE_KINDS[doc["type"]], actor=actor, object=target,
                id=vote_id if isinstance(vote_id, str) else None)


def tombstone_id(value: Any) -> str | None:
    """The id a Delete names: a plain id (Lemmy) or an embedded Tombstone/object (Mastodon)."""
    return id_of(value)
