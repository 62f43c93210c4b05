"""FEP-8b32 integrity proofs in the inbox: relayed copies trusted without a fetch, failing proofs refused.

Two sides of one private group (FEP-1b12):

* members' servers: a remote group we follow announces a member's Create whose author lives on a third
  server that does not serve it to us (404, as for a post of a private group). A proof by the author
  stands in for the fetch; a proof that fails refuses it, even when the origin would serve it; a proof
  we cannot check changes nothing (the copy is re-fetched as before).
* the group's server (ours): a member's signed Create is relayed exactly as received, proof and
  ``@context`` included; a delivered activity whose proof fails is refused before any handler runs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest

from federation import proofs
from inbox_outbox.federation import Federation
from storage.models import Object
from tests.inbox_outbox.content_support import (
    ContentPeer,
    Outcome,
    World,
    activity,
    create,
    follow,
    join,
    lemmy_page,
    published,
    receive,
    stored,
)
from tests.support.peer_actor import PeerActor


def signed(actor: PeerActor, document: dict[str, Any]) -> dict[str, Any]:
    assert actor.ed25519_key is not None
    return proofs.sign(document, actor.ed25519_key, actor.ed25519_key_id)


def signed_create(author: PeerActor, page: dict[str, Any]) -> dict[str, Any]:
    """What a Made Open member's server sends into a group: the signed object in a signed Create."""
    return signed(author, create(author, signed(author, {"@context": "https://www.w3.org/ns/activitystreams", **page})))


def announce(group: PeerActor, inner: Any) -> dict[str, Any]:
    return activity(group, "Announce", inner, to=[f"{group.id}/followers"])


@dataclass
class Scene:
    """Our node, where alice is a member of a private group on the peer; zoe, another member, lives on a
    third server (``origin``) that does not serve her posts in the group (404, like any Made Open node)."""

    world: World
    group: PeerActor
    origin: ContentPeer
    zoe: PeerActor

    def page(self, **extra: Any) -> dict[str, Any]:
        return lemmy_page(self.zoe, self.group.id, public=False, **extra)

    async def relay(self, inner: dict[str, Any]) -> Outcome:
        """The group announces ``inner`` to us (FEP-1b12)."""
        return await receive(self.world.services, self.group, announce(self.group, inner))

    async def stored(self, page: dict[str, Any]) -> Object | None:
        return await stored(self.world.services, page["id"])


@pytest.fixture
async def scene(content_world: World, content_peer2: ContentPeer) -> Scene:
    group = content_world.peer.add_actor("backroom", actor_type="Group", name="Backroom",
                                         document_overrides={"manuallyApprovesFollowers": True})
    await follow(content_world.services, content_world.alice, group.id)
    return Scene(content_world, group, content_peer2, content_peer2.add_actor("zoe", ed25519_key=True))


# --------------------------------------------------------------------------------------------------
# A member's server receiving the group's Announce


async def test_a_signed_post_relayed_by_the_group_is_taken_without_asking_its_author_server(scene: Scene) -> None:
    page = scene.page(content="<p>members only</p>")
    inner = signed_create(scene.zoe, page)

    outcome = await scene.relay(inner)

    assert outcome.state == "done", outcome.error
    post = await scene.stored(page)
    assert post is not None and post.content == "<p>members only</p>" and post.audience_uri == scene.group.id
    assert not post.public
    assert scene.origin.gets(inner["id"]) == 0 and scene.origin.gets(page["id"]) == 0


async def test_without_a_proof_the_copy_is_fetched_and_a_refusing_origin_means_no_post(scene: Scene) -> None:
    page = scene.page()
    inner = create(scene.zoe, page)  # unsigned: trusted only as its origin serves it, and the origin says 404

    outcome = await scene.relay(inner)

    assert outcome.dropped and "could not fetch" in (outcome.error or "")
    assert scene.origin.gets(inner["id"]) == 1
    assert await scene.stored(page) is None


async def test_a_tampered_signed_copy_is_refused_without_falling_back_to_a_fetch(scene: Scene) -> None:
    page = scene.page()
    genuine = scene.origin.serve(signed_create(scene.zoe, page))  # the origin would even serve the genuine one
    tampered = copy.deepcopy(genuine)
    tampered["object"]["content"] = "<p>rewritten by the relay</p>"

    outcome = await scene.relay(tampered)

    assert outcome.dropped and "proof" in (outcome.error or "")
    assert scene.origin.gets(genuine["id"]) == 0
    assert await scene.stored(page) is None


async def test_a_proof_by_another_actors_key_is_refused(scene: Scene) -> None:
    mallory = scene.origin.add_actor("mallory", ed25519_key=True)
    page = scene.page()

    outcome = await scene.relay(signed(mallory, create(scene.zoe, page)))  # in zoe's name, by mallory's key

    assert outcome.dropped and "belongs to" in (outcome.error or "")
    assert await scene.stored(page) is None


async def test_a_proof_we_cannot_check_is_ignored_and_the_copy_fetched(scene: Scene) -> None:
    page = scene.page()
    inner = signed(scene.zoe, create(scene.zoe, page))
    inner["proof"]["cryptosuite"] = "eddsa-rdfc-2022"  # a suite we do not implement (FEP-8b32: ignore it)
    scene.origin.serve(inner)

    outcome = await scene.relay(inner)

    assert outcome.state == "done", outcome.error
    assert scene.origin.gets(inner["id"]) == 1
    assert await scene.stored(page) is not None


# --------------------------------------------------------------------------------------------------
# The group's server (ours) receiving a member's post


@pytest.fixture
async def ivy(content_world: World) -> PeerActor:
    """A member of our private group board, on the peer, with an Ed25519 assertion key."""
    member = content_world.peer.add_actor("ivy", ed25519_key=True)
    await join(content_world.services, "board", member)
    return member


async def test_a_members_signed_post_is_relayed_exactly_as_signed(content_world: World, ivy: PeerActor) -> None:
    w = content_world
    page = lemmy_page(ivy, w.board, public=False)
    sent = signed_create(ivy, page)

    outcome = await receive(w.services, ivy, sent)

    assert outcome.state == "done", outcome.error
    wrapped, boost = await published(w.services, w.board, "Announce")
    assert wrapped["object"] == sent  # @context and proof kept: the members' servers check it themselves
    assert boost["object"] == page["id"]
    fed = w.services.fed
    assert isinstance(fed, Federation)
    verified = await proofs.verify_proof(wrapped["object"], fed.remote.key_lookup)
    assert verified.owner == ivy.id


async def test_an_unsigned_members_post_is_relayed_without_its_context_as_before(content_world: World) -> None:
    w = content_world
    page = lemmy_page(w.bob, w.board, public=False)
    sent = create(w.bob, page)

    assert (await receive(w.services, w.bob, sent)).state == "done"

    wrapped, _ = await published(w.services, w.board, "Announce")
    assert wrapped["object"] == {key: value for key, value in sent.items() if key != "@context"}


async def test_a_delivered_activity_whose_proof_fails_is_refused(content_world: World, ivy: PeerActor) -> None:
    w = content_world
    page = lemmy_page(ivy, w.board, public=False)
    sent = {**signed_create(ivy, page), "to": [w.board, "https://www.w3.org/ns/activitystreams#Public"]}

    outcome = await receive(w.services, ivy, sent)  # its `to` was changed after signing

    assert outcome.dropped and "proof" in (outcome.error or "")
    assert await stored(w.services, page["id"]) is None
    assert await published(w.services, w.board, "Announce") == []
