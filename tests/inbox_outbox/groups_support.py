"""Helpers for the membership, follow and moderation tests (handlers and services).

Remote actors live on a real loopback peer (tests.support.peer.Peer). Incoming activities are driven the
way production drives them: an InboundActivity row, as the inbox stores it after verifying the
signature, then one step of the real InboundWorker. What peers would receive is read from the
delivery queue (Delivery rows joined with the Activity they carry).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from actors import local
from inbox_outbox.inbound_worker import InboundWorker
from madeopen.app import Services
from storage.models import Activity, Delivery, Featured, Flag, Follow, InboundActivity, LocalActor, Membership, Object, RemoteActor
from tests.support.fanouts import expanded
from tests.support.peer_actor import PeerActor

AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"
BASE = "http://node.test"


def person_uri(name: str) -> str:
    return f"{BASE}/users/{name}"


def group_uri(name: str) -> str:
    return f"{BASE}/groups/{name}"


# -- our side -----------------------------------------------------------------------------------


async def make_person(services: Services, name: str, *, suspended: bool = False) -> LocalActor:
    async with services.sessions.begin() as session:
        actor = await local.create_person(session, local.NewPerson(username=name, password="a long password"))
        if suspended:
            assert actor.account is not None
            actor.account.suspended = True
    return actor


async def make_group(services: Services, name: str, *, private: bool = False, owner: str | None = None) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_group(session, local.NewGroup(username=name, private=private, owner=owner))


async def add_remote_member(
    services: Services, group: str, actor: PeerActor, *, role: str = "member", state: str = "accepted"
) -> None:
    """A remote actor already in one of our groups (resolved through the peer, as the inbox would)."""
    assert services.remote is not None
    remote = await services.remote.resolve(actor.id)
    async with services.sessions.begin() as session:
        group_actor = await local.find_group(session, group)
        session.add(
            Membership(
                group_id=group_actor.id, remote_actor_id=remote.id, role=role, state=state,
                follow_activity_uri=f"{actor.id}/follows/{uuid.uuid4().hex}",
            )
        )


async def add_local_member(services: Services, group: str, person: str, *, role: str = "member") -> None:
    async with services.sessions.begin() as session:
        group_actor = await local.find_group(session, group)
        person_actor = await local.find_person(session, person)
        session.add(Membership(group_id=group_actor.id, local_actor_id=person_actor.id, role=role, state="accepted"))


async def add_post(
    services: Services,
    author_uri: str,
    *,
    group: str | None = None,
    audience: str | None = None,
    local_post: bool = False,
    content: str = "<p>Hello</p>",
) -> str:
    """A post row as the content handlers store it; returns its id."""
    uri = f"{author_uri}/posts/{uuid.uuid4().hex}" if not local_post else f"{BASE}/objects/{uuid.uuid4()}"
    async with services.sessions.begin() as session:
        group_id = (await local.find_group(session, group)).id if group else None
        document = {"id": uri, "type": "Page", "attributedTo": author_uri, "content": content, "name": "A post"}
        if audience or group:
            document["audience"] = audience or group_uri(group or "")
        session.add(
            Object(
                uri=uri, local=local_post, type="Page", author_uri=author_uri, group_id=group_id,
                audience_uri=audience or (group_uri(group) if group else None), content=content,
                name="A post", document=document,
            )
        )
    return uri


# -- incoming -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str  # done | failed (dropped) | pending (will retry)
    error: str | None


async def receive(services: Services, sender: PeerActor, activity: dict[str, Any], *, recipient: str | None = None) -> Outcome:
    """Queue ``activity`` as verified from ``sender`` and let the inbound worker run it."""
    assert services.fed is not None
    row = InboundActivity(
        activity_id=activity.get("id"), actor_uri=sender.id, key_id=sender.key_id, recipient=recipient,
        body=json.dumps(activity),
    )
    async with services.sessions.begin() as session:
        session.add(row)
    await InboundWorker(services.fed).run_once()
    async with services.sessions() as session:
        stored = await session.get(InboundActivity, row.id)
        assert stored is not None
        return Outcome(stored.state, stored.error)


def activity_id(actor: PeerActor, kind: str) -> str:
    return f"{actor.id}/{kind.lower()}/{uuid.uuid4().hex}"


def follow(actor: PeerActor, target: str) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id(actor, "Follow"), "type": "Follow", "actor": actor.id,
            "object": target, "to": [target]}


def undo(actor: PeerActor, inner: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": AS2, "id": activity_id(actor, "Undo"), "type": "Undo", "actor": actor.id, "object": inner, **extra}


def block(moderator: PeerActor, banned: str, group: str | None, *, remove_data: bool = False, **extra: Any) -> dict[str, Any]:
    """Lemmy's Block (crates/apub/assets/lemmy/activities/block/block_user.json)."""
    doc: dict[str, Any] = {
        "@context": AS2, "id": activity_id(moderator, "Block"), "type": "Block", "actor": moderator.id,
        "object": banned, "to": [PUBLIC], "removeData": remove_data, "summary": "spam", **extra,
    }
    if group is not None:
        doc.update(target=group, cc=[group], audience=group)
    return doc


