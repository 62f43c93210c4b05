"""The log-in rate limit on both database backends: per account name from one address, per client address,
a slowdown (never a lock) per account name from anywhere, reset on success, unknown names treated like real
ones, parallel guesses bounded, old attempts pruned."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from actors import accounts, local, login_limits
from actors.login_limits import LIMITS, LoginLimits, TooManyAttempts
from madeopen.app import Services
from storage.models import LocalActor, LoginAttempt, utcnow

PASSWORD = "correct horse battery"
WRONG = "wrong password!"
SMALL = LoginLimits(per_account_and_address=3, per_address=5, window=timedelta(minutes=15))


async def _person(services: Services, name: str) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username=name, password=PASSWORD))


async def _seed(services: Services, username: str, address: str, count: int, at: datetime) -> None:
    """Failed attempts recorded earlier (cheaper than ``count`` argon2 checks)."""
    async with services.sessions.begin() as session:
        session.add_all(
            LoginAttempt(account_key=login_limits.account_key(username), address=address, attempted_at=at)
            for _ in range(count)
        )


async def _attempts(services: Services, username: str) -> int:
    key = login_limits.account_key(username)
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).where(LoginAttempt.account_key == key)) or 0


async def _log_in(
    services: Services, username: str, password: str, address: str = "192.0.2.1", *,
    limits: LoginLimits = LIMITS, now: datetime | None = None, waits: list[float] | None = None,
) -> LocalActor:
    async def sleep(seconds: float) -> None:  # the slowdown, recorded instead of waited
        assert waits is not None, f"an unexpected slowdown of {seconds} s"
        waits.append(seconds)

    return await login_limits.log_in(
        services.sessions, username, password, address, limits=limits, now=now, sleep=sleep
    )


async def test_ten_failures_from_one_address_lock_that_address_out_for_fifteen_minutes(services: Services) -> None:
    await _person(services, "cleo")
    now = utcnow()
    await _seed(services, "cleo", "192.0.2.1", 9, now - timedelta(minutes=5))
    with pytest.raises(accounts.LoginRefused):  # the 10th failure is an ordinary wrong password
        await _log_in(services, "cleo", WRONG, now=now, waits=[])

    with pytest.raises(TooManyAttempts) as refused:  # now even the right password waits, from there
        await _log_in(services, "cleo", PASSWORD, now=now + timedelta(seconds=1))
    assert refused.value.status == 429
    assert refused.value.retry_after == 10 * 60 - 1  # the oldest of the ten leaves the window then
    assert refused.value.message == "Too many failed attempts; try again in 10 minutes."

    # Refused attempts do not extend the lock, and the password is not even looked at.
    with pytest.raises(TooManyAttempts) as again:
        await _log_in(services, "cleo", WRONG, now=now + timedelta(minutes=9, seconds=30))
    assert again.value.retry_after == 30 and again.value.message.endswith("in 1 minute.")
    assert await _attempts(services, "cleo") == 10

    actor = await _log_in(services, "cleo", PASSWORD, now=now + timedelta(minutes=10, seconds=1), waits=[])
    assert actor.username == "cleo"
    assert await _attempts(services, "cleo") == 0  # success reset the counter


async def test_guesses_from_anyone_never_lock_the_owner_out(services: Services) -> None:
    """Twelve wrong passwords for the admin's name from one address (issue #11, 6): that address is held
    back, the admin logging in from their own address is not, only slowed a little."""
    await _person(services, "cleo")
    now = utcnow()
    await _seed(services, "cleo", "198.51.100.7", 12, now - timedelta(minutes=1))
    with pytest.raises(TooManyAttempts):
        await _log_in(services, "cleo", PASSWORD, "198.51.100.7", now=now)
    waits: list[float] = []
    actor = await _log_in(services, "cleo", PASSWORD, "192.0.2.1", now=now, waits=waits)
    assert actor.username == "cleo"
    assert waits == [3.0]  # 12 failures on the name: 10 are free, each further one adds a second
    assert await _attempts(services, "cleo") == 12  # the guesser's failures still count against the guesser


async def test_guesses_spread_over_many_addresses_are_slowed_down(services: Services) -> None:
    await _person(services, "cleo")
    now = utcnow()
    waits: list[float] = []
    for n, failures in enumerate((9, 1, 5, 100)):
        await _seed(services, "cleo", f"203.0.113.{n}", failures, now - timedelta(minutes=1))
        with pytest.raises(accounts.LoginRefused):
            await _log_in(services, "cleo", WRONG, f"198.51.100.{n}", now=now, waits=waits)
    # 9 others: no wait; then 9+1+1 = 11 others: 2 s; then 17: 8 s; at most 10 s however many.
    assert waits == [2.0, 8.0, 10.0]
    assert LIMITS.slowdown(0) == LIMITS.slowdown(9) == timedelta(0)


async def test_success_resets_the_account_counter(services: Services) -> None:
    await _person(services, "cleo")
    for _ in range(2):
        # Without the reset the second round's failures would add up to the limit.
        await _seed(services, "cleo", "192.0.2.1", SMALL.per_account_and_address - 1, utcnow())
        assert (await _log_in(services, "CLEO", PASSWORD, limits=SMALL)).username == "cleo"
        assert await _attempts(services, "cleo") == 0


async def test_unknown_names_are_limited_like_real_ones(services: Services) -> None:
    """The answers for a real and a made-up name are the same at every step: nobody learns which exists."""
    await _person(services, "cleo")
    answers: dict[str, list[tuple[int, str]]] = {"cleo": [], "nobody": []}
    waits: dict[str, list[float]] = {"cleo": [], "nobody": []}
    for n, (name, answer) in enumerate(answers.items()):
        here, there = f"203.0.113.{n}", f"203.0.113.{n + 10}"  # the per-address counter is not at work
        await _seed(services, name, here, SMALL.per_account_and_address - 1, utcnow())
        await _seed(services, name, "198.51.100.7", 10, utcnow())  # from elsewhere: slows, never locks
        for address in (here, here, there):
            with pytest.raises((accounts.LoginRefused, TooManyAttempts)) as refused:
                await _log_in(services, name, WRONG, address, limits=SMALL, waits=waits[name])
            answer.append((refused.value.status, refused.value.message))
    assert answers["cleo"] == answers["nobody"] and waits["cleo"] == waits["nobody"] == [3.0, 4.0]
    assert [status for status, _ in answers["cleo"]] == [400, 429, 400]


async def test_failures_on_any_name_count_per_address(services: Services) -> None:
    await _person(services, "cleo")
    await _seed(services, "guess", login_limits.client_address("2001:db8:1:2::1"), SMALL.per_address - 1, utcnow())
    with pytest.raises(accounts.LoginRefused):  # a name nobody has counts for the address too
        await _log_in(services, "nobody", WRONG, "2001:db8:1:2::2", limits=SMALL)
    with pytest.raises(TooManyAttempts):  # the same /64 is the same client
        await _log_in(services, "cleo", PASSWORD, "2001:db8:1:2:ffff::1", limits=SMALL)
    # Another address is not held back, and cleo's own counter was never touched.
    assert (await _log_in(services, "cleo", PASSWORD, "2001:db8:1:3::1", limits=SMALL)).username == "cleo"


async def test_parallel_guesses_never_get_more_than_the_limit(services: Services) -> None:
    """Each attempt is committed before it is counted, so guesses in flight together see each other."""
    await _person(services, "cleo")
    results = await asyncio.gather(
        *(_log_in(services, "cleo", WRONG, "203.0.113.9", limits=SMALL) for _ in range(8)),
        return_exceptions=True,
    )
    assert all(isinstance(result, (accounts.LoginRefused, TooManyAttempts)) for result in results)
    checked = sum(type(result) is accounts.LoginRefused for result in results)
    assert checked <= SMALL.per_account_and_address
    assert await _attempts(services, "cleo") == checked  # refused attempts leave no row


async def test_prune_deletes_only_attempts_past_the_window(services: Services) -> None:
    now = utcnow()
    await _seed(services, "old", "192.0.2.1", 3, now - LIMITS.window - timedelta(seconds=1))
    await _seed(services, "recent", "192.0.2.1", 2, now - LIMITS.window + timedelta(seconds=30))
    assert await login_limits.prune(services.sessions, now=now) == 3
    assert (await _attempts(services, "old"), await _attempts(services, "recent")) == (0, 2)


def test_names_and_addresses_are_keyed_as_log_in_looks_them_up() -> None:
    assert login_limits.account_key("Cleo ") == login_limits.account_key("@cleo") == login_limits.account_key("cleo")
    assert login_limits.account_key("cleo") != login_limits.account_key("cleo2")
    assert "cleo" not in login_limits.account_key("cleo")  # never stored in clear
    assert login_limits.client_address("192.0.2.1") == "192.0.2.1"
    assert login_limits.client_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert login_limits.client_address("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert login_limits.client_address(None) == "unknown"
