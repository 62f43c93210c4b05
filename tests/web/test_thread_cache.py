"""A logged-in member's thread page is kept in parts (web/thread_cache.py), and still changes as soon as what
it shows changes, whichever process of the node changed it: a new reply, an edit, someone else's vote, the
member's own vote pressed. Members who share the kept articles each see their own rights and their own
CSRF token in every form.

The other members act through a second web process's services and application on the same database (its
own engine, as in tests/web/test_page_cache.py); the member reads from the first.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import CookieJar
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Object
from tests.support.web_ui import UI, garden_with_member, make_ui, ui  # noqa: F401  (fixtures)
from tests.web.test_page_cache import _raw, _text, member_ui  # noqa: F401  (a fixture: a second web process)
from web import thread_cache

BASE = "https://node.test"


def _article(page: str, post_id: int) -> str:
    found = re.search(rf'<article [^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert found, f"no article of post {post_id}"
    return found.group(0)


async def _kept(ui: UI, path: str, viewer: str) -> str:
    """The member's page, read until its values are kept (the first view may bring the people finder's
    index up to date, a write that makes its own reading stale), then once more: from what is kept."""
    await ui.page(path)
    first = await ui.page(path)
    kept = ui.client.app[thread_cache.VALUES].get((BASE + path, f"{BASE}/users/{viewer}"))
    assert kept is not None, f"{path} was not kept for {viewer}"
    second = await ui.page(path)
    assert second == first
    return second


async def _post_id(services: Services, text: str) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Object.id).where(Object.content.contains(text)))
    assert found is not None, text
    return found


async def _thread(member_ui: UI, services: Services) -> tuple[str, int]:
    await member_ui.log_in("ada")
    started = await member_ui.post("/groups/garden/new", {"title": "Tomato blight", "body": "Leaves turn brown."},
                                  form_page="/groups/garden/new")
    assert started.status == 303, await started.text()
    return started.headers["Location"], await _post_id(services, "Leaves turn brown.")


async def test_a_member_sees_replies_edits_and_votes_at_once(ui: UI, member_ui: UI, services: Services) -> None:
    await garden_with_member(services)
    path, thread_id = await _thread(member_ui, services)
    await ui.log_in("bea")
    assert "No replies yet." in await _kept(ui, path, "bea")

    response = await member_ui.post(f"/posts/{thread_id}/reply", {"body": "Try copper spray."}, form_page=path)
    assert response.status == 303
    page = _text(await _kept(ui, path, "bea"))
    assert "Try copper spray." in page and "1 reply" in page
    reply_id = await _post_id(services, "Try copper spray.")

    response = await member_ui.post(f"/posts/{reply_id}/edit", {"title": "", "body": "Copper works."}, form_page=path)
    assert response.status == 303
    page = _text(await _kept(ui, path, "bea"))
    assert "Copper works." in page and "Try copper spray." not in page and "edited" in page

    response = await member_ui.post(f"/posts/{thread_id}/vote", {"vote": "like"}, form_page=path)
    assert response.status == 303
    article = _article(await _kept(ui, path, "bea"), thread_id)
    assert 'aria-pressed="false">Like <span class="count">1</span>' in article  # ada's vote, not bea's

    response = await ui.post(f"/posts/{thread_id}/vote", {"vote": "like"}, form_page=path)
    assert response.status == 303
    article = _article(await _kept(ui, path, "bea"), thread_id)
    assert 'value="undo"' in article and 'aria-pressed="true">Like <span class="count">2</span>' in article

    response = await member_ui.post(f"/posts/{reply_id}/delete", {}, form_page=path)
    assert response.status == 303
    assert "Copper works." not in _text(await _kept(ui, path, "bea"))


@pytest.fixture
async def same_app_ui(ui: UI) -> AsyncIterator[UI]:
    """Another browser on the application ``ui`` uses (its kept values and articles)."""
    jar = CookieJar(unsafe=True, treat_as_secure_origin=[ui.client.server.make_url("/")])
    async with TestClient(ui.client.server, cookie_jar=jar) as client:
        yield UI(client)


async def test_members_sharing_kept_articles_see_their_own_rights_and_tokens(
    ui: UI, same_app_ui: UI, member_ui: UI, services: Services
) -> None:
    """bea and ada read through the same application: the articles one's view kept serve the other's."""
    await garden_with_member(services)
    path, thread_id = await _thread(member_ui, services)
    await ui.log_in("bea")
    await same_app_ui.log_in("ada")
    response = await ui.post(f"/posts/{thread_id}/reply", {"body": "Bea's own reply."}, form_page=path)
    assert response.status == 303
    reply_id = await _post_id(services, "Bea's own reply.")

    for _ in range(2):  # the second round: every article from what the first kept
        for who, browser in (("bea", ui), ("ada", same_app_ui)):
            page = await _kept(browser, path, who)
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page)) == {token}
            mine, theirs = (reply_id, thread_id) if who == "bea" else (thread_id, reply_id)
            assert f"/posts/{mine}/edit" in _article(page, mine)
            assert f"/posts/{theirs}/edit" not in _article(page, theirs)
            assert (f"/posts/{theirs}/delete" in _article(page, theirs)) is (who == "ada")  # the owner moderates
            assert (f"/report?post={theirs}" in _article(page, theirs))
            assert f"/report?post={mine}" not in _article(page, mine)

    # A form of a kept article carries this member's own token, and works.
    page = await ui.page(path)
    form = re.search(rf'<form method="post" action="/posts/{thread_id}/vote">\s*<input [^>]*value="([^"]+)"',
                     _article(page, thread_id))
    assert form is not None
    response = await ui.post(f"/posts/{thread_id}/vote", {"vote": "like"}, token=form.group(1))
    assert response.status == 303
    assert 'aria-pressed="true">Like' in _article(await ui.page(path), thread_id)


async def test_a_change_nobody_here_saw_shows_within_the_ttl(
    settings: Settings, services: Services, member_ui: UI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write no process of this node announced (another machine on the same database) is not counted:
    what is kept expires after its TTL."""
    await garden_with_member(services)
    path, thread_id = await _thread(member_ui, services)
    monkeypatch.setattr(thread_cache, "TTL_SECONDS", 1.5)  # the views below take well under that, even on a busy machine
    async for member in make_ui(services):
        await member.log_in("bea")
        assert "Leaves turn brown." in await _kept(member, path, "bea")
        async with services.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await _raw(raw, services, f"UPDATE objects SET content = '<p>Renamed.</p>' WHERE id = {thread_id}")
        assert "Leaves turn brown." in await member.page(path)  # still what is kept
        await asyncio.sleep(1.6)
        assert "Renamed." in await member.page(path)
