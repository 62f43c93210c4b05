"""What the doc pages show (web/routes/docs.py), as plain data: the group's docs as a tree, a doc with
its sections and comment threads, its history, a revision, a diff, the proposals queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from content.notification_views import describe_actor
from actors.urls import Urls
from content.docs import comments, pages, proposals
from content.docs.diff import Diff, Row, diff, side_by_side
from content.docs.text import Section, sections
from content.store import aware
from storage.models import Doc, DocProposal, DocRevision, LocalActor, Object


@dataclass(frozen=True)
class Person:
    name: str
    url: str


async def person(session: AsyncSession, urls: Urls, uri: str | None, cache: dict[str, Person]) -> Person | None:
    if not uri:
        return None
    if uri not in cache:
        name, link = await describe_actor(session, urls, uri)
        cache[uri] = Person(name=name, url=link[len(urls.base):] if link.startswith(urls.base + "/") else link)
    return cache[uri]


def when(moment: datetime) -> str:
    return aware(moment).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class TreeEntry:
    id: int
    title: str
    path: str
    depth: int
    tags: list[str]
    updated: str


def tree(docs: list[Doc], group_name: str) -> list[TreeEntry]:
    """Docs in tree order: each under its parent, siblings by title (a parent that is gone: top level)."""
    ids = {doc.id for doc in docs}
    children: dict[int | None, list[Doc]] = {}
    for doc in docs:
        children.setdefault(doc.parent_id if doc.parent_id in ids else None, []).append(doc)
    out: list[TreeEntry] = []

    def walk(parent: int | None, depth: int) -> None:
        for doc in children.get(parent, []):
            out.append(TreeEntry(doc.id, doc.title, pages.doc_path(group_name, doc.id), depth, list(doc.tags or []),
                                 when(doc.updated_at)))
            if depth < 20:
                walk(doc.id, depth + 1)

    walk(None, 0)
    return out


@dataclass(frozen=True)
class RevisionLine:
    number: int
    title: str
    summary: str
    author: Person | None
    accepted_by: Person | None
    when: str
    when_iso: str
    restored_from: int | None


async def revision_lines(session: AsyncSession, urls: Urls, revisions: list[DocRevision]) -> list[RevisionLine]:
    cache: dict[str, Person] = {}
    return [RevisionLine(number=r.number, title=r.title, summary=r.summary,
                         author=await person(session, urls, r.author_uri, cache),
                         accepted_by=await person(session, urls, r.accepted_by_uri, cache),
                         when=when(r.created_at), when_iso=aware(r.created_at).isoformat(),
                         restored_from=r.restored_from) for r in revisions]


@dataclass
class CommentView:
    id: int
    author: Person | None
    html: str
    when: str
    resolved: bool
    local: bool
    author_uri: str
    replies: list[CommentView] = field(default_factory=list)


@dataclass(frozen=True)
class SectionComments:
    anchor: str | None
    title: str
    comments: list[CommentView]


@dataclass(frozen=True)
class DocPage:
    id: int
    title: str
    path: str
    html: str
    revision: RevisionLine
    sections: list[Section]
    tags: list[str]
    parent: TreeEntry | None
    children: list[TreeEntry]
    threads: list[SectionComments]
    comment_count: int
    open_comments: int
    open_proposals: int
    article_uri: str


async def _comment_view(session: AsyncSession, urls: Urls, c: comments.Comment, cache: dict[str, Person]) -> CommentView:
    return CommentView(id=c.id, author=await person(session, urls, c.author_uri, cache), html=c.content,
                       when=when(c.published), resolved=c.resolved, local=c.local, author_uri=c.author_uri,
                       replies=[await _comment_view(session, urls, r, cache) for r in c.replies])


async def doc_page(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc) -> DocPage:
    current = await pages.head(session, doc)
    obj = await session.get(Object, doc.object_id)
    assert obj is not None
    found = sections(current.body)
    titles = {section.anchor: section.title for section in found}
    threads = await comments.threads(session, doc)
    cache: dict[str, Person] = {}
    grouped = []
    for anchor in [None, *titles, *[a for a in threads.by_section if a is not None and a not in titles]]:
        listed = threads.by_section.get(anchor)
        if listed:
            grouped.append(SectionComments(anchor, "The whole doc" if anchor is None else titles.get(anchor, "A section "
                                           "no longer in the doc"), [await _comment_view(session, urls, c, cache)
                                                                      for c in listed]))
    siblings = await pages.listing(session, group.id)
    entries = {entry.id: entry for entry in tree(siblings, group.username)}
    return DocPage(
        id=doc.id, title=doc.title, path=pages.doc_path(group.username, doc.id), html=obj.content,  # rendered on save
        revision=(await revision_lines(session, urls, [current]))[0], sections=found, tags=list(doc.tags or []),
        parent=entries.get(doc.parent_id) if doc.parent_id else None,
        children=[entries[d.id] for d in siblings if d.parent_id == doc.id and d.id in entries],
        threads=grouped, comment_count=threads.count, open_comments=threads.open_count,
        open_proposals=await proposals.open_count(session, [doc.id]), article_uri=obj.uri,
    )


@dataclass(frozen=True)
class Compared:
    old: int
    new: int
    diff: Diff
    rows: list[Row]
    title_before: str
    title_after: str


def compare(old: DocRevision | tuple[str, str, int], new: DocRevision | tuple[str, str, int]) -> Compared:
    def parts(value: DocRevision | tuple[str, str, int]) -> tuple[str, str, int]:
        return (value.title, value.body, value.number) if isinstance(value, DocRevision) else value
    old_title, old_body, old_number = parts(old)
    new_title, new_body, new_number = parts(new)
    return Compared(old=old_number, new=new_number, diff=diff(old_body, new_body), rows=side_by_side(old_body, new_body),
                    title_before=old_title, title_after=new_title)


@dataclass(frozen=True)
class ProposalView:
    id: int
    doc_id: int
    doc_title: str
    path: str
    state: str
    state_label: str
    base: int
    head: int
    reason: str
    response: str
    proposer: Person | None
    decided_by: Person | None
    when: str
    remote: bool
    proposer_uri: str
    compared: Compared
    clean: bool
    revision: int | None


async def proposal_view(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc,
                        proposal: DocProposal) -> ProposalView:
    """A proposal with its diff against the doc as it is now (merged onto the head when made on an older
    revision; while it is open)."""
    cache: dict[str, Person] = {}
    current = await pages.head(session, doc)
    if proposal.state in proposals.OPEN_STATES:
        proposed = await proposals.as_of_head(session, doc, proposal)
        compared = compare(current, (proposed.title, proposed.body, 0))
        clean = proposed.clean
    else:
        base = await pages.revision(session, doc, proposal.base)
        compared, clean = compare(base, (proposal.title, proposal.body, 0)), True
    return ProposalView(
        id=proposal.id, doc_id=doc.id, doc_title=doc.title,
        path=proposals.proposal_path(group.username, doc.id, proposal.id), state=proposal.state,
        state_label=proposals.STATE_LABELS.get(proposal.state, proposal.state), base=proposal.base, head=current.number,
        reason=proposal.reason, response=proposal.response,
        proposer=await person(session, urls, proposal.proposer_uri, cache),
        decided_by=await person(session, urls, proposal.decided_by_uri, cache), when=when(proposal.created_at),
        remote=proposal.offer_uri is not None, proposer_uri=proposal.proposer_uri, compared=compared, clean=clean,
        revision=proposal.revision,
    )


async def queue(session: AsyncSession, urls: Urls, group: LocalActor) -> list[ProposalView]:
    docs = {doc.id: doc for doc in await pages.listing(session, group.id)}
    return [await proposal_view(session, urls, group, docs[p.doc_id], p)
            for p in await proposals.queue(session, list(docs))]


async def mine(session: AsyncSession, doc: Doc, proposer_uri: str | None) -> list[DocProposal]:
    if proposer_uri is None:
        return []
    return list(await session.scalars(select(DocProposal).where(
        DocProposal.doc_id == doc.id, DocProposal.proposer_uri == proposer_uri).order_by(DocProposal.id.desc())))
