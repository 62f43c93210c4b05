"""The Atom/RSS feed of a group's doc changes (``/feeds/groups/<name>/docs.atom``): the newest
revisions of its live docs, each with who saved it (and who accepted it), its summary and the word diff
from the revision before (for docs up to ``DIFF_CHARS``; longer ones say how many words changed)."""

from __future__ import annotations

from html import escape

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content.docs import pages, views
from content.docs.diff import diff
from content.feeds import FEED_SIZE, Entry, Feed
from content.store import aware
from storage.models import Doc, DocRevision, LocalActor

DIFF_CHARS = 20_000


async def doc_changes(session: AsyncSession, urls: Urls, group: LocalActor) -> Feed:
    page = urls.group(group.username) + "/docs"
    name = group.display_name or group.username
    rows = list(await session.execute(
        select(DocRevision, Doc).join(Doc, Doc.id == DocRevision.doc_id)
        .where(Doc.group_id == group.id, Doc.deleted.is_(False))
        .order_by(DocRevision.created_at.desc(), DocRevision.id.desc()).limit(FEED_SIZE)
    ))
    cache: dict[str, views.Person] = {}
    entries = []
    for revision, doc in rows:
        link = urls.base + pages.doc_path(group.username, doc.id)
        author = await views.person(session, urls, revision.author_uri, cache)
        accepted = await views.person(session, urls, revision.accepted_by_uri, cache)
        text = f"<p>{escape(revision.summary or 'No summary')}</p>"
        if accepted is not None:
            text += f"<p>Proposed by {escape(author.name if author else '')}, accepted by {escape(accepted.name)}.</p>"
        before = await session.scalar(select(DocRevision.body).where(
            DocRevision.doc_id == doc.id, DocRevision.number == revision.number - 1))
        if before is not None:
            change = diff(before, revision.body) if max(len(before), len(revision.body)) <= DIFF_CHARS else None
            text += (f"<pre>{change.inline_html()}</pre>" if change is not None else
                     "<p>A long doc: see the changes on its page.</p>")
        when = aware(revision.created_at)
        entries.append(Entry(
            id=f"{link}/revisions/{revision.number}", title=f"{revision.title} (revision {revision.number})",
            link=f"{link}/diff?to={revision.number}" if revision.number > 1 else link, html=text,
            author_name=author.name if author else "", author_url=urls.base + author.url
            if author and author.url.startswith("/") else (author.url if author else link),
            published=when, updated=when,
        ))
    return Feed(id=page, title=f"{name}: docs", link=page, subtitle=f"Changes to the docs of {name}", entries=entries)
