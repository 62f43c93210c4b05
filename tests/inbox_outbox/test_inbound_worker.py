"""The inbound worker's batches (inbox_outbox/inbound_worker.py, storage/batch.py): several activities in
one transaction, none lost or blocked by another that fails or needs the network."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from inbox_outbox import inbound_worker, pipeline
from inbox_outbox.federation import Federation
from inbox_outbox.inbound_worker import InboundWorker
from storage.models import InboundActivity, Object
from tests.inbox_outbox.content_support import World, activity, create, lemmy_page, published, stored
from tests.support.fanouts import expanded
from tests.support.peer_actor import PeerActor
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


Process = Callable[[Federation, pipeline.Queued], Awaitable[None]]


def _recording(monkeypatch: pytest.MonkeyPatch, ids: list[int], before: Process | None = None,
               after: Process | None = None) -> list[int]:
    """pipeline.process, recording the position in ``ids`` of each row it runs, with ``before``/``after``
    around the real one. The claim goes into one batch, however slow the machine (the order is asserted)."""
    monkeypatch.setattr(inbound_worker, "BATCH_SECONDS", 60.0)
    real = pipeline.process
    calls: list[int] = []

    async def process(fed: Federation, row: pipeline.Queued) -> None:
        calls.append(ids.index(row.id))
        if before is not None:
            await before(fed, row)
        await real(fed, row)
        if after is not None:
            await after(fed, row)

    monkeypatch.setattr(pipeline, "process", process)
    return calls


async def _announced_posts(w: World) -> list[str]:
    """The ids of the posts the garden announced a Create of, once per Announce."""
    announced = [doc["object"] for doc in await published(w.services, w.garden, "Announce")]
    return sorted(a["object"]["id"] for a in announced if isinstance(a, dict) and a.get("type") == "Create")


async def test_an_activity_that_fails_after_writing_undoes_its_batch_and_each_ends_once(
    content_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are optimistic (issue #13, eighth pass: no savepoint per activity). The 3rd of 5 posts raises
    after its handler stored and announced it: only rolling the batch back undoes that. The 1st and 2nd run
    again (a careful batch), the 3rd alone, the 4th and 5th in the next batch: each post stored and
    announced exactly once, every row done."""
    w = content_world
    pages = [lemmy_page(w.bob, w.garden, name=f"Post {n}") for n in range(5)]
    ids = [await _queue(w, w.bob, create(w.bob, page)) for page in pages]

    async def fail_once(_fed: Federation, row: pipeline.Queued) -> None:
        if row.id == ids[2] and calls.count(2) == 1:
            raise RuntimeError("a bug after the handler's writes")

    calls = _recording(monkeypatch, ids, after=fail_once)
    assert w.services.fed is not None

    assert await InboundWorker(w.services.fed).run_once() == 5

    assert calls == [0, 1, 2, 0, 1, 2, 3, 4]
    assert [state for state, _ in await _states(w, ids)] == ["done"] * 5
    for page in pages:
        assert await stored(w.services, page["id"]) is not None
    assert await _announced_posts(w) == sorted(page["id"] for page in pages)


async def test_a_handler_that_catches_a_failed_write_in_a_batch_ends_as_it_would_alone(
    content_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that catches an IntegrityError and goes on (two workers storing one post: the other won).
    Without the write's own savepoint PostgreSQL would refuse every later statement of the batch; the batch
    is undone instead and run again with a savepoint per activity, where the failed write is rolled back
    alone, as before the eighth pass. Both posts end stored and announced once, the first unchanged."""
    w = content_world
    pages = [lemmy_page(w.bob, w.garden, name=f"Post {n}") for n in range(3)]
    ids = [await _queue(w, w.bob, create(w.bob, page)) for page in pages]

    async def race(fed: Federation, row: pipeline.Queued) -> None:
        if row.id != ids[1]:
            return
        with pytest.raises(IntegrityError):  # the first post, stored by this batch a moment ago
            async with fed.sessions.begin() as session:
                session.add(Object(uri=pages[0]["id"], local=False, type="Tombstone", author_uri=w.bob.id, public=False))

    calls = _recording(monkeypatch, ids, before=race)
    assert w.services.fed is not None

    assert await InboundWorker(w.services.fed).run_once() == 3

    assert calls == [0, 1, 0, 1, 2]
    assert [state for state, _ in await _states(w, ids)] == ["done"] * 3
    first = await stored(w.services, pages[0]["id"])
    assert first is not None and first.type == "Page"
    assert await _announced_posts(w) == sorted(page["id"] for page in pages)


async def test_an_activity_dropped_before_writing_leaves_its_batch_going(
    content_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vote on a post we do not have is dropped inside its handler's transaction, having only read: no
    undo is needed, so the batch goes on without running anything twice, and without a savepoint."""
    w = content_world
    pages = [lemmy_page(w.bob, w.garden, name=f"Post {n}") for n in range(2)]
    ids = [
        await _queue(w, w.bob, create(w.bob, pages[0])),
        await _queue(w, w.bob, activity(w.bob, "Like", "https://elsewhere.example/post/1", audience=w.garden)),
        await _queue(w, w.bob, create(w.bob, pages[1])),
    ]
    calls = _recording(monkeypatch, ids)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    assert w.services.fed is not None
    event.listen(w.services.engine.sync_engine, "before_cursor_execute", seen)
    try:
        assert await InboundWorker(w.services.fed).run_once() == 3
    finally:
        event.remove(w.services.engine.sync_engine, "before_cursor_execute", seen)

    assert calls == [0, 1, 2]
    states = await _states(w, ids)
    assert [state for state, _ in states] == ["done", "failed", "done"]
    assert states[1][1] is not None and "not a post we host" in states[1][1]
    assert not any("SAVEPOINT" in statement.upper() for statement in statements)
    assert await _announced_posts(w) == sorted(page["id"] for page in pages)
    # The group's fan-out rows: on SQLite one statement for the batch at its commit; on PostgreSQL in the
    # statement of each post's activities (inbox_outbox.outbox.publish_to).
    fanouts = [statement for statement in statements if "INSERT INTO fanouts" in statement]
    assert len(fanouts) == (2 if w.services.engine.dialect.name == "postgresql" else 1)
    assert await expanded(w.services) == 4  # each post's two Announces: of the Create, of the post
