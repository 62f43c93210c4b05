"""What the thread-page tests share: a group with three people, its threads and objects, hostile content,
and the check that a page holds nothing that runs (tests/web/test_threads_ui.py, test_remote_threads_ui.py).

Test modules import the ``settings`` and ``peer`` fixtures from here (noqa F401): private addresses allowed,
as the content peer listens on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from actors import local
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Membership, Object
from tests.inbox_outbox.content_support import ContentPeer
from tests.support.web_ui import UI, create_person

BASE = "https://node.test"
AS2 = "application/activity+json"
HOSTILE_MARKDOWN = (
    "Hello <script>window.pwned=1</script> there\n\n"
    "[click me](javascript:window.pwned=2) and <img src=x onerror=\"window.pwned=3\">\n\n"
    "<a href=\"javascript:alert(1)\" onclick=\"alert(2)\">raw link</a>"
)
HOSTILE_HTML = (
    '<p>Remote <b>bold</b> words<script>window.pwned=4</script></p>'
    '<img src="x" onerror="window.pwned=5"><a href="javascript:window.pwned=6">js link</a>'
    '<a href="https://example.org/ok" onclick="window.pwned=7" style="color:red">fine link</a>'
    '<iframe src="https://evil.example/"></iframe><svg onload="window.pwned=8"></svg>'
    '<form action="/logout" method="post"><button>Log out</button></form>'
)



@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_addresses=True)  # the peer is on 127.0.0.1


@pytest.fixture
async def peer() -> AsyncIterator[ContentPeer]:
    async with ContentPeer() as running:
        yield running


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def setup_garden(services: Services, *, private: bool = False) -> None:
    for name in ("ada", "bea", "cy"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", private=private,
                                                         title="Community Garden"))
        group = await local.find_group(session, "garden")
        bea = await local.find_person(session, "bea")
        session.add(Membership(group_id=group.id, local_actor_id=bea.id, role="member", state="accepted"))


async def object_at(services: Services, path: str) -> Object:
    async with services.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == BASE + path.split("#")[0]))
    assert found is not None, path
    return found


async def all_objects(services: Services) -> list[Object]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Object).order_by(Object.id)))


async def start_thread(ui: UI, title: str = "Tomato blight", body: str = "Leaves **turn brown**.") -> str:
    response = await ui.post("/groups/garden/new", {"title": title, "body": body})
    assert response.status == 303, await response.text()
    location = response.headers["Location"]
    assert location.startswith("/objects/")
    return location




async def object_by_uri(services: Services, uri: str) -> Object:
    async with services.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == uri))
    assert found is not None, uri
    return found


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(page: str) -> None:
    """No element of the page can run script or restyle or submit on the attacker's behalf: no script,
    iframe, svg or object element, no image but ours, no on* handler, no javascript: URL, no style
    attribute; the only form to /logout is the header's. (Escaped text such as ``&lt;script&gt;`` is fine: it is text.)"""
    parser = _Tags()
    parser.feed(page)
    for tag, attrs in parser.tags:
        if tag == "script":  # ours only, by address (web/static): never one the content brought
            assert (dict(attrs).get("src") or "").startswith("/static/"), attrs
            continue
        assert tag not in ("iframe", "svg", "object", "embed"), tag
        if tag == "img":  # ours only (avatars, the logo, images uploaded here)
            assert (dict(attrs).get("src") or "").startswith(("/", f"{BASE}/media/")), attrs
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert name != "style", tag
            assert not (value or "").strip().lower().startswith(("javascript:", "data:")), (tag, name, value)
    # The header's (twice: the wide row and the phone menu, base.html), never one the content brought.
    logout_forms = [attrs for tag, attrs in parser.tags if tag == "form" and ("action", "/logout") in attrs]
    assert len(logout_forms) <= 2 and all(("class", "inline-form") in attrs for attrs in logout_forms), logout_forms


