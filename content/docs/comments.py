"""Comments on a doc: replies to its Article (so they federate like any reply, from any server), each
optionally about one section (a heading's anchor), threaded by ``inReplyTo``, and resolvable.

The reply itself is written by inbox_outbox.services.posts; here are its marks (section, resolved) and
the threads the doc page shows, by section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput, NotFound
from content.docs.text import Section, sections
from content.store import aware
from content.thread_tree import SectionLink
from federation.object_render import DocSection
from federation.remote_actor import origin
from storage.models import Doc, DocCommentMark, Object, utcnow

MAX_COMMENTS = 500


def check_anchor(body: str, anchor: str | None) -> str | None:
    """A section of the doc as it is now, or None (the whole doc)."""
    if not anchor:
        return None
    if anchor not in {section.anchor for section in sections(body)}:
        raise InvalidInput("that section is not in the doc (any more): comment on the whole doc or pick a heading")
    return anchor


def doc_section(body: str, anchor: str | None, page: str) -> DocSection | None:
    """The section ``anchor`` names, as a comment about it federates (``docSection`` and a link atop the
    text: federation.object_render)."""
    for section in sections(body) if anchor else ():
        if section.anchor == anchor:
            return DocSection(anchor=anchor, title=section.title, page=page)
    return None


# --------------------------------------------------------------------------------------------------
# A doc of another Made Open node's group, as we hold its Article: our people comment on its sections too


def is_remote_doc(obj: Object) -> bool:
    """An Article of another server's group carrying its ``docRevision``: another Made Open node's doc."""
    return obj.type == "Article" and not obj.local and not obj.deleted \
        and isinstance((obj.document or {}).get("docRevision"), int)


def remote_source(article: dict[str, Any] | None) -> str:
    """The Markdown the Article carries (``source``), or "" without one."""
    source = (article or {}).get("source")
    text = source.get("content") if isinstance(source, dict) else None
    return text if isinstance(text, str) else ""


def remote_sections(obj: Object) -> list[Section]:
    """The headings of a remote doc, anchored as its node anchors them (the same code reads the same
    Markdown), for the section picker of our comment form."""
    return sections(remote_source(obj.document)) if is_remote_doc(obj) else []


def _remote_page(obj: Object) -> str:
    """A remote doc's page: its ``url`` when that is on the doc's own server, else its id."""
    url = (obj.document or {}).get("url")
    ok = isinstance(url, str) and urlsplit(url).scheme in ("http", "https") and origin(url) == origin(obj.uri)
    return url if ok else obj.uri


def remote_section(obj: Object, anchor: str | None) -> DocSection | None:
    """The section of a remote doc one of our people comments on: its anchor must be a heading of the doc
    as we hold it (else InvalidInput, nothing sent); the link atop the comment goes to the doc's page."""
    if not anchor:
        return None
    if not is_remote_doc(obj):
        raise InvalidInput("only a comment on a doc is about one of its sections")
    body = remote_source(obj.document)
    check_anchor(body, anchor)
    return doc_section(body, anchor, _remote_page(obj))


async def local_section_links(session: AsyncSession, root: Object) -> dict[int, SectionLink]:
    """Our comments about sections of the remote doc ``root``, by post id: the link atop each on its page
    here (others' arrive with it in their content; ours keep the text as written, and the section in
    ``docSection``). A heading the doc no longer has keeps its anchor's link, titled by the anchor."""
    if not is_remote_doc(root):
        return {}
    rows = await session.execute(select(Object.id, Object.document).where(
        Object.context_uri == root.uri, Object.local.is_(True), Object.deleted.is_(False)))
    titles = {section.anchor: section.title for section in remote_sections(root)}
    page = _remote_page(root)
    links = {}
    for post_id, document in rows:
        anchor = (document or {}).get("docSection")
        if isinstance(anchor, str):
            links[post_id] = SectionLink(title=titles.get(anchor, anchor), href=f"{page}#{anchor}")
    return links


async def mark_arrived(session: AsyncSession, comment: Object, parent: Object, anchor: str) -> None:
    """A comment from another server naming a section of one of our docs (``docSection``), on the doc
    itself (not a reply to a comment: as here): filed under that heading when the doc has it now; an
    unknown one leaves the comment under the whole doc, as one without it."""
    doc = await session.scalar(select(Doc).where(Doc.object_id == parent.id, Doc.deleted.is_(False)))
    if doc is None or anchor not in {section.anchor for section in sections(parent.source or "")}:
        return
    await mark(session, doc, comment, anchor)


async def mark(session: AsyncSession, doc: Doc, comment: Object, anchor: str | None) -> None:
    session.add(DocCommentMark(object_id=comment.id, doc_id=doc.id, anchor=anchor))
    await session.flush()


async def comment_of(session: AsyncSession, doc: Doc, comment_id: int) -> Object:
    obj = await session.get(Object, comment_id)
    root = await session.get(Object, doc.object_id)
    if obj is None or root is None or obj.context_uri != root.uri or obj.id == root.id or obj.deleted:
        raise NotFound("no such comment on this doc")
    return obj


async def resolve(session: AsyncSession, doc: Doc, comment: Object, actor_uri: str, *, team: bool,
                  resolved: bool = True) -> None:
    """The team, or the comment's author, marks it resolved (or open again)."""
    if not (team or comment.author_uri == actor_uri):
        raise Forbidden("only the team or the comment's author resolves a comment")
    row = await session.get(DocCommentMark, comment.id)
    if row is None:
        row = DocCommentMark(object_id=comment.id, doc_id=doc.id, anchor=None)
        session.add(row)
    row.resolved_by_uri = actor_uri if resolved else None
    row.resolved_at = utcnow() if resolved else None
    await session.flush()


@dataclass
class Comment:
    id: int
    uri: str
    author_uri: str
    content: str  # sanitised HTML
    published: datetime
    anchor: str | None
    resolved: bool
    local: bool
    replies: list[Comment] = field(default_factory=list)


@dataclass(frozen=True)
class Threads:
    """Top-level comments by section anchor (None: the whole doc), each with its replies nested."""

    by_section: dict[str | None, list[Comment]]
    count: int
    open_count: int


async def threads(session: AsyncSession, doc: Doc) -> Threads:
    root = await session.get(Object, doc.object_id)
    assert root is not None
    rows = list(await session.execute(
        select(Object, DocCommentMark)
        .outerjoin(DocCommentMark, DocCommentMark.object_id == Object.id)
        .where(Object.context_uri == root.uri, Object.id != root.id, Object.deleted.is_(False))
        .order_by(Object.published, Object.id).limit(MAX_COMMENTS)
    ))
    made: dict[str, Comment] = {}
    for obj, marks in rows:
        made[obj.uri] = Comment(id=obj.id, uri=obj.uri, author_uri=obj.author_uri, content=obj.content,
                                published=aware(obj.published), anchor=marks.anchor if marks else None,
                                resolved=bool(marks and marks.resolved_at), local=obj.local)
    by_section: dict[str | None, list[Comment]] = {}
    for obj, _ in rows:
        comment = made[obj.uri]
        parent = made.get(obj.in_reply_to_uri or "")
        if parent is not None:
            parent.replies.append(comment)
        else:
            by_section.setdefault(comment.anchor, []).append(comment)
    tops = [c for group in by_section.values() for c in group]
    return Threads(by_section=by_section, count=len(made), open_count=sum(not c.resolved for c in tops))
