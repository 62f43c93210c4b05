"""The home page: a visitor sees the node's public groups, never its private ones."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient

from actors import local
from inbox_outbox.services import posts
from madeopen.app import Services
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def _home(client: TestClient) -> str:
    resp = await client.get("/", headers={"Accept": BROWSER})
    assert resp.status == 200
    assert resp.content_type == "text/html"
    return await resp.text()


async def test_home_lists_public_groups_only(client: TestClient, services: Services) -> None:
    page = await _home(client)
    assert "Test Node" in page  # the node's name, not the software's
    assert "gardeners" not in page

    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="gardeners", title="Garden people"))
        await local.create_group(session, local.NewGroup(username="bakery", kind="business", title="Corner Bakery"))
        await local.create_group(session, local.NewGroup(username="board", private=True, title="Secret Board"))
    page = await _home(client)
    assert 'href="https://node.test/groups/gardeners"' in page and "Garden people" in page
    assert "@gardeners@node.test" in page
    assert "Corner Bakery" in page and "business" in page
    assert "Secret Board" not in page and "board@node.test" not in page and "/groups/board" not in page


async def test_group_titles_are_shown_as_text_not_markup(client: TestClient, services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_group(
            session, local.NewGroup(username="tricky", title='<script>alert("x")</script> & friends')
        )
    page = await _home(client)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(" in page and "&amp; friends" in page


async def test_front_page_latest_activity_with_counts(ui: UI, services: Services) -> None:
    """Latest activity across the public groups, and a member's private ones once logged in (issue #16)."""
    await create_person(services, "ada")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Garden"))
        await local.create_group(session, local.NewGroup(username="crew", owner="ada", title="Crew room", private=True))
        ada = await local.find_person(session, "ada")
        garden = await local.find_group(session, "garden")
        crew = await local.find_group(session, "crew")
        beans = await posts.create_post(session, services.urls, ada, garden, "Beans", "When?")
        await posts.reply(session, services.urls, ada, beans.uri, "May.")
        await posts.create_post(session, services.urls, ada, crew, "Payroll", "Secret.")
    page = await ui.page("/")
    assert "Latest activity" in page and ">Beans</a>" in page and "Payroll" not in page
    assert re.search(r'in <a href="https://node.test/groups/garden">Garden</a>\s*· by ada\s*· 1 reply', page)
    assert "1 member · 1 thread" in page and "Crew room" not in page
    await ui.log_in("ada")
    page = await ui.page("/")
    assert ">Payroll</a>" in page and "Garden" in page and "(private)" in page
    assert page.index(">Payroll</a>") < page.index(">Beans</a>")  # the most recently active first
