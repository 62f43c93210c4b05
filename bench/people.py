"""People finder and full-text search over many profiles, as ratios to a primary-key lookup in the same run.

    .venv/bin/python bench/people.py [--profiles 100000] [--repeat 15]
                                     [--database-url postgresql+asyncpg://...]

Generates ``--profiles`` remote people (spread over 500 servers) with skills, soft skills and interests
drawn from Zipf-like distributions over a few hundred tags, places clustered around 200 towns (60 % city
precision, 25 % exact, 15 % hidden), 90 % discoverable, a headline and a ~30-word bio; then times
``people.finder.find_people`` (what ``GET /api/people`` runs) and ``people.search.search`` for:

- **skill**: the most common skill, and one of median frequency;
- **interest + radius**: a common interest within 50 km of a town (bounding box in SQL, haversine in Python);
- **free text**: two words of the bios (all must match), and a name;
- **combined**: two skills, words and a radius.

Each query runs ``--repeat`` times after two warm-ups; the median counts. The limit is the median of a
primary-key lookup of one profile through the same session machinery (``session.get``), measured in
the same run: "x pk" is how many such lookups one search costs. The database is SQLite in a temporary
directory unless ``--database-url`` names an empty PostgreSQL database (migrated here; use a throwaway one).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from multidict import MultiDict  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from actors.urls import Urls  # noqa: E402
from bench.lib.timing import load_rows, median_time  # noqa: E402
from people import finder, search, tags  # noqa: E402
from people.index import search_text  # noqa: E402
from storage import migrate  # noqa: E402
from storage.engine import create_engine, session_factory  # noqa: E402
from storage.models import Profile, ProfileTag, RemoteActor, utcnow  # noqa: E402

URLS = Urls("https://bench.example")
_SYLLABLES = "ka lo mi ra ne to su ba de fi go hu ja ki le mo na pe ri sa ti vu wa ye zo an el or is un".split()
_BASE_SKILLS = (
    "python carpentry welding plumbing accounting translation design photography cooking teaching gardening "
    "beekeeping electronics sewing knitting pottery writing editing nursing coaching bookkeeping marketing "
    "video editing sound engineering woodworking masonry roofing tiling painting drawing illustration "
    "javascript rust go sql statistics machine learning data analysis law mediation first aid driving"
).split(" ")


def _zipf_pick(rng: random.Random, items: list[str], count: int, s: float = 0.6) -> list[str]:
    weights = [1 / (rank + 1) ** s for rank in range(len(items))]
    picked: dict[str, None] = {}
    while len(picked) < count:
        picked.setdefault(rng.choices(items, weights)[0], None)
    return list(picked)


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts))


def _vocabulary(rng: random.Random) -> dict[str, list[str]]:
    skills = list(dict.fromkeys(_BASE_SKILLS + [f"{rng.choice(_BASE_SKILLS)} {_word(rng, 2)}" for _ in range(400)]))
    return {
        "skills": [tags.label(s) for s in skills][:400],
        "soft": [tags.label(f"{_word(rng, 2)} {w}") for w in ("listening", "patience", "leadership", "care")
                 for _ in range(15)],
        "interests": [tags.label(f"{_word(rng, 3)}") for _ in range(300)],
        "words": [_word(rng, rng.randint(2, 4)) for _ in range(5000)],
        "towns": [(rng.uniform(-55, 65), rng.uniform(-170, 175)) for _ in range(200)],
    }


def _profiles(rng: random.Random, vocab: dict[str, Any], count: int) -> tuple[list[dict], list[dict], list[dict]]:
    actors, profiles, tag_rows = [], [], []
    words = vocab["words"]
    for i in range(1, count + 1):
        domain = f"server{i % 500}.example"
        name = f"{_word(rng, 2).title()} {_word(rng, 3).title()}"
        username = f"user{i}"
        uri = f"https://{domain}/users/{username}"
        actors.append({"id": i, "uri": uri, "actor_type": "Person", "username": username, "domain": domain,
                       "display_name": name, "summary": "", "inbox": f"{uri}/inbox", "document": {},
                       "fetched_at": utcnow()})
        town = rng.choice(vocab["towns"])
        lat = max(-89.9, min(89.9, rng.gauss(town[0], 0.3)))
        lon = ((rng.gauss(town[1], 0.4) + 180) % 360) - 180
        precision = rng.choices(("city", "exact", "hidden"), (60, 25, 15))[0]
        point = None if precision == "hidden" else (round(lat, 1 if precision == "city" else 4),
                                                      round(lon, 1 if precision == "city" else 4))
        row = Profile(
            id=i, actor_uri=uri, remote_actor_id=i, kind="person", username=username, domain=domain, url=uri,
            name=name, about=" ".join(rng.choice(words) for _ in range(30)),
            headline=" ".join(rng.choice(words) for _ in range(4)),
            skills=_zipf_pick(rng, vocab["skills"], rng.randint(1, 6)),
            soft_skills=_zipf_pick(rng, vocab["soft"], rng.randint(0, 3)),
            interests=_zipf_pick(rng, vocab["interests"], rng.randint(1, 5)),
            skills_wanted=[], links=[], location_name=f"town {vocab['towns'].index(town)}",
            latitude=lat, longitude=lon, location_precision=precision,
            search_lat=point[0] if point else None, search_lon=point[1] if point else None,
            discoverable=rng.random() < 0.9, private=False, updated_at=utcnow(),
        )
        row.search_text = search_text(row)
        profiles.append({c.name: getattr(row, c.key) for c in Profile.__table__.columns})
        for kind, labels in (("skill", row.skills), ("soft_skill", row.soft_skills), ("interest", row.interests)):
            for label in labels:
                tag_rows.append({"profile_id": i, "kind": kind, "key": tags.key(label), "label": label})
    return actors, profiles, tag_rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true", help="query a database this script filled before")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite+aiosqlite:///{tmp.name}/people.sqlite"
    engine = create_engine(url)
    sessions = session_factory(engine)
    await migrate.upgrade(engine)
    backend = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"

    rng = random.Random(42)
    vocab = _vocabulary(rng)
    started = time.perf_counter()
    actors, profiles, tag_rows = _profiles(rng, vocab, args.profiles)
    generated = time.perf_counter() - started
    started = time.perf_counter()
    async with sessions() as session:
        present = await session.scalar(select(func.count()).select_from(Profile))
    if present and args.reuse:
        assert present == len(profiles), f"the database holds {present} profiles, not {len(profiles)}"
    else:
        await load_rows(sessions, actors, RemoteActor)
        await load_rows(sessions, profiles, Profile, chunk=2000)
        await load_rows(sessions, tag_rows, ProfileTag, chunk=10_000)
    # What autovacuum does after a bulk load on PostgreSQL (statistics, and the visibility map that lets
    # index-only scans skip the table); statistics on SQLite.
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    loaded = time.perf_counter() - started

    async with sessions() as session:
        counts = {kind: dict((await session.execute(
            select(ProfileTag.key, func.count()).where(ProfileTag.kind == kind).group_by(ProfileTag.key)
        )).all()) for kind in ("skill", "interest")}
    common_skill = max(counts["skill"], key=counts["skill"].get)
    rare_skill = sorted(counts["skill"], key=counts["skill"].get)[len(counts["skill"]) // 2]
    common_interest = max(counts["interest"], key=counts["interest"].get)
    label_of = {tags.key(label): label for label in vocab["skills"] + vocab["interests"]}
    # Anchor the place and the words on real profiles, so that every query finds someone.
    findable = [p for p in profiles if p["discoverable"] and p["search_lat"] is not None]
    someone = next(p for p in findable if label_of[common_interest] in p["interests"])
    skilled = next(p for p in findable if label_of[common_skill] in p["skills"] and len(p["skills"]) > 1)
    town = (someone["search_lat"], someone["search_lon"])
    about_words = profiles[7]["about"].split()
    bio_words = f"{about_words[0]} {about_words[1]}"
    a_name = profiles[1234 % len(profiles)]["name"]
    share = counts["skill"][common_skill] / args.profiles

    async def find(**params: Any) -> finder.PeopleResults:
        query = MultiDict([(k, str(v)) for k, v in params.items()])
        async with sessions() as session:
            return await finder.find_people(session, URLS, finder.parse_query(query), None)

    async def full_text(words: str) -> search.SearchResults:
        async with sessions() as session:
            return await search.search(session, URLS, words, None)

    async def pk_lookup() -> Any:
        async with sessions() as session:
            return await session.get(Profile, rng.randint(1, args.profiles))

    limit, _ = await median_time(pk_lookup, max(args.repeat * 10, 50))
    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        (f"skill (most common: {share:.0%} have it)", lambda: find(skill=label_of[common_skill])),
        (f"skill (median: {counts['skill'][rare_skill] / args.profiles:.2%})", lambda: find(skill=label_of[rare_skill])),
        ("two skills, ranked by matches", lambda: find(skill=f"{label_of[common_skill]},{label_of[rare_skill]}")),
        ("interest + 50 km radius", lambda: find(interest=label_of[common_interest],
                                                 near=f"{town[0]:.3f},{town[1]:.3f}", radius_km=50)),
        ("skill + 500 km radius", lambda: find(skill=label_of[common_skill],
                                               near=f"{town[0]:.3f},{town[1]:.3f}", radius_km=500)),
        ("free text, 2 bio words (people finder)", lambda: find(q=bio_words)),
        ("free text, a name (people finder)", lambda: find(q=a_name)),
        ("combined: 2 skills + a word + 200 km", lambda: find(
            skill=f"{label_of[common_skill]},{skilled['skills'][1]}", q=skilled["about"].split()[0],
            near=f"{skilled['search_lat']},{skilled['search_lon']}", radius_km=200)),
        ("search page (people, groups, posts)", lambda: full_text(bio_words)),
    ]
    print(f"{args.profiles:,} profiles on 500 servers, {len(tag_rows):,} tags; {backend}; Python "
          f"{sys.version.split()[0]}")
    print(f"generated in {generated:.1f} s, loaded (with full-text index) in {loaded:.1f} s")
    print(f"limit: primary-key lookup of one profile {limit * 1e3:.2f} ms (median of {max(args.repeat * 10, 50)})")
    for label, run in cases:
        elapsed, result = await median_time(run, args.repeat)
        if isinstance(result, finder.PeopleResults):
            total = f"{result.total:,}{'' if result.exact else '+'} people"
        else:
            total = f"{result.people.total:,} people, {result.groups.total:,} groups, {result.posts.total:,} posts"
        print(f"  {label:<40} {elapsed * 1e3:7.1f} ms = {elapsed / limit:5.0f} x pk   ({total}; first page)")
    await engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
