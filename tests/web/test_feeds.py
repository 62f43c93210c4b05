"""Atom and RSS feeds (web/routes/feeds.py), read back with feedparser as a feed reader would: a group's
threads, its board by kind and status, a thread's replies, a person's public posts, one's notifications
by secret token; private groups show nothing without a valid token; bad input is a clear 400/404."""

from __future__ import annotations

import html
import re
from typing import Any

import feedparser
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors import account_admin, feed_tokens, local
from inbox_outbox.services import posts
from madeopen.app import Services
from tests.inbox_outbox.content_support import group, join_local
from storage.models import FeedToken
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)

HOSTILE = 'Look <script>alert(1)</script><img src=x onerror="alert(2)"> **here**'


async def _thread(services: Services, author: str, group_name: str, title: str, body: str,
                  kind: str = "discussion") -> Any:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        where = await local.find_group(session, group_name)
        return await posts.create_post(session, services.urls, who, where, title, body, kind)


async def _reply(services: Services, author: str, parent: str, body: str) -> Any:
    async with services.sessions.begin() as session:
        who = await local.find_person(session, author)
        return await posts.reply(session, services.urls, who, parent, body)


async def _token(services: Services, name: str) -> str:
    async with services.sessions.begin() as session:
        return await feed_tokens.regenerate(session, (await local.find_person(session, name)).id)


async def _feed(client: TestClient, path: str, fmt: str = "atom", status: int = 200) -> Any:
    response = await client.get(path)
    body = await response.read()
    assert response.status == status, f"GET {path}: {response.status} {body[:500]!r}"
    if status != 200:
        return body.decode()
    expected = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    assert response.content_type == expected
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.bozo_exception
    assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
    return parsed


@pytest.fixture
async def garden(services: Services) -> None:
    """alice owns the public group garden and the private group vault; dave is in vault, erin in neither."""
    for name in ("alice", "dave", "erin"):
        await create_person(services, name)
    await group(services, "garden", owner="alice")
    await group(services, "vault", private=True, owner="alice")
    await join_local(services, "vault", "dave")


@pytest.mark.parametrize("fmt", ["atom", "rss"])
async def test_group_feed_lists_threads_newest_first_with_sanitised_html(
        client: TestClient, services: Services, garden: None, fmt: str) -> None:
    first = await _thread(services, "alice", "garden", "Seeds", "First post")
    second = await _thread(services, "dave", "garden", "Tools", HOSTILE)
    await _reply(services, "dave", first.uri, "a reply is not a thread")
    parsed = await _feed(client, f"/feeds/groups/garden.{fmt}", fmt)
    assert [e.title for e in parsed.entries] == ["Tools", "Seeds"]
    top = parsed.entries[0]
    assert top.link == second.uri  # our posts' pages are at their ids
    html = top.content[0].value if fmt == "atom" else top.summary  # RSS: the HTML is the <description>
    assert "<strong>here</strong>" in html and "<script" not in html and "<img" not in html
    assert top.published_parsed is not None
    assert parsed.feed.link == services.urls.group("garden")
    if fmt == "atom":
        assert top.id == second.uri and top.author == "dave"


