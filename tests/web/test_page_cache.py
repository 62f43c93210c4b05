"""Anonymous pages kept rendered (web/page_cache.py) change as soon as what they show changes, whichever
process of the node changed it; a logged-in member never gets them, and every visitor gets their own CSRF
token in the forms of a kept page.

The members act through a second web process's services and application on the same database (its own
engine, as in tests/web/test_inbox_caches.py); the anonymous visitor reads from the first.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, DummyCookieJar
from sqlalchemy import select

from content import front_page
from madeopen.app import Services, build_services, prepare
from madeopen.settings import Settings
from storage import changes
from storage.models import Base, Object
from tests.support.web_ui import HTML, UI, garden_with_member, make_ui, ui  # noqa: F401  (fixtures)
from web import page_cache

BASE = "https://node.test"


@pytest.fixture
async def member_ui(settings: Settings, services: Services) -> AsyncIterator[UI]:
    """A browser on a second web process of the node (``services`` migrated the database)."""
    built = build_services(settings)
    await prepare(built, auto_migrate=False)
    async for value in make_ui(built):
        yield value
    await built.close()


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _cached(ui: UI, path: str) -> str:
    """The anonymous page, read until kept (the first view after a change may bring the people finder's
    index up to date, a write that makes its own rendering stale), then once more: from the cache."""
    await ui.page(path)
    first = await ui.page(path)
    assert ui.client.app[page_cache.PAGES].get((path, HTML)) is not None, f"{path} was not kept"
    second = await ui.page(path)
    assert _without_tokens(second) == _without_tokens(first)
    return second


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


async def _post_id(services: Services, text: str) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Object.id).where(Object.content.contains(text)))
    assert found is not None, text
    return found


def test_every_table_is_either_shown_on_pages_or_not() -> None:
    """A new table must be sorted: shown on some anonymous page (a write drops the kept pages) or not."""
    tables = set(Base.metadata.tables)
    assert tables - set(changes.PAGE_TABLES) - changes.PAGE_BLIND_TABLES == set()
    assert set(changes.PAGE_TABLES) & changes.PAGE_BLIND_TABLES == set()


async def test_replies_edits_votes_and_deletions_show_at_once(ui: UI, member_ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await member_ui.log_in("bea")
    started = await member_ui.post("/groups/garden/new", {"title": "Tomato blight", "body": "Leaves turn brown."},
                                   form_page="/groups/garden/new")
    assert started.status == 303, await started.text()
    path = started.headers["Location"]
    thread_id = await _post_id(services, "Leaves turn brown.")
    assert "0 likes" in _text(await _cached(ui, path))

    response = await member_ui.post(f"/posts/{thread_id}/reply", {"body": "Try copper spray."}, form_page=path)
    assert response.status == 303
    page = _text(await _cached(ui, path))
    assert "Try copper spray." in page and "1 reply" in page

    response = await member_ui.post(f"/posts/{thread_id}/edit", {"title": "Blight, solved", "body": "Copper works."},
                                    form_page=path)
    assert response.status == 303
    page = await _cached(ui, path)
    assert "<h1>Blight, solved</h1>" in page and "Copper works." in page

    response = await member_ui.post(f"/posts/{thread_id}/vote", {"vote": "like"}, form_page=path)
    assert response.status == 303
    assert "1 like" in _text(await _cached(ui, path))

    reply_id = await _post_id(services, "Try copper spray.")
    response = await member_ui.post(f"/posts/{reply_id}/delete", {}, form_page=path)
    assert response.status == 303
    assert "Try copper spray." not in _text(await ui.page(path))

    group_page = _text(await _cached(ui, "/groups/garden"))
    assert "Blight, solved" in group_page


async def test_group_settings_show_at_once(ui: UI, member_ui: UI, services: Services) -> None:
    await garden_with_member(services)
    assert "Community Garden" in _text(await _cached(ui, "/groups/garden"))
    await member_ui.log_in("ada")
    settings = {"title": "Garden Club", "description": "We grow **beans**.", "rules": "Be kind.", "kind": "project",
                "default_kind": "idea", "thread_starters": "members", "visibility": "public"}
    response = await member_ui.post("/groups/garden/settings", settings, form_page="/groups/garden/settings")
    assert response.status == 303, await response.text()
    page = await _cached(ui, "/groups/garden")
    assert "Garden Club" in _text(page) and "<strong>beans</strong>" in page


async def test_a_member_never_gets_the_anonymous_page(ui: UI, member_ui: UI, services: Services) -> None:
    await garden_with_member(services)
    anonymous = await _cached(ui, "/groups/garden")
    assert "Log in</a> to join this group" in anonymous
    await ui.log_in("bea")  # the same browser, now logged in
    page = await ui.page("/groups/garden")
    assert "You are a member" in page and "Log in</a> to join" not in page
    # Another visitor still gets the anonymous page, and nobody's name in its header.
    await member_ui.page("/")
    assert "You are a member" not in await member_ui.page("/groups/garden")


async def test_each_visitor_gets_their_own_working_token(ui: UI, member_ui: UI, services: Services) -> None:
    """The kept group page has a form (joining from another server): each visitor's copy carries the token
    of their own session, which their POST must carry."""
    await garden_with_member(services)
    tokens = []
    for visitor in (ui, member_ui, ui):
        page = await visitor.page("/groups/garden")
        tokens.append(re.search(r'name="csrf_token" value="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert tokens[0] == tokens[2] != tokens[1]
    fields = {"uri": f"{BASE}/groups/garden", "name": "Community Garden", "handle": "nobody@invalid.example"}
    refused = await ui.post("/remote-follow", fields, token=tokens[1])  # another visitor's token
    assert refused.status == 403
    accepted = await member_ui.post("/remote-follow", fields, token=tokens[1])
    assert accepted.status != 403, await accepted.text()


async def test_a_change_nobody_here_saw_shows_within_the_ttl(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write no process of this node announced (another machine on the same database) is not counted:
    the page expires after its TTL."""
    await garden_with_member(services)
    monkeypatch.setattr(page_cache, "TTL_SECONDS", 0.3)
    async for visitor in make_ui(services):
        assert "Community Garden" in await _cached(visitor, "/groups/garden")
        async with services.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await _raw(raw, services, "UPDATE local_actors SET display_name = 'Renamed' WHERE username = 'garden'")
        assert "Community Garden" in await visitor.page("/groups/garden")  # still the kept page
        await asyncio.sleep(0.4)
        assert "Renamed" in await visitor.page("/groups/garden")


