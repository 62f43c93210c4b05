"""The log-in form under the rate limit: 429 with Retry-After and a clear message, the same for every name,
and a successful log-in starting the count again. Earlier failures are seeded as rows (each real one costs
an argon2 check); the limit itself is tested in tests/actors/test_login_limits.py."""

from __future__ import annotations

import re

from actors import login_limits
from madeopen.app import Services
from storage.models import LoginAttempt, utcnow
from tests.support.web_ui import PASSWORD, UI, create_person, ui  # noqa: F401  (fixtures)

ELSEWHERE = "198.51.100.7"
HERE = "127.0.0.1"  # where the test client connects from (request.remote)


async def _seed(services: Services, username: str, address: str, count: int) -> None:
    async with services.sessions.begin() as session:
        session.add_all(
            LoginAttempt(account_key=login_limits.account_key(username), address=address, attempted_at=utcnow())
            for _ in range(count)
        )


def _error(page: str) -> str:
    found = re.search(r'<p id="login-error">(.*?)</p>', page)
    assert found, page[:2000]
    return found.group(1)


async def test_too_many_failures_answer_429_with_retry_after(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await _seed(services, "cleo", HERE, login_limits.LIMITS.per_account_and_address - 1)
    response = await ui.post("/login", {"username": "cleo", "password": "wrong password"})
    assert response.status == 400 and "do not match" in _error(await response.text())

    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD})
    page = await response.text()
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert _error(page) == "Too many failed attempts; try again in 15 minutes."
    assert 'value="cleo"' in page and PASSWORD not in page  # the form is there to try again later
    assert await ui.logged_in_as() is None


async def test_real_and_unknown_names_are_held_back_alike(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    answers = []
    for name in ("cleo", "nobody"):
        await _seed(services, name, HERE, login_limits.LIMITS.per_account_and_address)
        response = await ui.post("/login", {"username": name, "password": PASSWORD})
        answers.append((response.status, response.headers.get("Retry-After"), _error(await response.text())))
    assert answers[0] == answers[1] and answers[0][0] == 429


async def test_failures_from_the_client_address_count_for_every_name(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    # The test client connects from 127.0.0.1 (request.remote).
    for n in range(login_limits.LIMITS.per_address):
        await _seed(services, f"guess{n}", "127.0.0.1", 1)
    response = await ui.post("/login", {"username": "cleo", "password": PASSWORD})
    assert response.status == 429 and "Too many failed attempts" in _error(await response.text())


async def test_logging_in_starts_the_count_again(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    for _ in range(2):
        # Without the reset, the second round would reach the limit.
        await _seed(services, "cleo", HERE, login_limits.LIMITS.per_account_and_address - 1)
        await ui.log_in("cleo")
        response = await ui.post("/logout", {}, form_page="/settings/profile")
        assert response.status == 303


async def test_the_owner_logs_in_while_someone_else_guesses_their_password(ui: UI, services: Services) -> None:
    """Twelve wrong passwords typed by anyone elsewhere do not keep the admin out (issue #11, 6)."""
    await create_person(services, "cleo", admin=True)
    await _seed(services, "cleo", ELSEWHERE, 10)  # exactly at the slowdown: one second
    await ui.log_in("cleo")
    assert await ui.logged_in_as() == "cleo"
