"""storage/changes.py: the counters move on committed writes to their tables, and only then."""

from __future__ import annotations

from sqlalchemy import select, text, update

from madeopen.app import Services
from storage import changes
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