async def _raw(raw: Any, services: Services, statement: str) -> None:
    driver = raw.driver_connection
    await driver.execute(statement)
    if services.settings.database_url.startswith("sqlite"):
        await driver.commit()


async def test_visitors_arriving_while_a_page_renders_wait_for_that_render(
    ui: UI, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of cookie-less visitors to a page nobody has kept (just changed, or expired) renders it once;
    each still gets the page with a working token of their own."""
    await garden_with_member(services)
    renders: list[int] = []
    original = front_page.front_page
    release = asyncio.Event()

    async def slow_front_page(*args: Any, **kwargs: Any) -> Any:
        renders.append(1)
        await release.wait()  # the others arrive while this one is still rendering
        return await original(*args, **kwargs)

    monkeypatch.setattr(front_page, "front_page", slow_front_page)
    async with ClientSession(cookie_jar=DummyCookieJar(), headers={"Accept": HTML}) as visitors:
        url = ui.client.make_url("/")
        answers = [asyncio.ensure_future(_page(visitors, url)) for _ in range(4)]
        while not renders:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        release.set()
        pages = await asyncio.gather(*answers)
    assert len(renders) == 1
    assert all("Community Garden" in page for page in pages)
    tokens = {re.search(r'name="csrf_token" value="([^"]+)"', page).group(1) for page in pages}
    assert len(tokens) == len(pages)


async def _page(client: ClientSession, url: Any) -> str:
    async with client.get(url) as response:
        assert response.status == 200
        return await response.text()