# -- what peers would receive and what we hold ---------------------------------------------------


@dataclass(frozen=True)
class Queued:
    inbox: str
    activity: dict[str, Any]
    signer: str  # username of the local actor that signs the POST
    bypass_host_health: bool


async def queued(services: Services, kind: str | None = None) -> list[Queued]:
    """Deliveries waiting in the queue (optionally of one activity type), oldest first."""
    await expanded(services)
    async with services.sessions() as session:
        rows = await session.execute(
            select(Delivery, Activity.document, LocalActor.username)
            .join(Activity, Activity.id == Delivery.activity_id)
            .join(LocalActor, LocalActor.id == Delivery.signer_id)
            .order_by(Delivery.id)
        )
        found = [Queued(d.inbox, doc, signer, d.bypass_host_health) for d, doc, signer in rows]
    return [q for q in found if kind is None or q.activity["type"] == kind]


async def published(services: Services, kind: str) -> list[dict[str, Any]]:
    """Activities of ``kind`` this node published (stored, dereferenceable), oldest first."""
    async with services.sessions() as session:
        rows = await session.scalars(select(Activity.document).where(Activity.type == kind).order_by(Activity.id))
        return list(rows)


async def membership(services: Services, group: str, actor_uri: str) -> Membership | None:
    async with services.sessions() as session:
        group_actor = await local.find_group(session, group)
        rows = await session.scalars(select(Membership).where(Membership.group_id == group_actor.id))
        for row in rows:
            if row.local_actor_id is not None:
                person = await session.get(LocalActor, row.local_actor_id)
                uri = person_uri(person.username) if person else None
            else:
                remote = await session.get(RemoteActor, row.remote_actor_id)
                uri = remote.uri if remote else None
            if uri == actor_uri:
                return row
    return None


async def memberships(services: Services, group: str) -> int:
    async with services.sessions() as session:
        group_actor = await local.find_group(session, group)
        return len(list(await session.scalars(select(Membership.id).where(Membership.group_id == group_actor.id))))


async def follow_row(services: Services, follower: str, followee: str) -> Follow | None:
    async with services.sessions() as session:
        return await session.scalar(select(Follow).where(Follow.follower_uri == follower, Follow.followee_uri == followee))


async def post(services: Services, uri: str) -> Object:
    async with services.sessions() as session:
        row = await session.scalar(select(Object).where(Object.uri == uri))
        assert row is not None
        return row


async def flags(services: Services) -> list[Flag]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Flag).order_by(Flag.id)))


async def featured_rows(services: Services) -> list[Featured]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Featured).order_by(Featured.id)))
