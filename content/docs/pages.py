"""A group's docs: who may do what, writing (every save a revision), history, restoring, and the
three-way merge of a save made on a stale revision.

Each doc is mirrored by an ``objects`` row, an ``Article`` by the group (federation.doc_article), kept
in step on every save: replies to it are the doc's comments, and search, feeds and federation see
it as a post of the group. The services (inbox_outbox.services.docs) make the ids and send the
activities; everything here works in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from actors.group_pages import TEAM_ROLES
from actors.local import MODERATOR_ROLES
from actors.memberships import find_membership
from actors.urls import Urls
from content.docs.merge import Clash, merge
from content.docs.text import check_doc, render, slug
from content.store import aware, tombstone
from federation.context import PUBLIC
from federation.doc_article import DocArticle, render_article
from storage.models import Doc, DocRevision, DocSettings, LocalActor, Object, utcnow

EDITORS = ("team", "members", "anyone")
EDITOR_LABELS = {"team": "The team only (owners, admins, moderators, staff)", "members": "Members of the group",
                 "anyone": "Anyone logged in"}
HISTORY_PAGE = 50


# --------------------------------------------------------------------------------------------------
# Who may do what


@dataclass(frozen=True)
class Access:
    """What ``viewer`` may do with ``group``'s docs."""

    viewer: str | None
    read: bool
    edit: bool  # save directly (and start docs)
    propose: bool  # propose edits (everyone who reads, logged in, not banned)
    team: bool  # review proposals, restore, delete, resolve any comment
    moderator: bool  # choose who edits
    editors: str = "team"


async def editors_of(session: AsyncSession, group_id: int) -> str:
    return await session.scalar(select(DocSettings.editors).where(DocSettings.group_id == group_id)) or "team"


async def set_editors(session: AsyncSession, group_id: int, editors: str) -> str:
    if editors not in EDITORS:
        raise InvalidInput(f"who edits: choose one of {', '.join(EDITORS)}")
    row = await session.get(DocSettings, group_id)
    if row is None:
        session.add(DocSettings(group_id=group_id, editors=editors))
    else:
        row.editors = editors
    await session.flush()
    return editors


async def access(session: AsyncSession, urls: Urls, group: LocalActor, viewer: str | None) -> Access:
    assert group.group is not None
    editors = await editors_of(session, group.id)
    membership = await find_membership(session, urls, group, viewer) if viewer else None
    state = membership.state if membership is not None else None
    role = membership.role if membership is not None and state == "accepted" else None
    banned = state == "banned"
    read = group.group.visibility == "public" or role is not None
    team = role in TEAM_ROLES
    if viewer is None or banned:
        edit = False
    elif editors == "anyone":
        edit = read
    elif editors == "members":
        edit = role is not None
    else:
        edit = team
    return Access(viewer=viewer, read=read, edit=edit, propose=read and viewer is not None and not banned,
                  team=team, moderator=role in MODERATOR_ROLES, editors=editors)


def require(allowed: bool, message: str) -> None:
    if not allowed:
        raise Forbidden(message)


# --------------------------------------------------------------------------------------------------
# Reading


async def find(session: AsyncSession, group: LocalActor, doc_id: int, *, for_update: bool = False) -> Doc:
    """The live doc ``doc_id`` of ``group``; NotFound for another group's doc or a deleted one.
    ``for_update``: the row is locked (PostgreSQL) so two saves of one doc take turns, and the second sees
    the first's revision (a stale save, merged) instead of colliding on its number."""
    doc = await session.get(Doc, doc_id, with_for_update=for_update)
    if doc is None or doc.group_id != group.id:
        raise NotFound("no such doc in this group")
    if doc.deleted:
        raise NotFound("that doc was deleted")
    return doc


async def by_object_uri(session: AsyncSession, uri: str) -> Doc | None:
    return await session.scalar(select(Doc).join(Object, Object.id == Doc.object_id).where(Object.uri == uri))


async def revision(session: AsyncSession, doc: Doc, number: int) -> DocRevision:
    """Revision ``number`` of ``doc`` (a number of another doc's history is simply not found here)."""
    found = await session.scalar(select(DocRevision).where(DocRevision.doc_id == doc.id, DocRevision.number == number))
    if found is None:
        raise NotFound(f"this doc has no revision {number}")
    return found


