"""Helpers for the content tests (handlers, services, web): a peer that also serves posts, payloads in
the shapes Lemmy, PieFed and Mastodon send, and readers of what we stored and queued.

Incoming activities are driven as production drives them: an InboundActivity row (what the inbox stores
after verifying the signature), then one step of the real InboundWorker. Remote actors and their posts
live on real loopback servers (``ContentPeer``); our node fetches them over HTTP.
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
from storage.models import Activity, Delivery, Follow, InboundActivity, LocalActor, Membership, Object, Reaction
from tests.support.fanouts import expanded
from tests.support.peer import Peer
from tests.support.peer_actor import PeerActor

AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"


class ContentPeer(Peer):
    """A ``tests.support.peer.Peer`` (which serves the posts, activities and collections handed to
    ``Peer.serve`` and counts their GETs) that also names URLs for new documents on this server."""

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def new_url(self, kind: str = "post") -> str:
        return self.url(f"/{kind}/{uuid.uuid4().hex}")


# --------------------------------------------------------------------------------------------------
# Payloads (hand-written after the peers' documented shapes)


def lemmy_page(author: PeerActor, group: str, *, name: str = "Tomatoes", content: str = "<p>Blight again</p>",
               public: bool = True, **extra: Any) -> dict[str, Any]:
    """A Lemmy/PieFed thread: Page with a title, the group in `to` and `audience`."""
    return {
        "id": author.peer.base_url + f"/post/{uuid.uuid4().hex}",
        "type": "Page",
        "attributedTo": author.id,
        "to": [group, PUBLIC] if public else [group],
        "cc": [],
        "name": name,
        "content": content,
        "mediaType": "text/html",
        "source": {"content": "Blight again", "mediaType": "text/markdown"},
        "commentsEnabled": True,
        "sensitive": False,
        "published": "2024-05-01T10:00:00.123456+00:00",
        "audience": group,
        **extra,
    }


def lemmy_comment(author: PeerActor, group: str, parent: str, *, content: str = "<p>Same here</p>",
                  **extra: Any) -> dict[str, Any]:
    return {
        "id": author.peer.base_url + f"/comment/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": author.id,
        "to": [PUBLIC],
        "cc": [group],
        "content": content,
        "inReplyTo": parent,
        "audience": group,
        "published": "2024-05-01T11:00:00Z",
        **extra,
    }


def mastodon_note(author: PeerActor, mentioned: str, *, handle: str = "@garden@node.test",
                  content: str | None = None, visibility: str = "public", **extra: Any) -> dict[str, Any]:
    """A Mastodon status mentioning ``mentioned`` (a group or person): Mention tag, cc, conversation."""
    serial = uuid.uuid4().int % 10**18
    followers = f"{author.id}/followers"
    to, cc = {"public": ([PUBLIC], [followers, mentioned]), "private": ([followers], [mentioned]),
              "direct": ([mentioned], [])}[visibility]
    return {
        "id": f"{author.peer.base_url}/statuses/{serial}",
        "type": "Note",
        "summary": None,
        "inReplyTo": None,
        "published": "2024-05-02T09:15:00Z",
        "url": f"{author.peer.base_url}/@{author.username}/{serial}",
        "attributedTo": author.id,
        "to": to,
        "cc": cc,
        "sensitive": False,
        "conversation": f"tag:{author.peer.host},2024-05-02:objectId={serial}:objectType=Conversation",
        "content": content or (
            f'<p><span class="h-card" translate="no"><a href="{mentioned}" class="u-url mention">'
            f'@<span>garden</span></a></span> Seed swap on Saturday?</p>'
        ),
        "tag": [{"type": "Mention", "href": mentioned, "name": handle}],
        **extra,
    }


def create(actor: PeerActor, obj: Any, **extra: Any) -> dict[str, Any]:
    """Create{obj}, addressed like the object (Mastodon and Lemmy copy to/cc onto the activity)."""
    doc: dict[str, Any] = {"@context": AS2, "id": f"{actor.peer.base_url}/activities/create/{uuid.uuid4().hex}",
                           "type": "Create", "actor": actor.id, "object": obj}
    if isinstance(obj, dict):
        for key in ("to", "cc", "audience"):
            if key in obj:
                doc[key] = obj[key]
    doc.update(extra)
    return doc


def activity(actor: PeerActor, kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    return {"@context": AS2, "id": f"{actor.peer.base_url}/activities/{kind.lower()}/{uuid.uuid4().hex}",
            "type": kind, "actor": actor.id, "object": obj, **extra}


# --------------------------------------------------------------------------------------------------
# Our side


async def person(services: Services, name: str) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_person(session, local.NewPerson(username=name, password="a long password"))


async def group(services: Services, name: str, *, private: bool = False, owner: str | None = None) -> LocalActor:
    async with services.sessions.begin() as session:
        return await local.create_group(session, local.NewGroup(username=name, private=private, owner=owner))


async def join(services: Services, group_name: str, actor: PeerActor, *, role: str = "member",
               state: str = "accepted") -> None:
    """``actor`` (remote) is already in our group, as the Follow handler would have left it."""
    assert services.remote is not None
    remote = await services.remote.resolve(actor.id)
    async with services.sessions.begin() as session:
        target = await local.find_group(session, group_name)
        session.add(Membership(group_id=target.id, remote_actor_id=remote.id, role=role, state=state))


async def join_local(services: Services, group_name: str, name: str, *, role: str = "member") -> None:
    async with services.sessions.begin() as session:
        target = await local.find_group(session, group_name)
        who = await local.find_person(session, name)
        session.add(Membership(group_id=target.id, local_actor_id=who.id, role=role, state="accepted"))


async def follow(services: Services, follower: str, followee: str) -> None:
    """An accepted follow (one of our people following a remote group or person, or the reverse)."""
    async with services.sessions.begin() as session:
        session.add(Follow(follower_uri=follower, followee_uri=followee, state="accepted"))


# --------------------------------------------------------------------------------------------------
# Incoming


@dataclass(frozen=True)
class Outcome:
    state: str  # done | failed (dropped) | pending (will retry)
    error: str | None

    @property
    def dropped(self) -> bool:
        return self.state == "failed"


async def receive(services: Services, sender: PeerActor, doc: dict[str, Any], *, recipient: str | None = None) -> Outcome:
    """Queue ``doc`` as verified from ``sender`` and let the inbound worker process it."""
    assert services.fed is not None
    row = InboundActivity(activity_id=doc.get("id"), actor_uri=sender.id, key_id=sender.key_id,
                          recipient=recipient, body=json.dumps(doc))
    async with services.sessions.begin() as session:
        session.add(row)
    await InboundWorker(services.fed).run_once()
    async with services.sessions() as session:
        stored = await session.get(InboundActivity, row.id)
        assert stored is not None
        return Outcome(stored.state, stored.error)


# --------------------------------------------------------------------------------------------------
# What we hold and what peers would receive


async def stored(services: Services, uri: str) -> Object | None:
    async with services.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def objects(services: Services) -> list[Object]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Object).order_by(Object.id)))


async def reactions(services: Services) -> list[Reaction]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Reaction).order_by(Reaction.id)))


async def published(services: Services, actor_uri: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Documents of activities we published (optionally by one actor / of one type), oldest first."""
    query = select(Activity.document).order_by(Activity.id)
    if actor_uri is not None:
        query = query.where(Activity.actor_uri == actor_uri)
    if kind is not None:
        query = query.where(Activity.type == kind)
    async with services.sessions() as session:
        return list(await session.scalars(query))


