"""storage/batch.py: several units of work in one transaction, each undone alone when it fails (careful), or\nthe whole batch when one that wrote fails (optimistic)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import String, bindparam, event, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from madeopen.app import Services
from storage.batch import Batch, Poisoned, Sessions
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


class _Statements:
    """The statements the services' engine sends while in the block."""

    def __init__(self, services: Services) -> None:
        self.engine = services.engine.sync_engine
        self.seen: list[str] = []

    def __enter__(self) -> list[str]:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self.seen

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.seen.append(statement)


async def test_an_optimistic_batch_runs_no_savepoint_and_goes_on_after_what_wrote_nothing(services: Services) -> None:
    """Optimistic (issue #13, eighth pass): no SAVEPOINT; a unit or block that raises before writing anything
    (a handler's Drop after its checks read) needs no undo, and the batch commits the rest."""
    sessions = _sessions(services)
    with _Statements(services) as seen:
        async with Batch(sessions, savepoints=False) as batch:
            async with batch.unit():
                await _add(sessions, "one.example")  # flushed at the block's end
                async with sessions() as session:
                    assert await session.scalar(select(func.count()).select_from(DomainBlock)) == 1
            with pytest.raises(ValueError):
                async with batch.unit():
                    async with sessions.begin() as session:
                        await session.scalar(select(func.count()).select_from(DomainBlock))
                        raise ValueError("refused after reading")
            with pytest.raises(RuntimeError):
                async with batch.unit():
                    raise RuntimeError("a bug before any write")
            async with batch.unit():
                await _add(sessions, "two.example")
            assert not batch.poisoned
    assert not any("SAVEPOINT" in statement.upper() for statement in seen)
    assert await _blocked(services) == ["one.example", "two.example"]


async def test_an_optimistic_batch_is_poisoned_by_a_unit_that_wrote_and_raised(services: Services) -> None:
    """What a SAVEPOINT would have undone only the batch's rollback can: leaving it raises Poisoned and
    commits nothing, not even the units that had succeeded (the inbound worker runs them again)."""
    sessions = _sessions(services)
    with pytest.raises(Poisoned):
        async with Batch(sessions, savepoints=False) as batch:
            async with batch.unit():
                await _add(sessions, "one.example")
            with pytest.raises(RuntimeError):
                async with batch.unit():
                    await _add(sessions, "two.example")
                    raise RuntimeError("a bug after its transaction")
            assert batch.poisoned
    assert await _blocked(services) == []


async def test_an_optimistic_batch_is_poisoned_by_a_failed_write_its_caller_caught(services: Services) -> None:
    """A block whose flush fails (a duplicate) poisons the batch even when the code catches the
    IntegrityError and goes on, as a handler racing another worker does: on PostgreSQL the transaction is
    aborted from that statement on, and without the block's savepoint nothing else can undo it."""
    sessions = _sessions(services)
    await _add(sessions, "taken.example")
    with pytest.raises(Poisoned):
        async with Batch(sessions, savepoints=False) as batch:
            await _unit_catching_a_duplicate(batch, sessions)
            assert batch.poisoned
    assert await _blocked(services) == ["taken.example"]
    async with Batch(sessions) as batch:  # careful: the same unit commits what it should, as alone
        await _unit_catching_a_duplicate(batch, sessions)
    assert await _blocked(services) == ["one.example", "taken.example", "two.example"]


async def _unit_catching_a_duplicate(batch: Batch, sessions: Sessions) -> None:
    async with batch.unit():
        await _add(sessions, "one.example")
        with pytest.raises(IntegrityError):
            await _add(sessions, "taken.example")
        if not batch.poisoned:  # optimistic: nothing more to do (PostgreSQL would refuse it)
            await _add(sessions, "two.example")


async def _add(sessions: Sessions, domain: str) -> None:
    """A block written for a transaction of its own: it adds a row, its end writes it."""
    async with sessions.begin() as session:
        session.add(DomainBlock(domain=domain))


async def test_what_a_batch_runs_later_runs_once_at_its_commit_and_not_after_a_rollback(services: Services) -> None:
    """``Batch.later``: the rows of a statement run in one executemany just before the commit (a group's
    fan-out rows on SQLite, issue #13, eighth pass); a poisoned batch runs none of them."""
    sessions = _sessions(services)
    insert_block = insert(DomainBlock.__table__).from_select(
        ["domain", "severity", "reason", "created_at"],
        select(bindparam("domain", type_=String), literal("block"), literal(""), func.current_timestamp()),
    )
    with _Statements(services) as seen:
        async with Batch(sessions, savepoints=False) as batch:
            for domain in ("one.example", "two.example"):
                async with batch.unit():
                    batch.later(insert_block, {"domain": domain})
            async with sessions() as session:  # not yet
                assert await session.scalar(select(func.count()).select_from(DomainBlock)) == 0
    assert len([statement for statement in seen if statement.startswith("INSERT INTO domain_blocks")]) == 1
    assert await _blocked(services) == ["one.example", "two.example"]
    with pytest.raises(Poisoned):
        async with Batch(sessions, savepoints=False) as batch:
            batch.later(insert_block, {"domain": "three.example"})
            with pytest.raises(RuntimeError):
                async with batch.unit():
                    await _add(sessions, "four.example")
                    raise RuntimeError("a bug after its transaction")
    assert await _blocked(services) == ["one.example", "two.example"]
