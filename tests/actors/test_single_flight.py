"""Single flight (actors.single_flight): concurrent callers of one key share one run, its result and its
failure; a cancelled caller does not cancel the run the others wait for; a finished run is forgotten."""

from __future__ import annotations

import asyncio

import pytest

from actors.single_flight import SingleFlight


class Work:
    """Counts its runs; each run waits until released, then returns or raises."""

    def __init__(self, fail: bool = False) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.fail = fail

    async def __call__(self) -> str:
        self.runs += 1
        await self.release.wait()
        if self.fail:
            raise LookupError("peer said no")
        return f"result {self.runs}"


async def _started(flight: SingleFlight[str], key: str) -> None:
    while not flight.in_flight(key):
        await asyncio.sleep(0)


async def test_concurrent_callers_share_one_run() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    callers = [asyncio.ensure_future(flight.run("k", work)) for _ in range(6)]
    await _started(flight, "k")
    work.release.set()
    assert await asyncio.gather(*callers) == ["result 1"] * 6
    assert work.runs == 1 and not flight.in_flight("k")
    assert await flight.run("k", work) == "result 2"  # finished runs are not a cache


async def test_every_caller_gets_the_failure() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work(fail=True)
    callers = [asyncio.ensure_future(flight.run("k", work)) for _ in range(3)]
    await _started(flight, "k")
    work.release.set()
    for outcome in await asyncio.gather(*callers, return_exceptions=True):
        assert isinstance(outcome, LookupError)
    assert work.runs == 1


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    first = asyncio.ensure_future(flight.run("k", work))
    await _started(flight, "k")
    second = asyncio.ensure_future(flight.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    work.release.set()
    assert await second == "result 1" and work.runs == 1


async def test_different_keys_run_separately() -> None:
    flight: SingleFlight[str] = SingleFlight()
    work = Work()
    work.release.set()
    assert await asyncio.gather(flight.run("a", work), flight.run("b", work)) == ["result 1", "result 2"]
