"""storage/memo.py: a burst of requests for a missing entry loads it once (single flight), and a failed or
unkept load leaves every waiter to load for itself, so nobody is served something stale or left hanging."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from storage import changes
from storage.memo import Memo

TOPIC = changes.DOMAIN_POLICY  # any topic: these tests write nothing, so its counter stands still


async def _burst(memo: Memo[str], key: str, load_once: asyncio.Event, calls: list[str]) -> list[str]:
    async def load() -> str:
        calls.append(key)
        await load_once.wait()  # the first load is still under way while the others ask
        return f"value of {key}"

    tasks = [asyncio.ensure_future(memo.get_or_load(key, load)) for _ in range(5)]
    await asyncio.sleep(0.01)
    load_once.set()
    return list(await asyncio.gather(*tasks))


async def test_concurrent_misses_of_one_key_load_it_once() -> None:
    memo: Memo[str] = Memo(TOPIC, 60.0)
    calls: list[str] = []
    assert await _burst(memo, "a", asyncio.Event(), calls) == ["value of a"] * 5
    assert calls == ["a"]
    assert await memo.get_or_load("a", _never) == "value of a"  # kept for later callers too


async def test_other_keys_do_not_wait_for_a_load() -> None:
    memo: Memo[str] = Memo(TOPIC, 60.0)
    blocked = asyncio.Event()
    pending = asyncio.ensure_future(memo.get_or_load("slow", _gated("slow", blocked)))
    await asyncio.sleep(0)
    assert await asyncio.wait_for(memo.get_or_load("quick", _quick), 1) == "quick"
    blocked.set()
    assert await pending == "slow"


async def test_a_failed_load_leaves_the_waiters_to_load_for_themselves() -> None:
    memo: Memo[str] = Memo(TOPIC, 60.0)
    started = asyncio.Event()
    release = asyncio.Event()

    async def failing() -> str:
        started.set()
        await release.wait()
        raise RuntimeError("database gone")

    first = asyncio.ensure_future(memo.get_or_load("k", failing))
    await started.wait()
    waiter = asyncio.ensure_future(memo.get_or_load("k", _quick))
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(RuntimeError):
        await first
    assert await asyncio.wait_for(waiter, 1) == "quick"


async def test_a_cancelled_waiter_does_not_cancel_the_load() -> None:
    memo: Memo[str] = Memo(TOPIC, 60.0)
    release = asyncio.Event()
    loader = asyncio.ensure_future(memo.get_or_load("k", _gated("loaded", release)))
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(memo.get_or_load("k", _never))
    await asyncio.sleep(0)
    waiter.cancel()
    release.set()
    assert await loader == "loaded"
    assert await memo.get_or_load("k", _never) == "loaded"


def _gated(value: str, release: asyncio.Event) -> Callable[[], Awaitable[str]]:
    async def load() -> str:
        await release.wait()
        return value

    return load


async def _quick() -> str:
    return "quick"


async def _never() -> str:
    raise AssertionError("loaded again although a value was kept")