async def head(session: AsyncSession, doc: Doc) -> DocRevision:
    return await revision(session, doc, doc.head)


async def history(session: AsyncSession, doc: Doc, *, before: int | None = None,
                  limit: int = HISTORY_PAGE) -> list[DocRevision]:
    """Revisions, newest first, ``limit`` at a time (``before``: a revision number, the next page)."""
    query = select(DocRevision).where(DocRevision.doc_id == doc.id)
    if before is not None:
        query = query.where(DocRevision.number < before)
    return list(await session.scalars(query.order_by(DocRevision.number.desc()).limit(limit)))


async def listing(session: AsyncSession, group_id: int, tag: str | None = None) -> list[Doc]:
    """The group's live docs by title; the page nests them by ``parent_id``."""
    docs = list(await session.scalars(
        select(Doc).where(Doc.group_id == group_id, Doc.deleted.is_(False)).order_by(func.lower(Doc.title), Doc.id)
    ))
    return [doc for doc in docs if tag in (doc.tags or [])] if tag else docs


async def check_parent(session: AsyncSession, group_id: int, parent_id: int | None, doc: Doc | None = None) -> int | None:
    """A parent in the tree: a live doc of the same group, never the doc itself or one below it."""
    if parent_id is None:
        return None
    parent = await session.get(Doc, parent_id)
    if parent is None or parent.group_id != group_id or parent.deleted:
        raise InvalidInput("the parent must be a doc of this group")
    seen = set()
    cursor: Doc | None = parent
    while cursor is not None and cursor.id not in seen:
        if doc is not None and cursor.id == doc.id:
            raise InvalidInput("a doc cannot sit under itself or under one of its own sub-pages")
        seen.add(cursor.id)
        cursor = await session.get(Doc, cursor.parent_id) if cursor.parent_id is not None else None
    return parent_id


# --------------------------------------------------------------------------------------------------
# Writing


def slug_filename(title: str) -> str:
    """A file name for the Markdown export."""
    return slug(title)


def doc_path(group_name: str, doc_id: int) -> str:
    return f"/groups/{group_name}/docs/{doc_id}"


def _addressing(urls: Urls, group: LocalActor) -> tuple[tuple[str, ...], tuple[str, ...]]:
    assert group.group is not None
    group_id = urls.group(group.username)
    if group.group.visibility == "public":
        return (group_id, PUBLIC), (f"{group_id}/followers",)
    return (group_id,), (f"{group_id}/followers",)


def mirror(urls: Urls, group: LocalActor, doc: Doc, obj: Object, body: str, now: datetime) -> None:
    """Put the doc's current title and text on its ``objects`` row and its Article."""
    obj.name = doc.title
    obj.source = body
    obj.content = render(body)
    if obj.id is not None and doc.head > 1:
        obj.updated = now
    to, cc = _addressing(urls, group)
    obj.document = render_article(DocArticle(
        id=obj.uri, group=urls.group(group.username), url=urls.base + doc_path(group.username, doc.id),
        title=doc.title, content=obj.content, source=body, revision=doc.head, published=aware(obj.published),
        updated=aware(obj.updated) if obj.updated else None, to=to, cc=cc,
    ))


async def create(session: AsyncSession, urls: Urls, group: LocalActor, author_uri: str, object_uri: str, *,
                 title: str, body: str, summary: str = "", tags: list[str] | None = None,
                 parent_id: int | None = None) -> tuple[Doc, Object]:
    """A new doc with its first revision (the caller checked ``author_uri`` may edit)."""
    title, body, summary = check_doc(title, body, summary)
    parent_id = await check_parent(session, group.id, parent_id)
    assert group.group is not None
    now = utcnow()
    group_uri = urls.group(group.username)
    obj = Object(uri=object_uri, local=True, type="Article", author_uri=group_uri, group_id=group.id,
                 audience_uri=group_uri, context_uri=object_uri, public=group.group.visibility == "public",
                 published=now, last_activity_at=now, name=title, content="", source=body, document={})
    session.add(obj)
    await session.flush()
    doc = Doc(group_id=group.id, object_id=obj.id, parent_id=parent_id, title=title, tags=tags or [], head=1,
              created_at=now, updated_at=now)
    session.add(doc)
    await session.flush()
    session.add(DocRevision(doc_id=doc.id, number=1, title=title, body=body, summary=summary or "First version",
                            author_uri=author_uri, created_at=now))
    mirror(urls, group, doc, obj, body, now)
    await session.flush()
    return doc, obj


