"""Cached federation documents (web/document_cache.py: actors, WebFinger, NodeInfo, public posts) change as
soon as what they show changes, in every web process of the node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update

from actors import local
from federation import keys
from madeopen.app import Services, build_web_app
from inbox_outbox.services import post_edits, posts
from storage.models import Account, Group, LocalActor, utcnow
from web import document_cache
from web.sessions import COOKIE_NAME

AS2 = "application/activity+json"


@pytest.fixture
async def alice(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="alice", password="a long password"))


@pytest.fixture
async def other_client(services: Services) -> AsyncIterator[TestClient]:
    """A second web application on the same database (as a second web process would be)."""
    async with TestClient(TestServer(build_web_app(services))) as test_client:
        yield test_client


async def _actor(client: TestClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/users/alice", headers={"Accept": AS2})
    return response.status, await response.json(content_type=None)


async def _webfinger(client: TestClient) -> int:
    response = await client.get("/.well-known/webfinger", params={"resource": "acct:alice@node.test"})
    return response.status


async def test_a_profile_edit_shows_at_once_in_both_applications(
    alice: None, client: TestClient, other_client: TestClient, services: Services
) -> None:
    for each in (client, other_client):
        assert (await _actor(each))[1]["name"] == "alice"  # now cached in both
    async with services.sessions.begin() as session:  # a Core UPDATE, as some services write
        await session.execute(update(LocalActor).where(LocalActor.username == "alice").values(display_name="Alice A."))
    for each in (client, other_client):
        assert (await _actor(each))[1]["name"] == "Alice A."


async def test_a_rotated_key_is_served_at_once(alice: None, client: TestClient, services: Services) -> None:
    before = (await _actor(client))[1]["publicKey"]["publicKeyPem"]
    rotated = keys.generate_rsa()
    async with services.sessions.begin() as session:  # an ORM change
        actor = await session.scalar(select(LocalActor).where(LocalActor.username == "alice"))
        assert actor is not None
        actor.rsa_public_pem = rotated.public_pem
    after = (await _actor(client))[1]["publicKey"]["publicKeyPem"]
    assert after != before and after == rotated.public_pem


async def test_suspension_and_deletion_show_at_once(
    alice: None, client: TestClient, other_client: TestClient, services: Services
) -> None:
    assert "suspended" not in (await _actor(client))[1]
    assert await _webfinger(other_client) == 200
    async with services.sessions.begin() as session:
        await session.execute(update(Account).values(suspended=True))
    assert (await _actor(client))[1]["suspended"] is True
    async with services.sessions.begin() as session:
        await session.execute(update(Account).values(deleted_at=utcnow()))
    status, tombstone = await _actor(other_client)
    assert (status, tombstone["type"]) == (410, "Tombstone")
    assert await _webfinger(other_client) == 410


async def test_a_change_nobody_here_saw_shows_within_the_ttl(
    alice: None, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write no process of this node announced (another machine on the same database) is not counted:
    the entry expires after its TTL."""
    monkeypatch.setattr(document_cache, "TTL_SECONDS", 0.3)
    async with TestClient(TestServer(build_web_app(services))) as client:
        assert (await _actor(client))[1]["name"] == "alice"
        # Unwatched, as a process on another machine would write: the raw driver connection, no events.
        async with services.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await _raw_rename(raw, services)
        assert (await _actor(client))[1]["name"] == "alice"  # still the cached bytes
        await asyncio.sleep(0.4)
        assert (await _actor(client))[1]["name"] == "Renamed"


async def _raw_rename(raw: Any, services: Services) -> None:
    statement = "UPDATE local_actors SET display_name = 'Renamed' WHERE username = 'alice'"
    driver = raw.driver_connection
    if services.settings.database_url.startswith("sqlite"):
        await driver.execute(statement)
        await driver.commit()
    else:
        await driver.execute(statement)


async def test_federation_reads_get_no_session_but_pages_still_do(alice: None, client: TestClient) -> None:
    json_read = await client.get("/users/alice", headers={"Accept": AS2})
    assert json_read.status == 200 and COOKIE_NAME not in json_read.cookies
    page = await client.get("/login", headers={"Accept": "text/html"})
    assert page.status == 200 and 'name="csrf_token"' in await page.text()
    assert COOKIE_NAME in page.cookies  # the session (and its CSRF token) of a browser page
    # With the cookie, even an AS2 read runs the whole chain (and a browser asking HTML gets the page).
    with_cookie = await client.get("/users/alice", headers={"Accept": AS2})
    assert with_cookie.status == 200
    html = await client.get("/users/alice", headers={"Accept": "text/html"})
    assert html.status == 200 and "Content-Security-Policy" in html.headers


async def _post_answer(client: TestClient, path: str) -> tuple[int, dict[str, Any]]:
    response = await client.get(path, headers={"Accept": AS2})
    return response.status, await response.json(content_type=None)


async def test_a_posts_answer_changes_at_once_in_both_applications(
    alice: None, client: TestClient, other_client: TestClient, services: Services
) -> None:
    """A post peers fetch is kept encoded; a reply, a group turned private, a deletion show at once."""
    async with services.sessions.begin() as session:
        author = await local.find_person(session, "alice")
        group = await local.create_group(session, local.NewGroup(username="garden", owner="alice"))
        post = await posts.create_post(session, services.urls, author, group, "Seeds", "Who has seeds?")
    path = post.uri.removeprefix(services.urls.base)
    for each in (client, other_client):
        status, document = await _post_answer(each, path)
        assert (status, document["replies"]["totalItems"]) == (200, 0)  # now kept in both
    async with services.sessions.begin() as session:
        answer = await posts.reply(session, services.urls, await local.find_person(session, "alice"), post.uri, "Me!")
    for each in (client, other_client):
        replies = (await _post_answer(each, path))[1]["replies"]
        assert replies["totalItems"] == 1 and replies["first"]["items"] == [answer.uri]
    async with services.sessions.begin() as session:
        await session.execute(update(Group).values(visibility="private"))
    for each in (client, other_client):
        assert (await _post_answer(each, path))[0] == 404  # a private group's post needs a member's signature
    async with services.sessions.begin() as session:
        await session.execute(update(Group).values(visibility="public"))
        await post_edits.delete_post(session, services.urls, await local.find_person(session, "alice"), post.uri)
    for each in (client, other_client):
        status, document = await _post_answer(each, path)
        assert (status, document["type"]) == (410, "Tombstone")


async def test_a_suspended_authors_profile_post_is_withheld_at_once(
    alice: None, client: TestClient, services: Services
) -> None:
    async with services.sessions.begin() as session:
        author = await local.find_person(session, "alice")
        post = await posts.create_post(session, services.urls, author, None, "", "Hello, fediverse")
    path = post.uri.removeprefix(services.urls.base)
    assert (await _post_answer(client, path))[0] == 200
    async with services.sessions.begin() as session:
        await session.execute(update(Account).values(suspended=True))
    assert (await _post_answer(client, path))[0] == 403
    async with services.sessions.begin() as session:
        await session.execute(update(Account).values(suspended=False))
    assert (await _post_answer(client, path))[0] == 200
