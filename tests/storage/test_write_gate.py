"""storage/write_gate.py: SQLite's writers of one process take turns; the inbox's queue writer (urgent: its
POSTs wait for their 202) goes before the worker's batches waiting, but never shuts them out."""

from __future__ import annotations

import asyncio

from storage.write_gate import WriteGate


async def _take(gate: WriteGate, name: str, order: list[str], urgent: bool = False) -> None:
    async with gate.turn(urgent=urgent):
        order.append(name)
        await asyncio.sleep(0)


async def _queue(gate: WriteGate, order: list[str], names: list[tuple[str, bool]]) -> None:
    """Start each writer while the gate is held, in this order, then let them all run."""
    holder = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.turn():
            holder.set()
            await release.wait()

    held = asyncio.create_task(hold())
    await holder.wait()
    tasks = []
    for name, urgent in names:
        tasks.append(asyncio.create_task(_take(gate, name, order, urgent)))
        await asyncio.sleep(0)  # queued in this order
    assert gate.wanted
    release.set()
    await asyncio.gather(held, *tasks)
    assert not gate.wanted


async def test_an_urgent_writer_goes_before_others_waiting_and_the_rest_in_arrival_order() -> None:
    order: list[str] = []
    await _queue(WriteGate(), order, [("batch 1", False), ("batch 2", False), ("queue writer", True)])
    assert order == ["queue writer", "batch 1", "batch 2"]


async def test_a_stream_of_urgent_writers_lets_a_waiting_batch_through() -> None:
    order: list[str] = []
    writers = [("batch", False)] + [(f"queue writer {n}", True) for n in range(WriteGate.URGENT_IN_A_ROW + 2)]
    await _queue(WriteGate(), order, writers)
    assert order.index("batch") == WriteGate.URGENT_IN_A_ROW


async def test_a_writer_cancelled_while_waiting_does_not_keep_the_turn() -> None:
    gate = WriteGate()
    order: list[str] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.turn():
            await release.wait()

    held = asyncio.create_task(hold())
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(_take(gate, "cancelled", order, urgent=True))
    after = asyncio.create_task(_take(gate, "after", order))
    await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(held, after)
    assert order == ["after"]
    await _take(gate, "later", order)  # the turn is free again
    assert order == ["after", "later"]
