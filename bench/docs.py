"""A group's docs (issue #18): diff, merge and render of a 200 KB document, and a doc with a 1,000-revision
history, as ratios to a primary-key lookup in the same run.

    .venv/bin/python bench/docs.py [--kilobytes 200] [--revisions 1000] [--repeat 9]
                                   [--database-url postgresql+asyncpg://...]

Makes a doc of ``--kilobytes`` of Markdown prose (sections under headings, paragraphs, lists) and an
edit of it that changes a word in one paragraph of twenty, adds and drops paragraphs; and a second doc
whose history has ``--revisions`` revisions (each a small edit of a 20 KB text, as a wiki page grows).
Times, each the median of ``--repeat`` runs after two warm-ups:

- ``render``: content.docs.text.render (Markdown, the allowlist, heading ids) of the big doc;
- ``diff inline`` / ``diff side by side``: content.docs.diff of the big doc and its edit;
- ``merge``: content.docs.merge of two independent edits of the big doc (a stale save);
- ``history page``: pages.history + views.revision_lines (the 50 newest revisions, their authors);
- ``doc page``: views.doc_page of the long-history doc (head, sections, comments, tree);
- ``diff first..last``: two revisions read by number and diffed (the oldest against the newest);
- ``proposal view``: views.proposal_view of an edit proposed on revision 1 (merged onto the head).

The limit is the median of a primary-key lookup of one revision row (``session.get``) through the same
session machinery. SQLite in a temporary directory unless ``--database-url`` names an empty PostgreSQL
database (migrated here; use a throwaway one).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from actors import local  # noqa: E402
from actors.urls import Urls  # noqa: E402
from bench.lib.timing import load_rows, median_time  # noqa: E402
from content.docs import diff as docs_diff  # noqa: E402
from content.docs import merge as docs_merge  # noqa: E402
from content.docs import pages, proposals, views  # noqa: E402
from content.docs.text import render  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Doc, DocRevision, utcnow  # noqa: E402

URLS = Urls("https://bench.example")
_WORDS = ("the customer order invoice shipping refund team member project document section policy return "
          "account payment delivery support ticket answer question idea plan week month review change "
          "draft final version release feature issue report chart data export import setting").split()


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(2, 5)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def make_doc(rng: random.Random, size: int) -> str:
    """Markdown prose of about ``size`` characters: headings every few paragraphs, some lists."""
    parts: list[str] = []
    total = 0
    section = 0
    while total < size:
        if section == 0 or rng.random() < 0.15:
            section += 1
            parts.append(f"{'#' * rng.choice((1, 2, 2, 3))} Section {section}: {rng.choice(_WORDS)}")
        elif rng.random() < 0.1:
            parts.append("\n".join(f"- {_paragraph(rng)[:80]}" for _ in range(rng.randint(2, 5))))
        else:
            parts.append(_paragraph(rng))
        total += len(parts[-1]) + 2
    return "\n\n".join(parts) + "\n"


def edit(rng: random.Random, text: str, every: int = 20) -> str:
    """A word changed in one paragraph of ``every``, and a paragraph added or dropped now and then."""
    out = []
    for index, part in enumerate(text.split("\n\n")):
        if index % every == rng.randrange(every) and not part.startswith("#"):
            words = part.split(" ")
            words[rng.randrange(len(words))] = rng.choice(_WORDS).upper()
            part = " ".join(words)
        if rng.random() < 0.01:
            continue
        out.append(part)
        if rng.random() < 0.01:
            out.append(_paragraph(rng))
    return "\n\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kilobytes", type=int, default=200)
    parser.add_argument("--revisions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite+aiosqlite:///{tmp.name}/docs.sqlite"
    engine = create_engine(url)
    sessions = session_factory(engine)
    await migrate.upgrade(engine)
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    rng = random.Random(18)

    big = make_doc(rng, args.kilobytes * 1000)
    mine, theirs = edit(rng, big), edit(rng, big)
    started = time.perf_counter()
    async with sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="sam", password="bench password 18"))
        group = await local.create_group(session, local.NewGroup(username="shop", owner="sam"))
        author = URLS.person("sam")
        small = make_doc(rng, 20_000)
        doc, _ = await pages.create(session, URLS, group, author, URLS.base + "/objects/long", title="Handbook",
                                    body=small)
        doc_id, group_id = doc.id, group.id
    rows, text = [], small
    for number in range(2, args.revisions + 1):
        text = edit(rng, text, every=60)
        rows.append({"doc_id": doc_id, "number": number, "title": "Handbook", "body": text, "summary": f"Edit {number}",
                     "author_uri": URLS.person("sam"), "created_at": utcnow()})
    await load_rows(sessions, rows, DocRevision, chunk=200)
    async with sessions.begin() as session:
        doc = await session.get(Doc, doc_id)
        assert doc is not None
        doc.head = args.revisions
        first = await pages.revision(session, doc, 1)
        proposal = await proposals.propose(session, doc, URLS.person("sam"), base=1, title="Handbook",
                                           body=edit(rng, first.body), reason="Bench")
        proposal_id = proposal.id
    loaded = time.perf_counter() - started
    ids = list(range(1, args.revisions + 1))

    async def pk_lookup() -> Any:
        async with sessions() as session:
            return await session.get(DocRevision, rng.choice(ids))

    async def history_page() -> Any:
        async with sessions() as session:
            found = await session.get(Doc, doc_id)
            return await views.revision_lines(session, URLS, await pages.history(session, found))

    async def doc_page() -> Any:
        async with sessions() as session:
            found = await session.get(Doc, doc_id)
            group = await local.find_group(session, "shop")
            return await views.doc_page(session, URLS, group, found)

    async def first_last() -> Any:
        async with sessions() as session:
            found = await session.get(Doc, doc_id)
            return docs_diff.diff((await pages.revision(session, found, 1)).body,
                                  (await pages.revision(session, found, args.revisions)).body)

    async def proposal_view() -> Any:
        async with sessions() as session:
            found = await session.get(Doc, doc_id)
            group = await local.find_group(session, "shop")
            return await views.proposal_view(session, URLS, group, found, await proposals.find(session, found, proposal_id))

    async def pure(function: Any, *values: Any) -> Any:
        return function(*values)

    repeats = max(args.repeat * 10, 50)
    limit, _ = await median_time(pk_lookup, repeats)
    print(f"a {len(big) / 1000:,.0f} KB doc ({big.count(chr(10) + chr(10)) + 1:,} blocks); a doc of {args.revisions:,} "
          f"revisions of ~{len(small) / 1000:,.0f} KB; {backend}; Python {sys.version.split()[0]}; "
          f"loaded in {loaded:.1f} s (group {group_id})")
    print(f"limit: primary-key lookup of one revision {limit * 1e3:.2f} ms (median of {repeats})")
    cases = [
        ("render 200 KB", lambda: pure(render, big)),
        ("diff inline 200 KB", lambda: pure(lambda: docs_diff.diff(big, mine).inline_html())),
        ("diff side by side 200 KB", lambda: pure(docs_diff.side_by_side, big, mine)),
        ("merge 200 KB (stale save)", lambda: pure(docs_merge.merge, big, mine, theirs)),
        (f"history page ({args.revisions:,} revisions)", history_page),
        ("doc page (long history)", doc_page),
        (f"diff revision 1..{args.revisions:,}", first_last),
        ("proposal view (on rev 1)", proposal_view),
    ]
    for label, run in cases:
        elapsed, _ = await median_time(run, args.repeat)
        print(f"  {label:<34} {elapsed * 1e3:8.1f} ms = {elapsed / limit:7.1f} x pk")
    await engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
