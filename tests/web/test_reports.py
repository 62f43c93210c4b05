"""Reports and the moderation log, end to end: a bare peer's ``Flag`` through the real inbox and a member's
report through the form both reach the group's queue; the moderator's answer is federated (the peer
receives the ``Delete`` or ``Block``), logged, and the reporter is told. Non-moderators get 403; a report
without a reason is refused and stores nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.inbound_worker import InboundWorker
from madeopen.app import Services
from storage.models import Flag, ModerationEntry, Object
from tests.inbox_outbox.groups_support import (
    AS2, activity_id, add_local_member, add_post, add_remote_member, group_uri, make_group, person_uri,
)
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor
from tests.support.peer_fixtures import bob, carol, peer, settings  # noqa: F401  (fixtures)
from tests.support.web_ui import UI, create_person, second_ui, ui  # noqa: F401  (fixtures)

GARDEN = group_uri("garden")


@pytest.fixture
async def garden(services: Services, peer: Peer, bob: PeerActor, carol: PeerActor) -> str:
    """alice owns garden; dave is a member, so are bob and carol of the peer; carol posted spam there."""
    for name in ("alice", "dave", "erin"):
        await create_person(services, name)
    await create_person(services, "root_ada", admin=True)
    await make_group(services, "garden", owner="alice")
    await add_local_member(services, "garden", "dave")
    await add_remote_member(services, "garden", bob)
    await add_remote_member(services, "garden", carol)
    return await add_post(services, carol.id, group="garden", content="<p>Buy cheap pills</p>")


async def _post_id(services: Services, uri: str) -> int:
    async with services.sessions() as session:
        found = await session.scalar(select(Object.id).where(Object.uri == uri))
    assert found is not None
    return found


async def _flags(services: Services) -> list[Flag]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Flag).order_by(Flag.id)))


async def _log(services: Services) -> list[tuple[str | None, str, str]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(ModerationEntry).order_by(ModerationEntry.id))
        return [(row.actor_uri, row.action, row.target) for row in rows]


async def _deliver(services: Services, peer: Peer) -> list[dict[str, Any]]:
    """Run the delivery worker until the queue is empty; what the peer received, verified."""
    assert services.fed is not None
    while await DeliveryWorker(services.fed).run_once():
        pass
    assert all(item.verified for item in peer.inbox), [item.key_id for item in peer.inbox]
    return [item.activity for item in peer.inbox]


def _inner(activity: dict[str, Any]) -> dict[str, Any]:
    """An activity, or what a group's Announce carries."""
    return activity["object"] if activity["type"] == "Announce" and isinstance(activity["object"], dict) else activity


async def test_a_peers_flag_reaches_the_queue_and_the_removal_is_federated(
    services: Services, ui: UI, peer: Peer, bob: PeerActor, carol: PeerActor, garden: str
) -> None:
    peer.route_origin(services.urls.base, str(ui.client.make_url("")))
    flag = {"@context": AS2, "id": activity_id(bob, "Flag"), "type": "Flag", "actor": bob.id, "object": [garden],
            "to": [GARDEN], "audience": GARDEN, "summary": "spam, again"}
    body = json.dumps(flag).encode()
    headers = bob.sign("POST", f"{services.urls.base}/inbox", body)
    response = await ui.client.post("/inbox", data=body, headers=headers)
    assert response.status == 202, await response.text()
    assert services.fed is not None
    await InboundWorker(services.fed).run_once()

    await ui.log_in("alice")
    notes = await ui.page("/notifications")  # the group's moderator hears of the report
    assert "reported" in notes and 'href="/groups/garden/reports"' in notes and "spam, again" in notes
    queue = await ui.page("/groups/garden/reports")
    assert "spam, again" in queue and "another server's moderators" in queue
    [report] = await _flags(services)
    response = await ui.post(f"/reports/{report.id}", {"action": "remove", "note": "pill spam", "back":
                             "/groups/garden/reports"}, form_page="/groups/garden/reports")
    assert response.status == 303
    assert "The post was removed" in await ui.page("/groups/garden/reports")
    assert "No open reports" in await ui.page("/groups/garden/reports")

    async with services.sessions() as session:
        assert (await session.scalar(select(Object).where(Object.uri == garden))).deleted  # type: ignore[union-attr]
    [report] = await _flags(services)
    assert (report.resolved, report.outcome, report.resolved_by_uri) == (True, "removed", person_uri("alice"))
    assert (person_uri("alice"), "remove_post", garden) in await _log(services)
    log = await ui.page("/groups/garden/log")
    assert "removed the post" in log and "pill spam" in log

    received = await _deliver(services, peer)
    # Lemmy-family servers read the group's Announce of the Delete; Mastodon-family ones drop announced
    # Deletes, so the author's server also gets the moderator's Delete itself.
    announced = [a["object"] for a in received if a["type"] == "Announce" and isinstance(a["object"], dict)]
    direct = [a for a in received if a["type"] == "Delete"]
    for deletes in (announced, direct):
        [delete] = [a for a in deletes if a["type"] == "Delete" and a["object"] == garden]
        assert delete["actor"] == person_uri("alice") and delete["summary"] == "pill spam"


