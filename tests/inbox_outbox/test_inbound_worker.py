"""The inbound worker's batches (inbox_outbox/inbound_worker.py, storage/batch.py): several activities in
one transaction, none lost or blocked by another that fails or needs the network."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from inbox_outbox.inbound_worker import InboundWorker
from storage.models import InboundActivity
from tests.inbox_outbox.content_support import World, activity, create, lemmy_page, published, stored
from tests.support.peer import PeerActor
from tests.support.peer_fixtures import *  # noqa: F403  (fixtures: content_world and what it needs)


async def _queue(w: World, sender: PeerActor, body: dict[str, Any] | str) -> int:
    row = InboundActivity(activity_id=body.get("id") if isinstance(body, dict) else None, actor_uri=sender.id,
                          key_id=sender.key_id, body=body if isinstance(body, str) else json.dumps(body))
    async with w.services.sessions.begin() as session:
        session.add(row)
    return row.id


async def _states(w: World, ids: list[int]) -> list[tuple[str, str | None]]:
    async with w.services.sessions() as session:
        rows = {row.id: row for row in await session.scalars(select(InboundActivity).where(InboundActivity.id.in_(ids)))}
    return [(rows[i].state, rows[i].error) for i in ids]


async def test_one_batch_runs_every_activity_whatever_one_of_them_does(content_world: World) -> None:
    """In one claim: a post, a broken body (an unexpected error), a Like of that post (it sees the post
    the batch has not committed yet), a post given by id only (it must be fetched: it runs alone after the
    batch) and a post refused by the group (dropped). Each ends as it would alone."""
    w = content_world
    page = lemmy_page(w.bob, w.garden)
    by_id = lemmy_page(w.bob, w.garden, name="Fetched")
    w.peer.serve(by_id)
    ids = [
        await _queue(w, w.bob, create(w.bob, page)),
        await _queue(w, w.bob, "{not json"),
        await _queue(w, w.carol, activity(w.carol, "Like", page["id"], audience=w.garden)),
        await _queue(w, w.bob, create(w.bob, by_id["id"])),
        await _queue(w, w.bob, create(w.bob, lemmy_page(w.bob, w.garden, public=False))),  # garden is public
    ]
    assert w.services.fed is not None

    assert await InboundWorker(w.services.fed).run_once() == 5

    states = await _states(w, ids)
    assert [state for state, _ in states] == ["done", "failed", "done", "done", "failed"]
    assert states[1][1] is not None and states[1][1].startswith("internal error")
    post = await stored(w.services, page["id"])
    assert post is not None and post.like_count == 1
    assert await stored(w.services, by_id["id"]) is not None
    announced = [doc["object"] for doc in await published(w.services, w.garden, "Announce")]
    kinds = sorted(a["type"] for a in announced if isinstance(a, dict))
    assert kinds == ["Create", "Create", "Like"]  # each post and the vote relayed once
    assert len(await published(w.services, w.garden, "Reject")) == 1  # the refused author is told, as alone
