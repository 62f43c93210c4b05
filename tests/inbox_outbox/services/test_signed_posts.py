"""Posts into groups carry FEP-8b32 integrity proofs by their author (eddsa-jcs-2022), so the group's
members on other servers can trust the copy the group relays; posts elsewhere are sent as before.

Proofs are checked against the key our actor documents publish (``assertionMethod``, FEP-521a), i.e.
what a peer would use; bovine's check of the same documents is in tests/federation/test_proofs.py.
"""

from __future__ import annotations

from typing import Any

from actors import local
from actors.documents import actor_document
from federation import proofs
from federation.keys import ed25519_from_multibase
from federation.signatures import PublicKeyRecord
from inbox_outbox import collections_content
from inbox_outbox.services import post_edits, posts
from madeopen.app import Services
from storage.models import LocalActor
from tests.inbox_outbox.content_support import World, published


async def _actors(services: Services, person: str, group: str | None = None) -> tuple[LocalActor, LocalActor | None]:
    async with services.sessions() as session:
        found = await local.find_group(session, group) if group is not None else None
        return await local.find_person(session, person), found


class PublishedKeys:
    """A key lookup reading our actors' published Multikeys, as a peer resolves them."""

    def __init__(self, services: Services, *actors: LocalActor) -> None:
        self.records: dict[str, PublicKeyRecord] = {}
        for actor in actors:
            document = actor_document(actor, services.urls)
            [method] = document["assertionMethod"]  # type: ignore[misc]
            key = ed25519_from_multibase(method["publicKeyMultibase"])
            self.records[method["id"]] = PublicKeyRecord(method["id"], str(document["id"]), key)

    async def __call__(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        return self.records.get(key_id)


async def _assert_signed_by(document: dict[str, Any], keys: PublishedKeys, author: str) -> None:
    assert (await proofs.verify_proof(document, keys)).owner == author
    embedded = document["object"]
    assert "@context" in embedded  # the signed object travels with its own context (FEP-8b32 example)
    assert (await proofs.verify_proof(embedded, keys)).owner == author


async def test_a_post_into_our_private_group_is_signed_and_the_group_relays_it_as_signed(content_world: World) -> None:
    w = content_world
    alice, board = await _actors(w.services, "alice", "board")
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, board, "Budget", "Numbers inside")

    create_doc, copy = await published(w.services, w.alice, "Create")
    await _assert_signed_by(create_doc, PublishedKeys(w.services, alice), w.alice)
    assert create_doc["object"]["id"] == obj.uri
    wrapped, _ = await published(w.services, w.board, "Announce")
    assert wrapped["object"] == create_doc
    # The copy naming bob for his server (test_member_copies.py) is signed as well, copy and all.
    await _assert_signed_by(copy, PublishedKeys(w.services, alice), w.alice)
    assert copy["object"]["id"] == obj.uri and w.bob.id in copy["object"]["cc"]
    # What our object URL serves stays the unsigned document (a proof belongs to the activity's copy).
    assert "proof" not in obj.document


async def test_a_post_into_a_remote_group_is_signed(content_world: World) -> None:
    w = content_world
    lemmings = w.peer.add_actor("lemmings", actor_type="Group")
    assert w.services.remote is not None
    remote_group = await w.services.remote.resolve(lemmings.id)
    alice, _ = await _actors(w.services, "alice")
    async with w.services.sessions.begin() as session:
        await posts.create_post(session, w.services.urls, alice, remote_group, "Hello", "First!")

    [create_doc] = await published(w.services, w.alice, "Create")
    await _assert_signed_by(create_doc, PublishedKeys(w.services, alice), w.alice)


async def test_an_edit_in_a_group_is_signed_with_the_new_content(content_world: World) -> None:
    w = content_world
    alice, garden = await _actors(w.services, "alice", "garden")
    async with w.services.sessions.begin() as session:
        obj = await posts.create_post(session, w.services.urls, alice, garden, "Plan", "v1")
    async with w.services.sessions.begin() as session:
        await post_edits.update_post(session, w.services.urls, alice, obj.uri, "v2")

    [edit] = await published(w.services, w.alice, "Update")
    await _assert_signed_by(edit, PublishedKeys(w.services, alice), w.alice)
    assert edit["object"]["content"] == "<p><strong>Plan</strong></p><p>v2</p>"  # the title line, then the body
    assert (await published(w.services, w.garden, "Announce"))[-1]["object"] == edit


async def test_a_profile_post_is_sent_as_before(content_world: World) -> None:
    w = content_world
    alice, _ = await _actors(w.services, "alice")
    async with w.services.sessions.begin() as session:
        await posts.create_post(session, w.services.urls, alice, None, "", "Just me")

    [create_doc] = await published(w.services, w.alice, "Create")
    assert "proof" not in create_doc and "proof" not in create_doc["object"]
    assert "@context" not in create_doc["object"]


async def test_a_signed_create_read_from_the_outbox_still_verifies(content_world: World) -> None:
    """Outbox pages list a signed activity as signed (@context kept), like the group's Announce carries it;
    an activity whose post was deleted since shows a Tombstone and no longer claims a proof."""
    w = content_world
    alice, garden = await _actors(w.services, "alice", "garden")
    keys = PublishedKeys(w.services, alice)
    async with w.services.sessions.begin() as session:
        kept = await posts.create_post(session, w.services.urls, alice, garden, "Seeds", "Swap on Sunday")
        gone = await posts.create_post(session, w.services.urls, alice, garden, "Oops", "Wrong group")
        await post_edits.delete_post(session, w.services.urls, alice, gone.uri)
        await posts.create_post(session, w.services.urls, alice, None, "", "Just me")
    assert alice is not None and garden is not None

    async with w.services.sessions() as session:
        person_page = await collections_content.outbox(session, w.services.urls, alice, None, 1)
        group_page = await collections_content.outbox(session, w.services.urls, garden, None, 1)
    creates = {item["object"]["id"]: item for item in person_page.items if item["type"] == "Create"}
    await _assert_signed_by(creates[kept.uri], keys, w.alice)
    assert creates[gone.uri]["object"]["type"] == "Tombstone" and "proof" not in creates[gone.uri]
    assert "@context" not in creates[gone.uri]
    [unsigned] = [item for uri, item in creates.items() if uri not in (kept.uri, gone.uri)]
    assert "proof" not in unsigned and "@context" not in unsigned  # a profile post: listed as before

    # The group's outbox: its Announce (unsigned, no @context) carries alice's Create as she signed it.
    relayed = {item["object"]["object"]["id"]: item for item in group_page.items
               if isinstance(item["object"], dict) and item["object"]["type"] == "Create"}
    assert "@context" not in relayed[kept.uri]
    await _assert_signed_by(relayed[kept.uri]["object"], keys, w.alice)
    tombstoned = relayed[gone.uri]["object"]
    assert tombstoned["object"]["type"] == "Tombstone" and "proof" not in tombstoned
