"""Our side of posts as AS2: render local posts and tombstones, and the stored copy of remote ones.

Everything here goes from typed values to plain AS2 dicts; :mod:`federation.objects` goes the other
way. The shapes are the ones Lemmy, PieFed and Mastodon all read (PROTOCOL.md).

Pure protocol code (DESIGN.md layering): typed data in, plain dicts out, no database.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from federation.activities import iso
from federation.board_terms import render_terms
from federation.collections import replies_collection
from federation.context import AS2, MADEOPEN_NS
from federation.object_fields import Hashtag, Mention
from federation.objects import ObjectData
from federation.thread_title import titled_content

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


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _tag_documents(mentions: tuple[Mention, ...], hashtags: tuple[Hashtag, ...]) -> list[dict[str, Any]]:
    """Mentions and hashtags as AS2 ``tag`` entries (a hashtag's ``href`` only when known)."""
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
    if data.doc_revision is not None:  # a doc of a Made Open group (federation.doc_article)
        doc["docRevision"] = data.doc_revision
        doc["source"] = {"content": data.doc_source or "", "mediaType": "text/markdown"}
    if data.doc_section is not None:  # a comment about one section of a Made Open group's doc
        doc["docSection"] = data.doc_section
    if data.location:
        doc["location"] = {"type": "Place", "name": data.location}
    doc.update(render_terms(data.board))  # the board's terms, as parsed (federation.board_terms)
    return doc


@dataclass(frozen=True)
class LocalAttachment:
    """An image or file attached to one of our posts, as Mastodon sends them: ``Image`` (or ``Document``)
    with ``url``, ``mediaType``, ``name`` (the alt text) and the size in pixels."""

    url: str
    media_type: str
    name: str  # the alt text
    width: int | None = None
    height: int | None = None
    size: int | None = None  # bytes; shown on our pages, not federated (AS2 has no term for it)

    @property
    def type(self) -> str:
        return "Image" if self.media_type.startswith("image/") else "Document"

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "mediaType": self.media_type, "url": self.url, "name": self.name}
        if self.width and self.height:
            doc["width"], doc["height"] = self.width, self.height
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
    attachments: tuple[LocalAttachment, ...] = field(default_factory=tuple)
    section: DocSection | None = None  # a comment about one section of a group's doc


@dataclass(frozen=True)
class DocSection:
    """The section of a doc a comment is about: the heading's anchor on the doc's page, its text, the page."""

    anchor: str
    title: str
    page: str  # the doc's page URL (the Article's ``url``)


def replies_url(object_id: str) -> str:
    """Where one of our posts serves its replies collection."""
    return f"{object_id}/replies"


def context_url(root_id: str) -> str:
    """Where a thread started by one of our posts serves its context (FEP-7888, as Lemmy does)."""
    return f"{root_id}/context"


# The link a section comment's content starts with (render_object), as we wrote it: kept by an edit.
_SECTION_LEAD = re.compile(r'<p>On section <a href="[^"<>]*">[^<>]*</a>:</p>')


def section_lead(document: dict[str, Any]) -> str:
    """The section link atop one of our comments' content (``docSection``), or "": an edit keeps it."""
    found = _SECTION_LEAD.match(document.get("content") or "") if "docSection" in document else None
    return found.group(0) if found else ""


def render_object(post: LocalPost) -> dict[str, Any]:
    """One of our posts as AS2, in the shape Lemmy, PieFed and Mastodon all read.

    A titled post (a thread) keeps ``Page`` and ``name`` for Lemmy-family peers and starts its
    ``content`` with the title (:func:`titled_content`; why, with the peers' code as witness: PROTOCOL.md
    "Thread titles"). ``audience`` (FEP-1b12) names the group; ``to`` also names it for peers that look there (Lemmy,
    Friendica). ``source`` keeps the Markdown (Lemmy edits it), ``replies`` embeds the replies
    collection with its first page (``federation.collections.replies_collection``; the object's URL
    serves it with the replies of the moment) and ``context`` names the thread (FEP-7888 style, as
    Lemmy serves it).
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
    doc["content"] = titled_content(post.name, post.content)
    if post.section is not None:
        # ``docSection`` for another Made Open node, which files the comment under that heading; the same
        # as a link atop the text for Mastodon-family readers, who show content only (PROTOCOL.md "Docs").
        doc["@context"] = [*OBJECT_CONTEXT, {"madeopen": MADEOPEN_NS, "docSection": "madeopen:docSection"}]
        doc["docSection"] = post.section.anchor
        link = f'{html.escape(post.section.page, quote=True)}#{html.escape(post.section.anchor, quote=True)}'
        doc["content"] = f'<p>On section <a href="{link}">{html.escape(post.section.title)}</a>:</p>' + doc["content"]
    doc["mediaType"] = "text/html"
    if post.source is not None:
        doc["source"] = {"content": post.source, "mediaType": "text/markdown"}
    if post.in_reply_to:
        doc["inReplyTo"] = post.in_reply_to
    if post.audience:
        doc["audience"] = post.audience
    if post.context:
        doc["context"] = post.context
    doc["replies"] = replies_collection(replies_url(post.id), 0, (), has_next=False)  # new: none yet
    doc["url"] = post.id
    doc["published"] = iso(_aware(post.published))
    if post.updated is not None:
        doc["updated"] = iso(_aware(post.updated))
    if post.type == "Page":
        doc["commentsEnabled"] = post.comments_enabled
    doc["sensitive"] = False
    doc["tag"] = _tag_documents(post.mentions, post.hashtags)
    if post.attachments:
        doc["attachment"] = [attachment.document() for attachment in post.attachments]
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
