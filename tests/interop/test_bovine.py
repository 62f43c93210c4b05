"""A bovine actor (tests/support/bovine_actor.py: another process, bovine 0.5 only) joins a public group
on a real `madeopen run` and takes part in it, over real HTTP on loopback (PROTOCOL.md "Groups").

1. bovine POSTs a signed Follow to the group's inbox: 202; the group's Accept{Follow} arrives at the
   bovine inbox and bovine's SignatureChecker verifies our signature with the key it fetched from us
   (and bovine's `accept_for_follow` recognises it as the answer to its Follow).
2. A local member posts into the group (our service layer, as the web UI does): the group's
   Announce{Create{Page}} and Announce{<page id>} reach bovine, both verified by bovine.
3. bovine posts a Create{Note} addressed to the group: the group stores it and announces it to its
   members, bovine included: Announce{<bovine's Create>} and Announce{<note id>}, verified by bovine;
   the delivery rows in our database say the same.

Along the way, every GET our node made of the bovine actor must carry a signature bovine verifies
(PROTOCOL.md "HTTP Signatures": every outbound GET is signed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from actors import local
from inbox_outbox.services import posts
from madeopen.app import build_services, prepare
from storage.models import Activity, Delivery, Membership, Object, RemoteActor
from tests.conftest import FreshDatabase
from tests.support.bovine_actor import PUBLIC, BovineActorProcess
from tests.support.cluster import eventually, settings_for
from tests.support.servers import Node

GROUP = "pasture"
MEMBER = "daisy"


@pytest.fixture
def cow(tmp_path: Path) -> Iterator[BovineActorProcess]:
    actor = BovineActorProcess(tmp_path / "bovine")
    actor.start()
    yield actor
    actor.stop()


def _object_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


Explain = Callable[[], Awaitable[str]]


async def _arrival(
    cow: BovineActorProcess, match: Callable[[dict[str, Any]], bool], what: str, explain: Explain
) -> dict[str, Any]:
    async def find() -> dict[str, Any] | None:
        return next((entry for entry in await cow.inbox_items() if match(entry.get("activity") or {})), None)

    try:
        return await eventually(find, timeout=15)
    except AssertionError:
        raise AssertionError(f"{what} never reached the bovine inbox" + await explain()) from None


async def _matches(read: Callable[[], Awaitable[Any]], expected: Any) -> bool:
    return await read() == expected


def _announce_of(inner_id: str, *, embedded: bool) -> Callable[[dict[str, Any]], bool]:
    def match(activity: dict[str, Any]) -> bool:
        obj = activity.get("object")
        return activity.get("type") == "Announce" and (
            isinstance(obj, dict) and obj.get("id") == inner_id if embedded else obj == inner_id
        )

    return match


@pytest.mark.timeout(90)
async def test_bovine_actor_joins_and_posts_in_a_group(
    fresh_database: FreshDatabase, tmp_path: Path, cow: BovineActorProcess
) -> None:
    node = Node(data_dir=tmp_path / "node", database_url=await fresh_database())
    node.data_dir.mkdir(parents=True)
    password = tmp_path / "password"
    password.write_text("correct horse battery staple\n")
    await asyncio.to_thread(node.cli, "user", "create", MEMBER, "--password-file", str(password), check=True)
    await asyncio.to_thread(node.cli, "group", "create", GROUP, "--owner", MEMBER, "--title", "The Pasture",
                            check=True)
    await asyncio.to_thread(node.start)
    services = build_services(settings_for(node))
    try:
        await prepare(services, auto_migrate=False)
    except BaseException:
        node.stop()  # not left running to take later tests' rows
        raise
    group_id = f"{node.base_url}/groups/{GROUP}"
    group_key = f"{group_id}#main-key"

    async def explain() -> str:
        record = await cow.record()
        return (
            f"\nbovine record:\n{json.dumps(record, indent=1)[-6000:]}"
            f"\nbovine log (tail):\n{cow.log_text()[-3000:]}"
            f"\nmadeopen log (tail):\n{node.log_text()[-4000:]}"
        )

    def assert_verified_by_group(entry: dict[str, Any], what: str) -> None:
        assert entry["key_id"] == group_key, what
        assert entry["verified_by"] == group_id, f"bovine could not verify our signature on {what}"
        assert entry["owner_is_actor"] is True, what

    try:
        # 1. Follow -> 202, then a signed Accept{Follow} that bovine verifies.
        sent = await cow.follow(group_id)
        follow = sent["activity"]
        assert sent["inbox"] == f"{group_id}/inbox"
        assert sent["status"] == 202, f"Follow answered {sent['status']} {sent['body']}" + await explain()

        accept = await _arrival(cow, lambda a: a.get("type") == "Accept", "the Accept{Follow}", explain)
        assert_verified_by_group(accept, "the Accept{Follow}")
        assert accept["activity"]["actor"] == group_id
        assert _object_id(accept["activity"]["object"]) == follow["id"]
        assert accept.get("accept_of") == follow["id"], "bovine's accept_for_follow did not recognise it" + (
            await explain()
        )
        async with services.sessions() as session:
            membership = await session.scalar(
                select(Membership).join(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
                .where(RemoteActor.uri == cow.actor_id)
            )
            assert membership is not None and membership.state == "accepted"
            assert membership.follow_activity_uri == follow["id"]

        # 2. A local member posts into the group: Announce{Create{Page}} and Announce{page id} reach bovine.
        async with services.sessions.begin() as session:
            daisy = await local.find_person(session, MEMBER)
            group = await local.find_group(session, GROUP)
            page = await posts.create_post(
                session, services.urls, daisy, group, "Grass report", "The grass is *green*."
            )
            page_id, group_pk = page.uri, group.id
        create_of_page = await _arrival(
            cow,
            lambda a: a.get("type") == "Announce" and isinstance(a.get("object"), dict)
            and _object_id(a["object"].get("object")) == page_id,
            "Announce{Create{Page}}",
            explain,
        )
        assert_verified_by_group(create_of_page, "Announce{Create{Page}}")
        inner = create_of_page["activity"]["object"]
        assert inner["type"] == "Create" and inner["actor"] == f"{node.base_url}/users/{MEMBER}"
        assert inner["object"]["type"] == "Page" and inner["object"]["name"] == "Grass report"
        assert "<em>green</em>" in inner["object"]["content"]
        assert create_of_page["activity"]["audience"] == group_id
        assert PUBLIC in create_of_page["activity"]["to"]
        boost = await _arrival(cow, _announce_of(page_id, embedded=False), "Announce{<page id>}", explain)
        assert_verified_by_group(boost, "Announce{<page id>}")

        # 3. bovine posts into the group; the group announces bovine's Create back to its members.
        sent = await cow.post_note(group_id, name="Moo", content="<p>Fresh grass at the north gate.</p>")
        create = sent["activity"]
        note_id = create["object"]["id"]
        assert sent["status"] == 202, f"Create answered {sent['status']} {sent['body']}" + await explain()

        relayed = await _arrival(
            cow, _announce_of(create["id"], embedded=True), "Announce{<bovine's Create>}", explain
        )
        assert_verified_by_group(relayed, "Announce{<bovine's Create>}")
        relayed_create = relayed["activity"]["object"]
        assert relayed_create["actor"] == cow.actor_id
        assert relayed_create["object"]["id"] == note_id
        assert relayed_create["object"]["attributedTo"] == cow.actor_id
        assert relayed["activity"]["audience"] == group_id
        note_boost = await _arrival(cow, _announce_of(note_id, embedded=False), "Announce{<note id>}", explain)
        assert_verified_by_group(note_boost, "Announce{<note id>}")

        async with services.sessions() as session:
            stored = await session.scalar(select(Object).where(Object.uri == note_id))
            assert stored is not None and not stored.local
            assert stored.author_uri == cow.actor_id and stored.audience_uri == group_id
            assert stored.group_id == group_pk

        async def group_deliveries() -> list[tuple[Any, ...]]:
            # bovine records an arrival before its 202 reaches our worker: the row settles a moment later.
            async with services.sessions() as session:
                rows = (await session.execute(
                    select(Activity.type, Activity.object_uri, Delivery.inbox, Delivery.state, Delivery.last_status)
                    .join(Delivery, Delivery.activity_id == Activity.id)
                    .where(Activity.actor_uri == group_id, Activity.object_uri.in_([create["id"], note_id]))
                )).all()
            return sorted(tuple(row) for row in rows)

        expected = sorted([
            ("Announce", create["id"], cow.inbox, "done", 202),
            ("Announce", note_id, cow.inbox, "done", 202),
        ])
        try:
            await eventually(lambda: _matches(group_deliveries, expected), timeout=10)
        except AssertionError:
            raise AssertionError(f"deliveries of the announces: {await group_deliveries()}") from None

        # Nothing bovine received was refused, and our node signed every GET of the bovine actor.
        record = await cow.record()
        refused = [entry for entry in record["inbox"] if not entry.get("owner_is_actor")]
        assert not refused, await explain()
        node_gets = [entry for entry in record["gets"] if entry["key_id"] is not None]
        assert node_gets, "our node never fetched the bovine actor with a signed GET" + await explain()
        for entry in record["gets"]:
            assert entry["key_id"] is not None, f"unsigned GET {entry}"
            assert entry["verified_by"] and entry["verified_by"].startswith(node.base_url + "/"), entry
    finally:
        await services.close()
        node.stop()


async def test_bovine_inbox_refuses_what_it_cannot_verify(cow: BovineActorProcess) -> None:
    """The control for "bovine verified it": the same inbox refuses an unsigned POST and a POST signed
    with another key than the one its keyId names."""
    import aiohttp
    from bovine import BovineActor
    from bovine.crypto import generate_rsa_public_private_key

    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{cow.base_url}/objects/forged",
            "type": "Like", "actor": cow.actor_id, "object": cow.actor_id}
    _, stranger_key = generate_rsa_public_private_key()
    async with aiohttp.ClientSession() as session:
        async with session.post(cow.inbox, json=like, headers={"content-type": "application/activity+json"}) as r:
            assert r.status == 401
        forger = BovineActor(actor_id=cow.actor_id, public_key_url=f"{cow.actor_id}#main-key", secret=stranger_key)
        await forger.init(session=session)
        response = await forger.client.post(cow.inbox, json.dumps(like))
        async with response:
            assert response.status == 401

    record = await cow.record()
    assert [(entry["key_id"], entry["verified_by"], entry["status"]) for entry in record["inbox"]] == [
        (None, None, 401),
        (f"{cow.actor_id}#main-key", None, 401),
    ]
