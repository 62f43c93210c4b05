"""Who gets a microblog update that is not public (issue #16), as Mastodon-family servers see it: a
followers-only update is delivered to the followers' servers alone, addressed to the followers collection
with no Public anywhere (else Mastodon shows it as public or unlisted), never boosted; a "mentioned only"
update (Mastodon's "direct") reaches the people it mentions and nobody else, followers included. The
post's own URL answers a signed fetch by someone it is for, and no one else.

Two bare peers on loopback (tests/support/peer.py) stand for two servers: ``content_peer``, home of carol,
who follows alice; ``elsewhere``, home of quinn, who follows dave (so that server does hear from us) but
not alice. Deliveries are sent for real (the delivery worker), and the peers verify our signatures.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from actors.errors import InvalidInput
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.federation import Federation
from inbox_outbox.services import threads
from storage.models import Notification
from tests.inbox_outbox.content_support import World, addressed, follow, published
from tests.support.peer import InboxDelivery, Peer, mastodon_shows
from tests.support.peer_actor import PUBLIC, PeerActor


@pytest.fixture
async def elsewhere() -> AsyncIterator[Peer]:
    async with Peer(require_signed_gets=True) as running:
        yield running


@pytest.fixture
async def quinn(content_world: World, elsewhere: Peer, client: TestClient) -> PeerActor:
    """carol (content_peer) follows alice; quinn (elsewhere) follows dave. Both peers verify our signatures."""
    w = content_world
    assert w.services.remote is not None
    for peer in (w.peer, elsewhere):
        peer.route_origin(w.services.urls.base, str(client.make_url("")))
    quinn = elsewhere.add_actor("quinn", name="Quinn")
    for actor, followee in ((w.carol, w.alice), (quinn, w.dave)):
        await w.services.remote.resolve(actor.id)
        await follow(w.services, actor.id, followee)
    return quinn


@pytest.fixture
def fed(content_world: World) -> Federation:
    assert content_world.services.fed is not None
    return content_world.services.fed


async def _deliver_all(fed: Federation) -> None:
    worker = DeliveryWorker(fed)
    while await worker.run_once():
        pass


def _about(peer: Peer, uri: str) -> list[InboxDelivery]:
    """What reached ``peer`` that names ``uri`` anywhere (a Create of it, a boost, a copy)."""
    return [delivery for delivery in peer.inbox if uri in json.dumps(delivery.activity)]


async def _fetch(client: TestClient, w: World, uri: str, signer: PeerActor | None) -> tuple[int, Any]:
    """GET ``uri`` as ActivityPub JSON, signed by ``signer`` as Mastodon's authorized fetch does."""
    path = uri.removeprefix(w.services.urls.base)
    headers = {"Accept": "application/activity+json"}
    if signer is not None:
        headers.update(signer.sign("GET", uri))
    response = await client.get(path, headers=headers)
    text = await response.text()
    return response.status, json.loads(text) if response.status == 200 else text


async def test_a_followers_only_update_reaches_the_followers_servers_alone(
    content_world: World, fed: Federation, quinn: PeerActor, elsewhere: Peer, client: TestClient
) -> None:
    w = content_world
    await follow(w.services, w.dave, w.alice)  # dave, here, follows her too

    posted = await threads.post_status(fed, "alice", "Jam for my followers", "followers")
    dave_says = await threads.post_status(fed, "dave", "Seed swap on Saturday", "public")
    with pytest.raises(InvalidInput, match="only public posts can be boosted"):
        await threads.boost(fed, "dave", posted.id, True)
    await _deliver_all(fed)

    [delivery] = _about(w.peer, posted.uri)  # carol's server: the Create, once
    create = delivery.activity
    assert delivery.verified and create["type"] == "Create" and create["actor"] == w.alice
    note = create["object"]
    assert note["id"] == posted.uri and note["to"] == [f"{w.alice}/followers"]
    assert PUBLIC not in addressed(create) | addressed(note)  # not public, not unlisted
    # quinn's server hears from us (dave's public update), but nothing of alice's.
    assert _about(elsewhere, dave_says.uri) and _about(elsewhere, posted.uri) == []
    assert [doc for doc in await published(w.services, kind="Announce") if posted.uri in json.dumps(doc)] == []

    assert (await _fetch(client, w, posted.uri, w.carol))[0] == 200  # a follower's server may fetch it
    status, _ = await _fetch(client, w, posted.uri, quinn)
    assert status == 404  # anyone else is told it is not there
    assert (await _fetch(client, w, posted.uri, None))[0] == 404


async def test_a_mentioned_only_update_reaches_the_mentioned_and_no_follower(
    content_world: World, fed: Federation, quinn: PeerActor, elsewhere: Peer, client: TestClient
) -> None:
    w = content_world
    quinn_handle = f"@quinn@{elsewhere.host}"

    posted = await threads.post_status(fed, "alice", f"{quinn_handle} and @dave: your seeds are ready", "mentioned")
    await _deliver_all(fed)

    [delivery] = _about(elsewhere, posted.uri)  # quinn's server: the Create, once
    create = delivery.activity
    assert delivery.verified and create["type"] == "Create" and create["actor"] == w.alice
    note = create["object"]
    everyone = addressed(create) | addressed(note)
    assert PUBLIC not in everyone and f"{w.alice}/followers" not in everyone
    assert quinn.id in addressed(note) and mastodon_shows(note, quinn.id)  # shown to quinn, as a mention
    assert {"type": "Mention", "href": quinn.id, "name": quinn_handle} in note["tag"]
    assert _about(w.peer, posted.uri) == []  # carol follows alice, and gets nothing of it
    assert (await _fetch(client, w, posted.uri, quinn))[0] == 200
    assert (await _fetch(client, w, posted.uri, w.carol))[0] == 404  # a follower, not mentioned
    async with w.services.sessions() as session:  # dave, here, is told, and may read it
        told = await session.scalar(select(Notification.kind).where(Notification.object_uri == posted.uri))
        assert told == "mention"
        assert await threads.visible_post(session, w.services.urls, posted.id, w.dave)

    # Mentioning carol in an edit: her server gets the Update, and she may fetch the post now.
    await threads.edit_post(fed, "alice", posted.id, "", f"{quinn_handle}, @dave and @carol@{w.peer.host}: ready")
    await _deliver_all(fed)
    [update] = _about(w.peer, posted.uri)
    assert update.activity["type"] == "Update" and mastodon_shows(update.activity["object"], w.carol.id)
    assert (await _fetch(client, w, posted.uri, w.carol))[0] == 200
