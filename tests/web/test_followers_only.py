"""Followers-only posts of people our members follow on Mastodon-family servers (issue #10, item 4).

A GoToSocial or Mastodon account posts with ``to: [<author>/followers]`` (Mastodon "private" visibility,
GoToSocial "followers only"). The post reaches us because one of our people follows the author; it is
shown on that follower's home timeline and on its page, and to nobody else: another local person, an
anonymous visitor, search and the local timeline all behave as if it did not exist. The peer here
behaves like those servers: signed GETs only, posts shaped as Mastodon sends them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select

from madeopen.app import Services
from storage.models import Follow, Object, ObjectRecipient
from tests.inbox_outbox.content_support import ContentPeer, create, follow, mastodon_note, receive
from tests.support.peer_actor import PUBLIC, PeerActor
from tests.support.peer_fixtures import settings  # noqa: F401  (fixture)
from tests.support.web_ui import UI, create_person, make_ui, second_ui, ui  # noqa: F401  (fixtures)

ALICE = "http://node.test/users/alice"
DAVE = "http://node.test/users/dave"


@pytest.fixture
async def mastodon() -> AsyncIterator[ContentPeer]:
    async with ContentPeer(require_signed_gets=True) as running:  # GoToSocial: no unsigned GETs
        yield running


@pytest.fixture
async def anonymous(services: Services) -> AsyncIterator[UI]:
    """A visitor who never logs in."""
    async for visitor in make_ui(services):
        yield visitor


def _followers_only(author: PeerActor, text: str, serial: int) -> dict[str, object]:
    """A Mastodon "private" status: to the author's followers only, no Public anywhere."""
    note = mastodon_note(author, f"{author.id}/followers", content=f"<p>{text}</p>", visibility="private",
                         id=f"{author.id}/statuses/{serial}", tag=[])
    note["cc"] = []
    return note


def _has(page: str, words: str) -> bool:
    items = re.findall(r'<article class="post-item".*?</article>', page, flags=re.S)
    return any(words in " ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items)


async def _post_id(services: Services, uri: str) -> int:
    async with services.sessions() as session:
        row = await session.scalar(select(Object.id).where(Object.uri == uri))
        assert row is not None
        return row


async def test_a_followers_only_post_is_shown_to_followers_and_nobody_else(
    ui: UI, second_ui: UI, anonymous: UI, services: Services, mastodon: ContentPeer
) -> None:
    gina = mastodon.add_actor("gina", name="Gina")
    mastodon.route_origin("http://node.test", str(ui.client.make_url("")))  # it checks our signed GETs
    await create_person(services, "alice")
    await create_person(services, "dave")
    assert services.remote is not None
    await services.remote.resolve(gina.id)
    await follow(services, ALICE, gina.id)  # alice follows gina; dave does not

    note = _followers_only(gina, "Only for my followers: plum jam recipe", 101)
    public = {**_followers_only(gina, "Everyone: quince recipe", 102), "to": [PUBLIC], "cc": [f"{gina.id}/followers"]}
    for doc in (note, public):
        assert not (await receive(services, gina, create(gina, doc))).dropped
    post_id = await _post_id(services, note["id"])  # type: ignore[arg-type]
    async with services.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.id == post_id))
        assert stored is not None and stored.public is False
        recipients = set(await session.scalars(select(ObjectRecipient.uri).where(ObjectRecipient.object_id == post_id)))
    assert f"{gina.id}/followers" in recipients

    await ui.log_in("alice")
    assert _has(await ui.page("/home"), "plum jam recipe")
    assert "plum jam recipe" in await ui.page(f"/posts/{post_id}")

    await second_ui.log_in("dave")
    assert not _has(await second_ui.page("/home"), "plum jam recipe")
    assert "plum jam recipe" not in await second_ui.page(f"/posts/{post_id}", status=404)
    found = await second_ui.page("/search?q=recipe")
    assert "quince recipe" in found and "plum jam" not in found
    assert "plum jam" not in await ui.page("/search?q=recipe")  # followers-only: never in search
    assert not _has(await ui.page("/local"), "plum jam recipe")

    response = await anonymous.get(f"/posts/{post_id}")
    assert response.status == 404 and "plum jam" not in await response.text()


async def test_a_post_addressed_by_name_reaches_that_person_only(
    ui: UI, second_ui: UI, services: Services, mastodon: ContentPeer
) -> None:
    gina = mastodon.add_actor("gina", name="Gina")
    mastodon.route_origin("http://node.test", str(ui.client.make_url("")))  # it checks our signed GETs
    await create_person(services, "alice")
    await create_person(services, "dave")
    note = mastodon_note(gina, ALICE, handle="@alice@node.test", visibility="direct",
                         content="<p>@alice the spare key is under the pot</p>")
    assert not (await receive(services, gina, create(gina, note))).dropped
    post_id = await _post_id(services, note["id"])

    await ui.log_in("alice")
    assert _has(await ui.page("/home"), "spare key is under the pot")
    assert "spare key" in await ui.page(f"/posts/{post_id}")
    await second_ui.log_in("dave")
    assert "spare key" not in await second_ui.page(f"/posts/{post_id}", status=404)


async def test_unfollowing_hides_followers_only_posts_again(ui: UI, services: Services, mastodon: ContentPeer) -> None:
    gina = mastodon.add_actor("gina", name="Gina")
    mastodon.route_origin("http://node.test", str(ui.client.make_url("")))  # it checks our signed GETs
    await create_person(services, "alice")
    assert services.remote is not None
    await services.remote.resolve(gina.id)
    await follow(services, ALICE, gina.id)
    note = _followers_only(gina, "Garden gate code is 1234", 202)
    public = {**_followers_only(gina, "Open day on Sunday", 203), "to": [PUBLIC], "cc": [f"{gina.id}/followers"]}
    for doc in (note, public):
        assert not (await receive(services, gina, create(gina, doc))).dropped
    await ui.log_in("alice")
    assert _has(await ui.page("/home"), "Garden gate code")

    async with services.sessions.begin() as session:
        await session.execute(delete(Follow).where(Follow.follower_uri == ALICE))
    page = await ui.page("/home")
    assert not _has(page, "Garden gate code")
    assert "Garden gate code" not in await ui.page(f"/posts/{await _post_id(services, note['id'])}", status=404)  # type: ignore[arg-type]
    assert "Open day on Sunday" in await ui.page(f"/posts/{await _post_id(services, public['id'])}")  # type: ignore[arg-type]
