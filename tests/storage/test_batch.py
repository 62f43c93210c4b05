"""storage/batch.py: several units of work in one transaction, each undone alone when it fails."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from madeopen.app import Services
from storage.batch import Batch, Sessions
from storage.models import DomainBlock


async def _blocked(services: Services) -> list[str]:
    async with services.sessions() as session:
        return sorted(await session.scalars(select(DomainBlock.domain)))


def _sessions(services: Services) -> Sessions:
    assert isinstance(services.sessions, Sessions)
    return services.sessions


async def test_units_commit_together_and_a_failing_unit_is_undone_alone(services: Services) -> None:
    sessions = _sessions(services)
    async with Batch(sessions) as batch:
        async with batch.unit():
            async with sessions.begin() as session:  # code written for its own transaction
                session.add(DomainBlock(domain="one.example"))
        with pytest.raises(RuntimeError):
            async with batch.unit():
                async with sessions.begin() as session:
                    session.add(DomainBlock(domain="two.example"))
                raise RuntimeError("a bug after its transaction")
        async with batch.unit():
            async with sessions.begin() as session:
                session.add(DomainBlock(domain="three.example"))
            with pytest.raises(ValueError):
                async with sessions.begin() as session:  # its own transaction rolls back, the unit goes on
                    session.add(DomainBlock(domain="four.example"))
                    await session.flush()
                    raise ValueError("refused")
        async with sessions() as session:  # the batch's task reads its uncommitted work
            assert await session.scalar(select(func.count()).select_from(DomainBlock)) == 2
        assert await _other_task_count(services) == 0  # nothing is committed before the batch ends
    assert await _blocked(services) == ["one.example", "three.example"]


async def _other_task_count(services: Services) -> int:
    async def count() -> int:
        async with services.sessions() as session:  # another task: a session of its own
            return int(await session.scalar(select(func.count()).select_from(DomainBlock)) or 0)

    # On SQLite a reader beside the writer sees the last commit (WAL) without waiting for the lock.
    return await asyncio.create_task(count())


async def test_a_batch_that_raises_commits_nothing(services: Services) -> None:
    sessions = _sessions(services)
    with pytest.raises(RuntimeError):
        async with Batch(sessions) as batch:
            async with batch.unit():
                async with sessions.begin() as session:
                    session.add(DomainBlock(domain="one.example"))
            raise RuntimeError("the batch fails")
    assert await _blocked(services) == []
    async with sessions.begin() as session:  # and the maker is back to sessions of their own
        session.add(DomainBlock(domain="after.example"))
    assert await _blocked(services) == ["after.example"]