async def test_feed_is_cacheable_and_get_only(client: TestClient, services: Services, garden: None) -> None:
    await _thread(services, "alice", "garden", "Seeds", "First post")
    response = await client.get("/feeds/groups/garden.atom")
    etag = response.headers["ETag"]
    assert response.headers["Last-Modified"] and "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers
    again = await client.get("/feeds/groups/garden.atom", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    await _thread(services, "alice", "garden", "Weeds", "Second post")
    changed = await client.get("/feeds/groups/garden.atom", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    refused = await client.post("/feeds/groups/garden.atom")
    assert refused.status == 405


async def test_board_feed_filters_by_kind_and_status(client: TestClient, services: Services, garden: None) -> None:
    await _thread(services, "alice", "garden", "Chat", "Just talk")
    await _thread(services, "dave", "garden", "Bigger beds", "An idea", kind="idea")
    await _thread(services, "dave", "garden", "Slugs", "A concern", kind="concern")
    await _thread(services, "dave", "garden", "When to sow?", "A question", kind="question")
    every = await _feed(client, "/feeds/groups/garden/board.atom")
    assert sorted(e.title for e in every.entries) == ["Bigger beds", "Slugs", "When to sow?"]
    ideas = await _feed(client, "/feeds/groups/garden/board.rss?kind=idea", "rss")
    assert [e.title for e in ideas.entries] == ["Bigger beds"]
    unsolved = await _feed(client, "/feeds/groups/garden/board.atom?status=unsolved")
    assert [e.title for e in unsolved.entries] == ["When to sow?"]
    assert "kind" in await _feed(client, "/feeds/groups/garden/board.atom?kind=rant", status=400)
    assert "status" in await _feed(client, "/feeds/groups/garden/board.atom?status=nope", status=400)


async def test_thread_feed_lists_replies(client: TestClient, services: Services, garden: None) -> None:
    root = await _thread(services, "alice", "garden", "Seeds", "First post")
    one = await _reply(services, "dave", root.uri, "Sunflowers")
    await _reply(services, "erin", one.uri, "Beans *too*")
    parsed = await _feed(client, f"/feeds/posts/{root.id}.atom")
    assert [e.author for e in parsed.entries] == ["erin", "dave"]
    assert "<em>too</em>" in parsed.entries[0].content[0].value
    # A reply's feed is its thread's.
    assert [e.id for e in (await _feed(client, f"/feeds/posts/{one.id}.atom")).entries] == [e.id for e in parsed.entries]
    await _feed(client, "/feeds/posts/999999.atom", status=404)


async def test_person_feed_has_public_posts_only(client: TestClient, services: Services, garden: None) -> None:
    await _thread(services, "dave", "garden", "Open", "Everyone sees this")
    await _thread(services, "dave", "vault", "Secret", "Members only")
    parsed = await _feed(client, "/feeds/people/dave.atom")
    assert [e.title for e in parsed.entries] == ["Open"]
    await _feed(client, "/feeds/people/nobody.atom", status=404)


async def test_private_group_feed_needs_a_members_token(client: TestClient, services: Services, garden: None) -> None:
    secret = await _thread(services, "alice", "vault", "Secret", "Members only")
    for path in ("/feeds/groups/vault.atom", "/feeds/groups/vault/board.atom", f"/feeds/posts/{secret.id}.atom"):
        text = await _feed(client, path, status=404)
        assert "Secret" not in text
    outsider = await _token(services, "erin")
    await _feed(client, f"/feeds/groups/vault.atom?token={outsider}", status=404)
    member = await _token(services, "dave")
    parsed = await _feed(client, f"/feeds/groups/vault.atom?token={member}")
    assert [e.title for e in parsed.entries] == ["Secret"]
    assert [e.title for e in (await _feed(client, f"/feeds/groups/vault/board.atom?token={member}")).entries] == []
    await _reply(services, "alice", secret.uri, "Hidden reply")
    replies = await _feed(client, f"/feeds/posts/{secret.id}.rss?token={member}", "rss")
    assert [e.summary for e in replies.entries] == ["<p>Hidden reply</p>"]
    await _feed(client, f"/feeds/posts/{secret.id}.rss?token={outsider}", status=404)
    private = await client.get(f"/feeds/groups/vault.atom?token={member}")
    assert private.headers["Cache-Control"].startswith("private")
    await _feed(client, "/feeds/groups/vault.atom?token=not-a-token", status=404)
    async with services.sessions.begin() as session:
        await feed_tokens.revoke(session, (await local.find_person(session, "dave")).id)
    await _feed(client, f"/feeds/groups/vault.atom?token={member}", status=404)


async def test_unknown_group_is_404(client: TestClient, services: Services, garden: None) -> None:
    await _feed(client, "/feeds/groups/nowhere.atom", status=404)
    await _feed(client, "/feeds/groups/garden.json", status=404)


def _alternates(page: str) -> dict[str, str]:
    """type -> href of the page's feed links (HTML-unescaped, as a browser reads them)."""
    found = re.findall(r'<link rel="alternate" type="(application/(?:atom|rss)\+xml)" title="[^"]*" href="([^"]+)">', page)
    return {kind: html.unescape(href) for kind, href in found}


async def test_pages_link_their_feeds(client: TestClient, services: Services, ui: UI, garden: None) -> None:
    root = await _thread(services, "alice", "garden", "Seeds", "First post")
    await _reply(services, "dave", root.uri, "Sunflowers")
    secret = await _thread(services, "alice", "vault", "Secret", "Members only")
    pages = {
        "/groups/garden": "/feeds/groups/garden",
        "/groups/garden/board?kind=idea&status=planned": "/feeds/groups/garden/board",
        root.uri.removeprefix(services.urls.base): f"/feeds/posts/{root.id}",
        "/users/dave": "/feeds/people/dave",
    }
    for page, feed in pages.items():
        links = _alternates(await ui.page(page))
        query = "?kind=idea&status=planned" if "board" in page else ""
        assert links == {"application/atom+xml": f"{feed}.atom{query}", "application/rss+xml": f"{feed}.rss{query}"}, page
        for href in links.values():  # every advertised feed parses
            await _feed(client, href, "atom" if ".atom" in href else "rss")
    await ui.log_in("dave")
    assert _alternates(await ui.page("/groups/vault")) == {}  # its feeds need a token: not advertised
    assert _alternates(await ui.page(secret.uri.removeprefix(services.urls.base))) == {}


async def test_settings_make_regenerate_and_revoke_the_token(
        client: TestClient, services: Services, ui: UI, garden: None) -> None:
    await _thread(services, "alice", "vault", "Secret", "Members only")
    await _reply(services, "alice", (await _thread(services, "dave", "garden", "Mine", "My post")).uri, "Nice!")
    await ui.log_in("dave")
    assert "You have no feed token" in await ui.page("/settings/feeds")
    made = await ui.post("/settings/feeds/regenerate", {}, form_page="/settings/feeds")
    assert made.status == 200 and made.headers["Cache-Control"] == "no-store"
    token = re.search(r"/feeds/notifications\.atom\?token=([\w-]+)", await made.text()).group(1)
    async with services.sessions() as session:  # stored hashed only
        stored = await session.scalar(select(FeedToken.token_hash))
    assert stored != token and token not in stored
    parsed = await _feed(client, f"/feeds/notifications.atom?token={token}")
    assert [e.title for e in parsed.entries] == ["alice replied to your post Mine"]
    assert "Nice!" in parsed.entries[0].content[0].value
    assert parsed.entries[0].link.startswith(services.urls.base + "/")
    rss = await _feed(client, f"/feeds/notifications.rss?token={token}", "rss")
    assert len(rss.entries) == 1
    assert [e.title for e in (await _feed(client, f"/feeds/groups/vault.atom?token={token}")).entries] == ["Secret"]
    assert "made" in await ui.page("/settings/feeds")  # the page no longer shows the token
    assert token not in await ui.page("/settings/feeds")
    again = await ui.post("/settings/feeds/regenerate", {}, form_page="/settings/feeds")
    second = re.search(r"/feeds/notifications\.atom\?token=([\w-]+)", await again.text()).group(1)
    assert second != token
    await _feed(client, f"/feeds/notifications.atom?token={token}", status=404)
    await _feed(client, f"/feeds/notifications.atom?token={second}")
    revoked = await ui.post("/settings/feeds/revoke", {}, form_page="/settings/feeds")
    assert revoked.status == 303
    await _feed(client, f"/feeds/notifications.atom?token={second}", status=404)
    await _feed(client, f"/feeds/groups/vault.atom?token={second}", status=404)
    await _feed(client, "/feeds/notifications.atom", status=404)
    await _feed(client, "/feeds/notifications.atom?token=" + "x" * 500, status=404)


async def test_settings_need_a_login_and_the_csrf_token(ui: UI, garden: None) -> None:
    response = await ui.get("/settings/feeds")
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await ui.log_in("dave")
    refused = await ui.post("/settings/feeds/regenerate", {}, with_token=False)
    assert refused.status == 403


async def test_a_browser_session_opens_no_private_feed(ui: UI, services: Services, garden: None) -> None:
    """Feeds ignore the session cookie (web.sessions skips /feeds/): only a token opens a private one."""
    await _thread(services, "alice", "vault", "Secret", "Members only")
    await ui.log_in("dave")
    assert (await ui.page("/groups/vault")).count("Secret") >= 1  # dave reads it in the browser
    response = await ui.client.get("/feeds/groups/vault.atom")
    assert response.status == 404 and "Secret" not in await response.text()
    assert "Set-Cookie" not in response.headers


async def test_a_suspended_persons_token_and_feed_open_nothing(
        client: TestClient, services: Services, garden: None) -> None:
    await _thread(services, "dave", "garden", "Open", "Everyone sees this")
    token = await _token(services, "dave")
    await create_person(services, "frida", admin=True)
    async with services.sessions.begin() as session:
        admin = await local.find_person(session, "frida")
        await account_admin.set_suspended(session, admin.id, "dave", True, reason="spam")
    await _feed(client, f"/feeds/notifications.atom?token={token}", status=404)
    await _feed(client, "/feeds/people/dave.atom", status=404)
