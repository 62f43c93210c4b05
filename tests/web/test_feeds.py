"""Atom and RSS feeds (web/routes/feeds.py), read back with feedparser as a feed reader would: a group's
threads, its board by kind and status, a thread's replies, a person's public posts, one's notifications
by secret token; private groups show nothing without a valid token; bad input is a clear 400/404."""

from __future__ import annotations

from typing import Any

import feedparser
import pytest
from aiohttp.test_utils import TestClient

from actors import feed_tokens, local
from inbox_outbox.services import posts
from madeopen.app import Services
from tests.inbox_outbox.content_support import group, join_local
from tests.support.web_ui import create_person

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
    private = await client.get(f"/feeds/groups/vault.atom?token={member}")
    assert private.headers["Cache-Control"].startswith("private")
    await _feed(client, "/feeds/groups/vault.atom?token=not-a-token", status=404)
    async with services.sessions.begin() as session:
        await feed_tokens.revoke(session, (await local.find_person(session, "dave")).id)
    await _feed(client, f"/feeds/groups/vault.atom?token={member}", status=404)


async def test_unknown_group_is_404(client: TestClient, services: Services, garden: None) -> None:
    await _feed(client, "/feeds/groups/nowhere.atom", status=404)
    await _feed(client, "/feeds/groups/garden.json", status=404)
