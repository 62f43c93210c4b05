"""The board of a big group (issue #12): its first page for each sort and filter, as ratios to a
primary-key lookup in the same run.

    .venv/bin/python bench/board.py [--threads 20000] [--votes 200000] [--repeat 15]
                                    [--database-url postgresql+asyncpg://...]

Generates one local group with ``--threads`` board threads (half ideas, a quarter concerns, a quarter
questions; statuses spread as a busy product board has them: most open, some under review, planned, in
progress, done or declined, a third of the questions solved; an official response date on every thread
whose status moved) by 2,000 remote authors, a few replies each on one thread in fifty, and ``--votes``
votes (80 % likes) spread over the last 180 days (so about 4 % fall in the trending window of 7 days),
with the counters the application keeps (like_count, dislike_count, net_votes). Then times
``content.board.board`` (what ``GET /groups/<name>/board`` runs: the counts per kind and status, one
page of 30 threads, their authors and reply counts, the total for the page numbers) for every sort
(top, newest, trending, recently answered) with no filter, a kind filter, a status filter and both, and a
search.

Each query runs ``--repeat`` times after two warm-ups; the median counts. The limit is the median of a
primary-key lookup of one thread through the same session machinery (``session.get``), measured in the
same run. The database is SQLite in a temporary directory unless ``--database-url`` names an empty
PostgreSQL database (migrated here; use a throwaway one).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from actors import local  # noqa: E402
from actors.urls import Urls  # noqa: E402
from bench.lib.timing import load_rows, median_time  # noqa: E402
from content import board  # noqa: E402
from people import index  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Object, Reaction, RemoteActor, utcnow  # noqa: E402

URLS = Urls("https://bench.example")
AUTHORS = 2_000
IDEA_STATUSES = (("open", 55), ("under_review", 12), ("planned", 10), ("in_progress", 8), ("done", 8),
                 ("declined", 5), ("duplicate", 2))
_WORDS = ("dark mode export csv invoice login mobile app search filter slow crash payment refund "
          "shipping tracking account password email newsletter report chart calendar sync offline "
          "language translation accessibility keyboard contrast font printer api webhook").split()


def _rows(rng: random.Random, group_id: int, threads: int, votes: int) -> tuple[list[dict], list[dict], list[dict]]:
    now = utcnow()
    authors = [{"id": i, "uri": f"https://server{i % 100}.example/users/u{i}", "actor_type": "Person",
                "username": f"u{i}", "domain": f"server{i % 100}.example", "display_name": f"User {i}",
                "summary": "", "inbox": f"https://server{i % 100}.example/inbox", "document": {},
                "fetched_at": now} for i in range(1, AUTHORS + 1)]
    objects: list[dict] = []
    statuses, weights = zip(*IDEA_STATUSES)
    for i in range(1, threads + 1):
        kind = rng.choices(("idea", "concern", "question"), (2, 1, 1))[0]
        status = ("solved" if rng.random() < 0.33 else "unsolved") if kind == "question" else rng.choices(statuses, weights)[0]
        published = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        answered = published + timedelta(days=rng.randint(0, 30)) if status not in ("open", "unsolved") else None
        author = rng.choice(authors)["uri"]
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 7)))
        objects.append({
            "id": i, "uri": f"https://bench.example/objects/t{i}", "local": False, "type": "Page",
            "author_uri": author, "group_id": group_id, "audience_uri": URLS.group("shop"),
            "in_reply_to_uri": None, "context_uri": f"https://bench.example/objects/t{i}", "name": title,
            "content": f"<p>{title} please</p>", "public": True, "document": {}, "published": published,
            "last_activity_at": published, "deleted": False, "locked": False, "reply_count": 0,
            "like_count": 0, "dislike_count": 0, "net_votes": 0, "kind": kind, "status": status,
            "answered_at": answered, "official": False,
        })
    replies = []
    next_id = threads + 1
    for thread in objects[::50]:
        for _ in range(3):
            replies.append({**thread, "id": next_id, "uri": f"{thread['uri']}/r{next_id}", "kind": None,
                            "status": None, "answered_at": None, "in_reply_to_uri": thread["uri"],
                            "name": "", "author_uri": rng.choice(authors)["uri"]})
            next_id += 1
    reactions = []
    for i in range(votes):
        thread = objects[min(int(rng.paretovariate(1.2)) - 1, threads - 1) if rng.random() < 0.5
                         else rng.randrange(threads)]
        kind = "like" if rng.random() < 0.8 else "dislike"
        thread["like_count" if kind == "like" else "dislike_count"] += 1
        thread["net_votes"] += 1 if kind == "like" else -1
        reactions.append({"actor_uri": f"https://voters{i % 300}.example/users/v{i}", "object_uri": thread["uri"],
                          "kind": kind, "activity_uri": None,
                          "created_at": now - timedelta(minutes=rng.randint(0, 180 * 24 * 60))})
    return authors, objects + replies, reactions


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=20_000)
    parser.add_argument("--votes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite+aiosqlite:///{tmp.name}/board.sqlite"
    engine = create_engine(url)
    sessions = session_factory(engine)
    await migrate.upgrade(engine)
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"

    rng = random.Random(12)
    async with sessions.begin() as session:
        group = await local.create_group(session, local.NewGroup(username="shop"))
        group_id = group.id
    started = time.perf_counter()
    authors, objects, reactions = _rows(rng, group_id, args.threads, args.votes)
    await load_rows(sessions, authors, RemoteActor)
    await load_rows(sessions, objects, Object, chunk=2000)
    await load_rows(sessions, reactions, Reaction, chunk=10_000)
    async with sessions() as session:  # SQLite: fill the posts' full-text table the triggers queued
        while await session.scalar(text("SELECT count(*) FROM search_pending")):
            await session.rollback()
            await index.sync(sessions, URLS)
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    loaded = time.perf_counter() - started
    where = board.Where(group_id=group_id)

    async def page(**params: str) -> board.Board:
        async with sessions() as session:
            return await board.board(session, URLS, where, board.parse_query(params))

    async def pk_lookup() -> Any:
        async with sessions() as session:
            return await session.get(Object, rng.randint(1, args.threads))

    repeats = max(args.repeat * 10, 50)
    limit, _ = await median_time(pk_lookup, repeats)
    filters: list[tuple[str, dict[str, str]]] = [
        ("all", {}), ("kind=idea", {"kind": "idea"}), ("status=planned", {"status": "planned"}),
        ("question+unsolved", {"kind": "question", "status": "unsolved"}),
    ]
    cases = [(f"{sort:<9} {name}", {**params, "sort": sort}) for sort in board.SORTS for name, params in filters]
    cases.append(("top       search 'dark mode'", {"q": "dark mode"}))
    cases.append(("new       search 'invoice' page 3", {"q": "invoice", "sort": "new", "page": "3"}))
    cases.append(("new       page 50", {"sort": "new", "page": "50"}))
    cases.append(("top       page 300", {"page": "300"}))
    print(f"{args.threads:,} board threads, {len(objects) - args.threads:,} replies, {args.votes:,} votes; "
          f"{backend}; Python {sys.version.split()[0]}; loaded in {loaded:.1f} s")
    print(f"limit: primary-key lookup of one thread {limit * 1e3:.2f} ms (median of {repeats})")
    for label, params in cases:
        elapsed, result = await median_time(lambda params=params: page(**params), args.repeat)
        print(f"  {label:<32} {elapsed * 1e3:7.1f} ms = {elapsed / limit:5.1f} x pk   "
              f"({result.total:,} threads, {len(result.items)} shown)")
    await engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
