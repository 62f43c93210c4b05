"""Sessions ended server-side (actors/browser_sessions.py, web/sessions.py): log-out, a password change and a
suspension end them wherever the cookie was copied to; a member sees their sessions and ends the others."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update
from yarl import URL

from actors import browser_sessions
from madeopen.app import Services
from madeopen.workers import Pruner, retention
from storage.models import BrowserSession, utcnow
from tests.support.web_ui import PASSWORD, UI, create_person, person, second_ui, ui  # noqa: F401  (fixtures)

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def _copy_cookies(source: UI, target: UI) -> None:
    """What someone who got hold of the cookie (a shared computer, malware, a backup) does with it."""
    url = source.client.make_url("/")
    cookies = source.client.session.cookie_jar.filter_cookies(url)
    target.client.session.cookie_jar.update_cookies(cookies, URL(str(url)))


async def _rows(services: Services) -> list[BrowserSession]:
    async with services.sessions() as session:
        return list(await session.scalars(select(BrowserSession).order_by(BrowserSession.id)))


async def test_log_out_ends_the_session_for_a_copied_cookie_too(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    _copy_cookies(ui, second_ui)
    assert await second_ui.logged_in_as() == "cleo"  # the copy works while the session lives
    response = await ui.post("/logout", {}, form_page="/settings/profile")
    assert response.status == 303
    assert await second_ui.logged_in_as() is None
    assert await _rows(services) == []


async def test_suspension_ends_every_session_for_good(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "boss", admin=True)
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    await second_ui.log_in("boss")
    for action in ("suspend", "unsuspend"):
        response = await second_ui.post(f"/admin/users/cleo/{action}", {}, form_page="/admin/users")
        assert response.status == 303
    # Unsuspended, cleo can log in again, but the session from before the suspension is over.
    assert await ui.logged_in_as() is None
    assert [row.actor_id for row in await _rows(services)] == [(await _actor_id(services, "boss"))]


async def _actor_id(services: Services, name: str) -> int:
    actor = await person(services, name)
    assert actor is not None
    return actor.id


async def test_a_password_change_ends_the_other_sessions(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    await second_ui.log_in("cleo")
    fields = {"current_password": PASSWORD, "password": "a new password", "password_confirm": "a new password"}
    response = await ui.post("/settings/password", fields, form_page="/settings/password")
    assert response.status == 303
    assert "Other sessions have been logged out" in await ui.page("/settings/password")
    assert await ui.logged_in_as() == "cleo"
    assert await second_ui.logged_in_as() is None
    assert len(await _rows(services)) == 1


async def test_the_sessions_page_lists_them_and_ends_another(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    ui.client.session.headers["User-Agent"] = FIREFOX
    second_ui.client.session.headers["User-Agent"] = CHROME
    await ui.log_in("cleo")
    await second_ui.log_in("cleo")
    page = await ui.page("/settings/sessions")
    assert 'aria-current="page">Sessions</a>' in page
    assert "Firefox 133 on Linux" in page and "Chrome 131 on Windows" in page and "From 127.0.0.1" in page
    current = page.index("This browser")
    assert page.index("Firefox 133 on Linux") < current < page.index("Chrome 131 on Windows")
    ends = re.findall(r'action="/settings/sessions/(\d+)/end"', page)
    assert len(ends) == 1  # this browser's own session is ended by logging out, not here
    response = await ui.post(f"/settings/sessions/{ends[0]}/end", {}, form_page="/settings/sessions")
    assert response.status == 303 and response.headers["Location"] == "/settings/sessions"
    assert "That session has ended." in await ui.page("/settings/sessions")
    assert await second_ui.logged_in_as() is None
    assert await ui.logged_in_as() == "cleo"


async def test_end_all_other_sessions(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    await second_ui.log_in("cleo")
    await second_ui.log_in("cleo")  # logging in again: a new session (the first stays until it is ended)
    response = await ui.post("/settings/sessions/end-others", {}, form_page="/settings/sessions")
    assert response.status == 303
    assert "2 other sessions ended." in await ui.page("/settings/sessions")
    assert await second_ui.logged_in_as() is None and await ui.logged_in_as() == "cleo"


async def test_nobody_ends_another_persons_session(ui: UI, second_ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await create_person(services, "mallory")
    await ui.log_in("cleo")
    await second_ui.log_in("mallory")
    [cleos] = [row.id for row in await _rows(services) if row.actor_id == await _actor_id(services, "cleo")]
    response = await second_ui.post(f"/settings/sessions/{cleos}/end", {}, form_page="/settings/sessions")
    assert response.status == 303
    assert "That session had already ended." in await second_ui.page("/settings/sessions")
    assert await ui.logged_in_as() == "cleo"
    response = await ui.post(f"/settings/sessions/{cleos}/end", {}, form_page="/settings/sessions")
    assert response.status == 400  # one's own current session: log out instead
    assert await ui.logged_in_as() == "cleo"


async def test_last_seen_is_written_now_and_then_not_on_every_request(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    [row] = await _rows(services)
    a_minute_ago = utcnow() - timedelta(minutes=1)
    async with services.sessions.begin() as session:
        await session.execute(update(BrowserSession).values(last_seen_at=a_minute_ago, address="192.0.2.9"))
    await ui.page("/settings/profile")
    [row] = await _rows(services)
    assert row.address == "192.0.2.9"  # seen a minute ago: nothing written
    async with services.sessions.begin() as session:
        await session.execute(update(BrowserSession).values(last_seen_at=utcnow() - browser_sessions.SEEN_EVERY * 2))
    await ui.page("/settings/profile")
    [row] = await _rows(services)
    assert row.address == "127.0.0.1"  # due: last seen, address and browser noted
    assert browser_sessions._utc(row.last_seen_at) > utcnow() - timedelta(minutes=1)


async def test_a_session_idle_two_weeks_is_over_and_pruned(ui: UI, services: Services) -> None:
    await create_person(services, "cleo")
    await ui.log_in("cleo")
    async with services.sessions.begin() as session:
        await session.execute(
            update(BrowserSession).values(last_seen_at=utcnow() - browser_sessions.IDLE_LIMIT - timedelta(minutes=1))
        )
    assert await ui.logged_in_as() is None
    settings = services.settings
    assert await Pruner(services.sessions, retention(settings.queue_retention, settings.dead_retention)).run_once() >= 1
    assert await _rows(services) == []