class StaleSave(Conflict):
    """A save on revision ``base`` when the doc is at ``head``: nothing was written. ``merged`` is the
    three-way merge of the typed text with what was saved since (clean, or with conflict markers)."""

    def __init__(self, base: int, head: int, title: str, mine: str, merged: str, clashes: list[Clash]) -> None:
        super().__init__(f"the doc changed since you opened it (revision {base}; now {head})")
        self.base = base
        self.head = head
        self.title = title
        self.mine = mine
        self.merged = merged
        self.clashes = clashes


@dataclass(frozen=True)
class Saved:
    doc: Doc
    revision: DocRevision | None  # None: nothing changed, no revision
    changed: bool = True


async def _add_revision(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc, *, title: str, body: str,
                        summary: str, author_uri: str, accepted_by: str | None = None,
                        proposal_id: int | None = None, restored_from: int | None = None) -> DocRevision:
    now = utcnow()
    doc.head += 1
    doc.title = title
    doc.updated_at = now
    made = DocRevision(doc_id=doc.id, number=doc.head, title=title, body=body, summary=summary,
                       author_uri=author_uri, accepted_by_uri=accepted_by, proposal_id=proposal_id,
                       restored_from=restored_from, created_at=now)
    session.add(made)
    obj = await session.get(Object, doc.object_id)
    assert obj is not None
    obj.last_activity_at = now
    mirror(urls, group, doc, obj, body, now)
    await session.flush()
    return made


async def save(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc, author_uri: str, *, base: int,
               title: str, body: str, summary: str = "") -> Saved:
    """A new revision, when ``base`` is still the head; on a stale base, :class:`StaleSave` with the
    merge (nothing is lost: the caller shows the typed text and the merge)."""
    title, body, summary = check_doc(title, body, summary)
    current = await head(session, doc)
    if base != doc.head:
        if not 1 <= base < doc.head:
            raise InvalidInput(f"this doc has no revision {base}")
        old = await revision(session, doc, base)
        merged = merge(old.body, body, current.body, theirs_label=f"revision {current.number}")
        merged_title = current.title if title == old.title else title
        raise StaleSave(base, current.number, merged_title, body, merged.text, merged.clashes)
    if title == current.title and body == current.body:
        return Saved(doc=doc, revision=None, changed=False)
    made = await _add_revision(session, urls, group, doc, title=title, body=body, summary=summary,
                               author_uri=author_uri)
    return Saved(doc=doc, revision=made)


async def restore(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc, number: int,
                  author_uri: str) -> DocRevision:
    """Bring back revision ``number`` of this doc as a new revision."""
    old = await revision(session, doc, number)
    if number == doc.head:
        raise InvalidInput("that is the current revision already")
    return await _add_revision(session, urls, group, doc, title=old.title, body=old.body,
                               summary=f"Restored revision {number}", author_uri=author_uri, restored_from=number)


async def accept_text(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc, *, title: str, body: str,
                      summary: str, author_uri: str, accepted_by: str, proposal_id: int) -> DocRevision:
    """A proposed edit becomes a revision crediting its proposer (content.docs.proposals)."""
    return await _add_revision(session, urls, group, doc, title=title, body=body, summary=summary,
                               author_uri=author_uri, accepted_by=accepted_by, proposal_id=proposal_id)


async def set_place(session: AsyncSession, doc: Doc, parent_id: int | None, tags: list[str]) -> None:
    doc.parent_id = await check_parent(session, doc.group_id, parent_id, doc)
    doc.tags = tags
    await session.flush()


async def delete(session: AsyncSession, doc: Doc) -> Object:
    """The doc goes (its history stays, unseen; its Article becomes a tombstone); sub-pages move up to
    its parent."""
    doc.deleted = True
    for child in await session.scalars(select(Doc).where(Doc.parent_id == doc.id)):
        child.parent_id = doc.parent_id
    obj = await session.get(Object, doc.object_id)
    assert obj is not None
    tombstone(obj)
    await session.flush()
    return obj