async def inboxes_of(services: Services, activity_id: str) -> set[str]:
    """Where the activity ``activity_id`` is queued for delivery."""
    await expanded(services)
    async with services.sessions() as session:
        rows = await session.scalars(
            select(Delivery.inbox).join(Activity, Activity.id == Delivery.activity_id).where(Activity.uri == activity_id)
        )
        return set(rows)


async def delivery_count(services: Services) -> int:
    await expanded(services)
    async with services.sessions() as session:
        return len(list(await session.scalars(select(Delivery.id))))


def addressed(doc: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for key in ("to", "cc", "bto", "bcc"):
        value = doc.get(key) or []
        found.update(value if isinstance(value, list) else [value])
    return found


# --------------------------------------------------------------------------------------------------
# The usual cast


@dataclass(frozen=True)
class World:
    """alice owns the public group garden and the private group board; dave is another local person.
    bob (a member of both) and carol (of neither) are people on a remote server; ``peer`` serves them."""

    services: Services
    peer: ContentPeer
    bob: PeerActor
    carol: PeerActor

    def uri(self, path: str) -> str:
        return self.services.urls.base + path

    @property
    def garden(self) -> str:
        return self.services.urls.group("garden")

    @property
    def board(self) -> str:
        return self.services.urls.group("board")

    @property
    def alice(self) -> str:
        return self.services.urls.person("alice")

    @property
    def dave(self) -> str:
        return self.services.urls.person("dave")


async def make_world(services: Services, peer: ContentPeer) -> World:
    bob = peer.add_actor("bob", name="Bob")
    carol = peer.add_actor("carol", name="Carol")
    await person(services, "alice")
    await person(services, "dave")
    await group(services, "garden", owner="alice")
    await group(services, "board", private=True, owner="alice")
    await join(services, "garden", bob)
    await join(services, "board", bob)
    return World(services, peer, bob, carol)
