"""The composers (new thread, reply, edit): Preview without JavaScript keeps the text and posts nothing;
POST /preview for the live preview; what the sanitiser drops is told in the preview (issue #16)."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select

from actors import local
from madeopen.app import Services
from storage.models import Membership, Object
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

BASE = "https://node.test"
POST_TEXT = "## Plan\n\n| bed | crop |\n|---|---|\n| 1 | leeks |\n\n[the group](/groups/garden) [file](ftp://x.example/f)"


async def _setup(services: Services) -> None:
    for name in ("ada", "bea"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Community Garden"))
        group = await local.find_group(session, "garden")
        bea = await local.find_person(session, "bea")
        session.add(Membership(group_id=group.id, local_actor_id=bea.id, role="member", state="accepted"))


async def _count(services: Services) -> int:
    async with services.sessions() as session:
        return len(list(await session.scalars(select(Object))))


def _preview(page: str, box: str) -> str:
    found = re.search(rf'<section class="preview" id="{box}-preview"[^>]*>(.*?)</section>', page, re.DOTALL)
    assert found, f"no preview box {box}"
    return found.group(1)


async def test_preview_a_new_thread_without_javascript(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("bea")
    form = await ui.page("/groups/garden/new")
    assert 'name="preview"' in form and '<script src="/static/composer.js" defer></script>' in form
    assert 'id="body-preview"' in form and "hidden" in _preview_tag(form, "body")

    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": POST_TEXT, "preview": "1"})
    page = await response.text()
    assert response.status == 200
    assert await _count(services) == 0  # nothing posted
    assert 'value="Beds"' in page and html.escape(POST_TEXT, quote=False) in page  # everything kept
    shown = _preview(page, "body")
    assert "<h2>Plan</h2>" in shown and "<td>leeks</td>" in shown
    assert f'href="{BASE}/groups/garden"' in shown  # a local relative link keeps working
    assert "The link to “ftp://x.example/f” was removed" in html.unescape(shown)  # told, not silently lost

    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": POST_TEXT})
    assert response.status == 303
    page = await ui.page(response.headers["Location"])
    assert "<td>leeks</td>" in page and f'href="{BASE}/groups/garden"' in page


def _preview_tag(page: str, box: str) -> str:
    found = re.search(rf'<section class="preview" id="{box}-preview"[^>]*>', page)
    assert found
    return found.group(0)


async def test_preview_a_reply_and_an_edit(ui: UI, services: Services) -> None:
    await _setup(services)
    await ui.log_in("bea")
    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": "first"})
    path = response.headers["Location"]
    async with services.sessions() as session:
        root = await session.scalar(select(Object).where(Object.uri == BASE + path))
    assert root is not None

    response = await ui.post(f"/posts/{root.id}/reply", {"body": "- [x] dug\n- [ ] sown", "preview": "1"},
                             form_page=path)
    page = await response.text()
    assert response.status == 200 and await _count(services) == 1
    shown = _preview(page, f"reply-{root.id}")
    assert "<li>☑ dug</li>" in shown and "<li>☐ sown</li>" in shown
    assert "- [x] dug\n- [ ] sown</textarea>" in page

    response = await ui.post(f"/posts/{root.id}/edit", {"title": "Beds", "body": "~~first~~ second", "preview": "1"},
                             form_page=path)
    page = await response.text()
    assert response.status == 200 and "<s>first</s> second" in _preview(page, "body")
    async with services.sessions() as session:
        unchanged = await session.get(Object, root.id)
        assert unchanged is not None and unchanged.source == "first"


async def test_live_preview_endpoint(ui: UI, services: Services) -> None:
    await _setup(services)
    response = await ui.client.post("/preview", json={"body": "x"})
    assert response.status == 401  # members only
    await ui.log_in("bea")
    headers = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json"}
    response = await ui.client.post("/preview", json={"body": "# Hi <b>\n\n[f](irc://x)"}, headers=headers)
    answer = await response.json()
    assert response.status == 200, answer
    assert answer["html"].startswith("<h1>Hi &lt;b&gt;</h1>")
    assert len(answer["notes"]) == 2 and "irc://x" in answer["notes"][0]
    response = await ui.client.post("/preview", json={"text": 1}, headers=headers)
    assert response.status == 400 and "body" in (await response.json())["error"]
    # A cross-site page cannot use it with the member's cookie (web/csrf.py).
    response = await ui.client.post("/preview", data=json.dumps({"body": "x"}),
                                    headers={"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"})
    assert response.status == 403
