"""The home page: a visitor sees the node's public groups, never its private ones."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from actors import local
from madeopen.app import Services

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