async def test_a_members_report_is_forwarded_and_the_ban_federated(
    services: Services, ui: UI, second_ui: UI, peer: Peer, bob: PeerActor, carol: PeerActor, garden: str
) -> None:
    peer.route_origin(services.urls.base, str(ui.client.make_url("")))
    post_id = await _post_id(services, garden)
    await second_ui.log_in("dave")
    thread = await second_ui.page(f"/posts/{post_id}")
    assert f'href="/report?post={post_id}"' in thread
    form = await second_ui.page(f"/report?post={post_id}")
    assert "Also send the report to their server" in form

    # No reason: the form says so, and nothing is stored.
    response = await second_ui.post("/report", {"post": str(post_id), "reason": "  "}, form_page=f"/report?post={post_id}")
    assert response.status == 400 and "say what is wrong" in await response.text()
    assert await _flags(services) == []

    response = await second_ui.post("/report", {"post": str(post_id), "reason": "selling pills", "forward": "on"},
                                    form_page=f"/report?post={post_id}")
    assert response.status == 303
    [report] = await _flags(services)
    assert report.reporter_uri == person_uri("dave") and report.object_uris == [carol.id, garden] and report.forwarded

    # A member who moderates nothing may not see or answer the queue.
    await create_person(services, "mallory")
    third = second_ui
    await third.post("/logout", {}, form_page="/settings/profile")
    await third.log_in("mallory")
    assert (await third.get("/groups/garden/reports")).status == 403
    assert (await third.get("/admin/reports")).status == 403
    assert (await third.get("/groups/garden/log")).status == 403
    response = await third.post(f"/reports/{report.id}", {"action": "dismiss"}, form_page="/settings/profile")
    assert response.status == 403
    assert not (await _flags(services))[0].resolved

    await ui.log_in("alice")
    assert "selling pills" in await ui.page("/groups/garden/reports")
    response = await ui.post(f"/reports/{report.id}", {"action": "ban", "back": "/groups/garden/reports"},
                             form_page="/groups/garden/reports")
    assert response.status == 303
    assert (person_uri("alice"), "ban", carol.id) in await _log(services)

    received = await _deliver(services, peer)
    [forwarded] = [a for a in received if a["type"] == "Flag"]
    assert forwarded["actor"] == services.urls.instance_actor() and forwarded["object"] == [carol.id, garden]
    assert forwarded["content"] == "selling pills" and person_uri("dave") not in json.dumps(forwarded)
    blocks = [_inner(a) for a in received if _inner(a)["type"] == "Block"]
    assert blocks and blocks[0]["object"] == carol.id and blocks[0]["target"] == GARDEN
    # A Mastodon-family server learns from Reject{Follow} that carol no longer follows the group.
    rejects = [a for a in received if a["type"] == "Reject"]
    assert rejects and rejects[0]["object"]["actor"] == carol.id

    # The reporter is told what happened.
    await third.post("/logout", {}, form_page="/settings/profile")
    await third.log_in("dave")
    notes = await third.page("/notifications")
    assert "dealt with" in notes and "your report about" in notes and "banned from the group" in notes


async def test_admins_see_every_report_and_suspend_with_a_reason(
    services: Services, ui: UI, second_ui: UI, garden: str
) -> None:
    await second_ui.log_in("dave")
    response = await second_ui.post("/report", {"person": person_uri("erin"), "reason": "impersonates me"},
                                    form_page="/settings/profile")
    assert response.status == 303
    [report] = await _flags(services)
    assert report.group_id is None and report.object_uris == [person_uri("erin")]

    await ui.log_in("alice")  # a group owner, but no admin: the node's queue is not hers
    assert (await ui.get("/admin/reports")).status == 403
    await ui.post("/logout", {}, form_page="/settings/profile")
    await ui.log_in("root_ada")
    queue = await ui.page("/admin/reports")
    assert "impersonates me" in queue and "Suspend the account" in queue and "Remove the post" not in queue
    response = await ui.post(f"/reports/{report.id}", {"action": "suspend", "note": "impersonation",
                                                       "back": "/admin/reports"}, form_page="/admin/reports")
    assert response.status == 303
    log = await ui.page("/admin/log")
    assert "suspended" in log and "impersonation" in log

    response = await second_ui.post("/logout", {}, form_page="/settings/profile")
    response = await second_ui.post("/login", {"username": "erin", "password": "correct horse battery"})
    assert response.status == 400 and "impersonation" in await response.text()
