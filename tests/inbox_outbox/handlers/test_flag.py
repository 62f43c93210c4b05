"""Flag: reports reach the moderators of the group concerned (or the node's admins)."""

from __future__ import annotations

from typing import Any

import pytest

from madeopen.app import Services
from tests.inbox_outbox.groups_support import AS2, activity_id, add_post, flags, group_uri, person_uri, receive
from tests.support.peer_actor import PeerActor

pytestmark = pytest.mark.usefixtures("world")


def flag(reporter: PeerActor, objects: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id(reporter, "Flag"), "type": "Flag", "actor": reporter.id,
            "object": objects, **extra}


async def group_id(services: Services, name: str) -> int:
    from actors import local

    async with services.sessions() as session:
        return (await local.find_group(session, name)).id


async def test_lemmy_report_of_a_post_in_our_group(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    spam = await add_post(services, carol.id, group="garden")
    report = flag(bob, spam, to=[group_uri("garden")], audience=group_uri("garden"), summary="<b>spam</b> again")
    assert (await receive(services, bob, report, recipient=group_uri("garden"))).state == "done"

    [row] = await flags(services)
    assert row.group_id == await group_id(services, "garden")
    assert (row.reporter_uri, row.object_uris, row.content) == (bob.id, [spam], "spam again")
    assert row.activity_uri == report["id"] and not row.resolved


async def test_the_posts_group_wins_over_the_addressing(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    spam = await add_post(services, carol.id, group="board")
    report = flag(bob, [spam], to=[group_uri("garden")])
    assert (await receive(services, bob, report)).state == "done"
    [row] = await flags(services)
    assert row.group_id == await group_id(services, "board")


async def test_mastodon_report_about_our_person_goes_to_the_admins(services: Services, bob: PeerActor) -> None:
    status = await add_post(services, person_uri("alice"), local_post=True)
    report = flag(bob, [person_uri("alice"), status], content="harassment")
    assert (await receive(services, bob, report, recipient=None)).state == "done"
    [row] = await flags(services)
    assert row.group_id is None and row.object_uris == [person_uri("alice"), status]
    assert row.content == "harassment"


async def test_report_addressed_to_our_group_about_a_post_we_lack(services: Services, bob: PeerActor, carol: PeerActor) -> None:
    report = flag(bob, f"{carol.id}/posts/unknown", audience=group_uri("garden"))
    assert (await receive(services, bob, report)).state == "done"
    [row] = await flags(services)
    assert row.group_id == await group_id(services, "garden")


@pytest.mark.parametrize("objects", [f"http://elsewhere.example/posts/1", []], ids=["not-ours", "nothing"])
async def test_report_about_nothing_of_ours_is_dropped(services: Services, bob: PeerActor, objects: Any) -> None:
    assert (await receive(services, bob, flag(bob, objects))).state == "failed"
    assert await flags(services) == []
