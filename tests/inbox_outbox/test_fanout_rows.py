"""A group's fan-out written by the database (outbox.publish_to, issue #13) queues exactly the delivery rows
that reading the members' inboxes into Python did (outbox.publish_all): the delivery worker and peers
see no difference."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, literal, select

from actors import local
from inbox_outbox.addressing import group_member_inboxes, group_member_targets, host_of
from inbox_outbox.outbox import publish_all, publish_to
from madeopen.app import Services
from storage.models import Activity, Delivery, Membership, RemoteActor
from storage.url_sql import url_host
from tests.inbox_outbox.groups_support import group_uri, make_group
from tests.support.fanouts import expanded


def _announce(group: str, n: int) -> dict[str, Any]:
    return {"id": f"{group_uri(group)}/activities/{uuid.uuid4().hex}", "type": "Announce", "actor": group_uri(group),
            "object": f"https://a.example/notes/{n}", "to": ["https://www.w3.org/ns/activitystreams#Public"]}


# (inbox, shared inbox, membership state): shared inboxes shared by several members, an empty shared
# inbox, upper-case hosts with ports, a query before any path, a pending member, an inbox on our own node.
MEMBERS = [
    ("https://b.example/users/1/inbox", "https://b.example/inbox", "accepted"),
    ("https://A.Example:8443/u/2/inbox", None, "accepted"),
    ("https://b.example/users/3/inbox", "https://b.example/inbox", "accepted"),
    ("https://c.example/users/4/inbox", "", "accepted"),
    ("https://d.example?inbox=5", None, "accepted"),
    ("https://e.example/users/6/inbox", None, "pending"),
    ("{base}/users/7/inbox", None, "accepted"),  # our own node: nothing to POST
    ("https://user:pw@F.example/inbox#x", None, "accepted"),
]


async def _rows(services: Services, activity_ids: list[int]) -> list[list[tuple[Any, ...]]]:
    async with services.sessions() as session:
        found = []
        for activity_id in activity_ids:
            rows = await session.execute(
                select(Delivery.signer_id, Delivery.inbox, Delivery.host, Delivery.state, Delivery.attempts,
                       Delivery.bypass_host_health, Delivery.lease_until, Delivery.next_attempt_at.is_not(None))
                .where(Delivery.activity_id == activity_id).order_by(Delivery.id)
            )
            found.append([tuple(row) for row in rows])
        return found


async def test_database_written_fanout_queues_the_same_rows_as_python(services: Services) -> None:
    group = await make_group(services, "writers")
    async with services.sessions.begin() as session:
        for n, (inbox, shared, state) in enumerate(MEMBERS):
            actor = RemoteActor(uri=f"https://m{n}.example/users/{n}", actor_type="Person", username=f"m{n}",
                                domain=f"m{n}.example", inbox=inbox.format(base=services.urls.base), shared_inbox=shared)
            session.add(actor)
            await session.flush()
            session.add(Membership(group_id=group.id, remote_actor_id=actor.id, role="member", state=state,
                                   follow_activity_uri=f"{actor.uri}/follows/{n}"))

    async with services.sessions.begin() as session:
        signer = await local.find_group(session, "writers")
        by_python = await publish_all(session, services.urls, signer, [_announce("writers", 1), _announce("writers", 2)],
                                      await group_member_inboxes(session, group.id))
        python_ids = [activity.id for activity in by_python]
        documents = [_announce("writers", 3), _announce("writers", 4)]
        await publish_to(session, services.urls, signer, documents, group_member_targets(group.id))
        database_ids = list(await session.scalars(
            select(Activity.id).where(Activity.uri.in_([d["id"] for d in documents])).order_by(Activity.id)))

    assert await expanded(services) == 2  # the delivery worker's step: one fan-out row per Announce
    python_rows, database_rows = await _rows(services, python_ids), await _rows(services, database_ids)
    assert database_rows == python_rows
    assert [inbox for _, inbox, *_ in database_rows[0]] == [
        "https://b.example/inbox", "https://A.Example:8443/u/2/inbox", "https://c.example/users/4/inbox",
        "https://d.example?inbox=5", "https://user:pw@F.example/inbox#x",
    ]
    async with services.sessions() as session:
        stored = list(await session.scalars(select(Activity).where(Activity.id.in_(database_ids)).order_by(Activity.id)))
    assert [(a.type, a.object_uri, a.public) for a in stored] == [
        ("Announce", "https://a.example/notes/3", True), ("Announce", "https://a.example/notes/4", True)]


async def test_hosts_computed_by_the_database_are_those_of_host_of(services: Services) -> None:
    urls = ["https://b.example/inbox", "https://A.Example:8443/u/2/inbox", "https://d.example?inbox=5",
            "https://user:pw@F.example/inbox#x", "http://g.example", "https://h.example#frag", "not a url"]
    async with services.sessions() as session:
        for url in urls:
            assert await session.scalar(select(url_host(literal(url)))) == host_of(url), url


async def test_a_fanout_is_one_statement_on_postgresql(services: Services) -> None:
    """The activities and their fan-out rows: one ``WITH … INSERT`` on PostgreSQL, two INSERTs on SQLite (no
    INSERT in a CTE there); the same rows either way (the test above)."""
    group = await make_group(services, "counted")
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    async with services.sessions.begin() as session:
        signer = await local.find_group(session, "counted")
        event.listen(services.engine.sync_engine, "before_cursor_execute", seen)
        try:
            await publish_to(session, services.urls, signer, [_announce("counted", 1), _announce("counted", 2)],
                             group_member_targets(group.id))
        finally:
            event.remove(services.engine.sync_engine, "before_cursor_execute", seen)
    assert len(statements) == (1 if services.engine.dialect.name == "postgresql" else 2)
    async with services.sessions() as session:
        assert len(list(await session.scalars(select(Activity.id).where(Activity.actor_uri == group_uri("counted"))))) == 2
