"""storage/changes.py: the counters move on committed writes to their tables, and only then."""

from __future__ import annotations

from sqlalchemy import select, text, update

from madeopen.app import Services
from storage import changes
from storage.engine import create_engine
from storage.models import DomainBlock, LocalActor


async def test_reads_and_other_tables_leave_the_counters_alone(services: Services) -> None:
    before = {topic: changes.counter(topic) for topic in (changes.ACTORS, changes.DOMAIN_POLICY)}
    async with services.sessions.begin() as session:
        await session.scalars(select(LocalActor))
        await session.execute(text("UPDATE hosts SET failure_days = failure_days WHERE 1 = 0"))
    assert {topic: changes.counter(topic) for topic in before} == before


async def test_a_committed_write_moves_its_topic(services: Services) -> None:
    actors, policy = changes.counter(changes.ACTORS), changes.counter(changes.DOMAIN_POLICY)
    async with services.sessions.begin() as session:
        await session.execute(update(LocalActor).values(display_name="x").where(LocalActor.id == -1))
        assert changes.counter(changes.ACTORS) == actors  # not before the commit
    assert changes.counter(changes.ACTORS) > actors
    assert changes.counter(changes.DOMAIN_POLICY) == policy
    async with services.sessions.begin() as session:  # the ORM's INSERT too
        session.add(DomainBlock(domain="blocked.example", severity="block"))
    assert changes.counter(changes.DOMAIN_POLICY) > policy


async def test_another_engine_on_the_same_change_files_is_seen(services: Services) -> None:
    """A second process of the node (here a second engine on the same data directory) announces its writes
    through the change files; their time is the second half of the counter."""
    other = create_engine(services.settings.database_url, changes_dir=services.settings.data_dir / "changes")
    try:
        before = changes.counter(changes.ACTORS, services.engine)
        async with other.begin() as conn:
            await conn.execute(update(LocalActor).values(display_name="x").where(LocalActor.id == -1))
        after = changes.counter(changes.ACTORS, services.engine)
        assert after[1] > before[1]
    finally:
        await other.dispose()


async def test_only_the_written_table_counts_not_those_a_write_reads(services: Services) -> None:
    """An INSERT … SELECT (a group's fan-out reads the members' actors to write delivery rows) changes the
    table it inserts into, not those it reads: the remote actors' memo must survive it (issue #13)."""
    keys, pages = changes.counter(changes.REMOTE_KEYS), changes.counter(changes.PAGES)
    async with services.sessions.begin() as session:
        await session.execute(text(
            "INSERT INTO hosts (host, failure_days, unavailable) "
            "SELECT uri, 0, false FROM remote_actors WHERE 1 = 0"
        ))
        await session.execute(text("UPDATE hosts SET failure_days = 0 WHERE host IN (SELECT uri FROM remote_actors)"))
    assert changes.counter(changes.REMOTE_KEYS) == keys
    assert changes.counter(changes.PAGES) == pages
    async with services.sessions.begin() as session:
        await session.execute(text("UPDATE remote_actors SET username = username WHERE 1 = 0"))
    assert changes.counter(changes.REMOTE_KEYS) > keys


async def test_a_with_statement_counts_the_tables_its_inserts_write_not_those_it_reads(services: Services) -> None:
    """PostgreSQL writes a group's activities and their fan-out rows in one statement (an INSERT … RETURNING
    in a CTE, issue #13, eighth pass) that reads the memberships: the members' memo must survive it, the
    tables its INSERTs name count, and the delivery worker is woken for the queue table wherever it stands."""
    statement = (
        "WITH published AS (INSERT INTO activities (uri) VALUES ('x') RETURNING activities.id) "
        "INSERT INTO fanouts (activity_id) SELECT published.id FROM published "
        "WHERE EXISTS (SELECT * FROM memberships WHERE memberships.state = 'accepted')"
    )
    topics, queues = changes._marks(statement)
    assert changes.MEMBERSHIPS not in topics and changes.PAGES in topics  # activities: an outbox page
    assert queues == {"fanouts"}
    assert changes._marks("WITH m AS (SELECT 1) SELECT * FROM memberships FOR UPDATE")[1] == set()
    gone = changes._marks("WITH gone AS (DELETE FROM memberships WHERE 1 = 0 RETURNING id) SELECT * FROM gone")[0]
    assert changes.MEMBERSHIPS in gone
