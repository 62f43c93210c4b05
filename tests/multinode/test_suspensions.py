"""Suspending remote accounts across servers: node A's admin suspends bea of node B (another Made Open) and
pat of a bare Mastodon-like peer (signed GETs only). The suspension is made from this test's process, as
the CLI or another web process would, and A's running node refuses at once: bea's new post to A's group
is refused at A's inbox (B gives up on it: 403 is permanent), pat's deliveries get 403; what both wrote
before is gone from A's group page and outbox, bea is no longer a member; unsuspending brings their posts
back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from inbox_outbox.services import suspensions
from storage.models import Activity, Delivery
from tests.inbox_outbox.content_support import create, mastodon_note
from tests.multinode.conftest import Databases
from tests.support.cluster import RunningNode, eventually, http_get, running_nodes
from tests.support.peer import Peer


async def _page_shows(node: RunningNode, path: str, words: str) -> bool:
    status, body = await http_get(f"{node.base_url}{path}", accept="text/html")
    assert status == 200, (path, status)
    return words in str(body)


async def _outbox_shows(node: RunningNode, group: str, words: str) -> bool:
    status, body = await http_get(f"{node.group(group)}/outbox?page=1")
    assert status == 200, status
    return words in str(body)


async def _delivery_of(node: RunningNode, activity_uri: str) -> tuple[Any, ...] | None:
    """(state, last_status) of the node's delivery of ``activity_uri``, once it is finished."""
    rows = await node.rows(select(Delivery.state, Delivery.last_status).join(Activity, Activity.id == Delivery.activity_id)
                           .where(Activity.uri == activity_uri, Delivery.state != "pending"))
    return next(iter(rows), None)


async def test_suspending_a_person_of_another_node_and_of_a_mastodon_peer(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer(require_signed_gets=True) as peer:
        peer.route_origin(a.base_url, a.base_url)
        await a.create_person("alice")
        await a.create_group("garden", owner="alice")
        await b.create_person("bea")
        garden, bea = a.group("garden"), b.user("bea")
        await b.join("bea", a.handle("garden"))
        await eventually(lambda: a.member_state("garden", bea), equals="accepted", what="bea joins garden")
        before = await b.write_post("bea", garden, "Cheap pills", "Buy cheap pills from bea")
        await eventually(lambda: a.post(before), what="A stores bea's post")
        pat = peer.add_actor("pat")
        note = mastodon_note(pat, garden, handle=f"@garden@{a.domain}", content="<p>Pat sells pills too</p>")
        assert (await peer.deliver(pat, f"{a.base_url}/inbox", create(pat, note)))[0] == 202
        await eventually(lambda: a.post(note["id"]), what="A stores pat's post")
        for title, words in (("Cheap pills", "Buy cheap pills"), ("Pat sells pills", "Pat sells pills")):
            assert await _page_shows(a, "/groups/garden", title) and await _outbox_shows(a, "garden", words)

        await suspensions.suspend(a.fed, b.handle("bea"), reason="spam", actor_uri=None)
        await suspensions.suspend(a.fed, pat.id, reason="spam", actor_uri=None)

        assert await a.member_state("garden", bea) is None
        for title, words in (("Cheap pills", "Buy cheap pills"), ("Pat sells pills", "Pat sells pills")):
            assert not await _page_shows(a, "/groups/garden", title)
            assert not await _outbox_shows(a, "garden", words)
        status, reason = await peer.deliver(pat, f"{a.base_url}/inbox", create(pat, mastodon_note(pat, garden)))
        assert status == 403 and "suspended" in reason
        # bea still thinks she is a member (nobody told B): her new post is refused by A's inbox.
        after = await b.write_post("bea", garden, "More pills", "Even more pills")
        sent = await b.create_of(after)
        refused = await eventually(lambda: _delivery_of(b, sent), what="B's delivery of it ends")
        assert refused == ("dead", 403)
        assert await a.post(after) is None

        await suspensions.unsuspend(a.fed, b.handle("bea"), actor_uri=None)
        assert await _page_shows(a, "/groups/garden", "Cheap pills") and await _outbox_shows(a, "garden", "Buy cheap pills")
        assert not await _page_shows(a, "/groups/garden", "Pat sells pills")  # pat is still suspended
