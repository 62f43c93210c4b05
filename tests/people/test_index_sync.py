"""people.index.sync on pages: free while nothing was queued since it last looked, and at once aware of
what another process of the node queued (storage/changes.py change files)."""

from __future__ import annotations

from sqlalchemy import func, select, update

from madeopen.app import Services
from people import index
from storage.engine import create_engine, session_factory
from storage.models import LocalActor, Profile, SearchPending
from tests.people.conftest import member


async def _pending(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(SearchPending)) or 0)


async def test_another_process_queues_a_change_and_the_next_sync_applies_it(services: Services) -> None:
    await member(services, "ann", skills="python")
    await index.sync(services.sessions, services.urls)
    await index.sync(services.sessions, services.urls)  # seen empty: no query now
    assert await _pending(services) == 0
    other = create_engine(services.settings.database_url, changes_dir=services.settings.data_dir / "changes")
    try:
        async with session_factory(other).begin() as session:  # a second web process renames ann
            await session.execute(update(LocalActor).where(LocalActor.username == "ann").values(display_name="Annie"))
    finally:
        await other.dispose()
    assert await _pending(services) == 1  # the trigger queued her

    await index.sync(services.sessions, services.urls)

    assert await _pending(services) == 0
    async with services.sessions() as session:
        assert await session.scalar(select(Profile.name).where(Profile.username == "ann")) == "Annie"
