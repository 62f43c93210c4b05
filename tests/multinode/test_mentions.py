"""Mentions across two real nodes: alice on A mentions bea on B (not a member of A's group) in a new
thread; B stores the post and bea is notified. bea answers on B mentioning olga on A; A notifies olga.
Then bea joins A's group and asks to hear of its new threads: B tells her of the next one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inbox_outbox.services import threads, watching
from storage.models import LocalActor, Notification, Object
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes


async def _notified(node: RunningNode, person: str, kind: str, object_uri: str) -> bool:
    found = await node.scalar(
        select(Notification.id).join(LocalActor, LocalActor.id == Notification.recipient_id)
        .where(LocalActor.username == person, Notification.kind == kind, Notification.object_uri == object_uri)
    )
    return found is not None


async def test_a_mention_on_one_node_notifies_the_person_on_the_other(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b):
        for name in ("alice", "olga"):
            await a.create_person(name)
        await a.create_group("garden", owner="olga")
        await b.create_person("bea")

        thread = await threads.start_thread(a.fed, "alice", "garden", "Seed swap",
                                            f"Bring seeds! @{'bea'}@{b.domain} knows where.")
        on_a = await a.post(thread.uri)
        assert on_a is not None and f'href="{b.user("bea")}" class="u-url mention"' in on_a.content
        await eventually(lambda: _notified(b, "bea", "mention", thread.uri), what="bea told of the mention on B")

        copy = await b.scalar(select(Object).where(Object.uri == thread.uri))
        assert copy is not None
        answer = await threads.reply_to(b.fed, "bea", copy.id, f"Ask @olga@{a.domain} too.")
        await eventually(lambda: _notified(a, "olga", "mention", answer.uri), what="olga told of bea's mention on A")
        assert await _notified(a, "alice", "reply", answer.uri)  # and alice, whose thread it answers

        # bea joins A's group and asks to hear of its new threads: B tells her of the next one.
        await b.join("bea", a.handle("garden"))
        await eventually(lambda: b.follow_state("bea", a.group("garden")), equals="accepted", what="bea in garden")
        await watching.watch_group(b.fed, "bea", a.group("garden"), True)
        compost = await threads.start_thread(a.fed, "olga", "garden", "Compost", "Who has some?")
        await eventually(lambda: _notified(b, "bea", "new_thread", compost.uri), what="bea told of the new thread")
    no_tracebacks(tmp_path)
