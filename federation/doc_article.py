"""A group's doc as AS2 (issue #18; PROTOCOL.md "Docs"): an ``Article`` published by the group.

- ``attributedTo`` the group: the group publishes it, and edits come from nobody else (Mastodon takes
  an ``Update`` only from the object's author, ``app/lib/activitypub/activity/update.rb``);
- ``name`` the title, ``summary`` the start of the text as plain words, ``url`` the doc's page: what
  Mastodon shows of an Article (``name``, ``summary`` and a link to ``url``, its "converted" types);
- ``content`` the rendered Markdown, ``source`` the Markdown (Lemmy and PieFed read it);
- ``docRevision`` (our namespace): which revision this is, so another Made Open node can offer an edit
  against it (an ``Offer`` of the revised Article, as ForgeFed offers patches).

Pure protocol code: plain values in, plain dicts out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.activities import iso
from federation.context import AS2, MADEOPEN_NS
from federation.html import plain_text

SUMMARY_CHARS = 280
DOC_CONTEXT: list[object] = [AS2, {"madeopen": MADEOPEN_NS, "docRevision": "madeopen:docRevision"}]


class InvalidOffer(ValueError):
    """An offered edit that is not an Article revision of one of our docs; the message says why."""


@dataclass(frozen=True)
class DocArticle:
    id: str
    group: str
    url: str  # the doc's page
    title: str
    content: str  # sanitised HTML
    source: str  # Markdown
    revision: int
    published: datetime
    updated: datetime | None
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()


def summary_of(content_html: str, limit: int = SUMMARY_CHARS) -> str:
    text = plain_text(content_html)
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def render_article(doc: DocArticle) -> dict[str, Any]:
    article: dict[str, Any] = {
        "@context": DOC_CONTEXT,
        "id": doc.id,
        "type": "Article",
        "attributedTo": doc.group,
        "to": list(doc.to),
        "cc": list(doc.cc),
        "audience": doc.group,
        "name": doc.title,
        "summary": summary_of(doc.content),
        "content": doc.content,
        "mediaType": "text/html",
        "source": {"content": doc.source, "mediaType": "text/markdown"},
        "url": doc.url,
        "published": iso(doc.published),
        "docRevision": doc.revision,
    }
    if doc.updated is not None:
        article["updated"] = iso(doc.updated)
    return article


@dataclass(frozen=True)
class OfferedEdit:
    """What an ``Offer{Article}`` proposes: the doc (the Article's id), the revision it starts from,
    the new title and Markdown, and the reason (the Offer's ``summary`` or ``content``)."""

    article: str
    base: int
    title: str
    source: str
    reason: str


def parse_offer(offer: dict[str, Any]) -> OfferedEdit:
    article = offer.get("object")
    if not isinstance(article, dict) or article.get("type") != "Article":
        raise InvalidOffer("an offered edit embeds the revised Article")
    article_id = article.get("id")
    if not isinstance(article_id, str) or not article_id:
        raise InvalidOffer("the offered Article names no id")
    base = article.get("docRevision")
    if not isinstance(base, int) or isinstance(base, bool) or base < 1:
        raise InvalidOffer("the offered Article names no docRevision to start from")
    title = article.get("name")
    source = article.get("source")
    text = source.get("content") if isinstance(source, dict) else None
    if not isinstance(title, str) or not isinstance(text, str):
        raise InvalidOffer("the offered Article needs a name and a Markdown source")
    reason = offer.get("summary") or offer.get("content") or ""
    if not isinstance(reason, str):
        raise InvalidOffer("the Offer's summary is not text")
    return OfferedEdit(article=article_id, base=base, title=title, source=text, reason=plain_text(reason))


def offer_document(offer_id: str, actor: str, group: str, article: dict[str, Any], base: int, title: str,
                   source: str, reason: str) -> dict[str, Any]:
    """Our person's proposed edit of a remote group's doc: ``Offer{Article}`` to the group, the Article
    revised (its id kept, ``docRevision`` the revision the edit starts from)."""
    revised = {key: article[key] for key in ("id", "url", "attributedTo", "audience") if key in article}
    revised.update({"type": "Article", "name": title, "source": {"content": source, "mediaType": "text/markdown"},
                    "docRevision": base})
    return {"@context": DOC_CONTEXT, "id": offer_id, "type": "Offer", "actor": actor, "to": [group],
            "target": group, "summary": reason, "object": revised}
