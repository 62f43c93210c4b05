"""Follow, Accept, Reject and Undo{Follow} as we send them (FEP-1b12 "Following a Group", PROTOCOL.md "Groups").

Shared by the inbox handlers (a remote actor follows one of ours) and the outbox services (our people
follow, leave, get approved). Shapes follow Lemmy's federation assets, which Mastodon also accepts:
``Accept``/``Reject`` embed the Follow they answer (Lemmy requires the embedded ``object`` to name the
group; Mastodon matches by the Follow's id or by the actor/object pair).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import activity, strip_context
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from storage.models import Activity, LocalActor

Document = dict[str, Any]
# Follow.state of one of our people banned from a remote group (handlers.block): not following, and
# joining again is refused here until the group lifts the ban.
BANNED = "banned"


def follow_document(follow_id: str, follower_uri: str, followee_uri: str) -> Document:
    """The Follow as it is embedded in Accept/Reject/Undo: only what every peer matches on."""
    return {"id": follow_id, "type": "Follow", "actor": follower_uri, "object": followee_uri}


def embedded_follow(received: Document, follower_uri: str, followee_uri: str) -> Document:
    """A received Follow reduced to its id/type/actor/object: we never re-publish anything else it carried."""
    return follow_document(str(received["id"]), follower_uri, followee_uri)


def new_follow(urls: Urls, follower_uri: str, followee_uri: str) -> Document:
    return activity(new_activity_id(urls), "Follow", follower_uri, followee_uri, to=[followee_uri])


def local_uri(urls: Urls, actor: LocalActor) -> str:
    return urls.actor(actor.actor_type, actor.username)


async def answer_follow(
    session: AsyncSession, urls: Urls, followee: LocalActor, follow: Document, inbox: str, *, accept: bool
) -> Activity:
    """Queue ``Accept{Follow}`` or ``Reject{Follow}`` from ``followee`` to the follower's inbox."""
    follower_uri = str(follow["actor"])
    answer = activity(
        new_activity_id(urls),
        "Accept" if accept else "Reject",
        local_uri(urls, followee),
        strip_context(follow),
        to=[follower_uri],
    )
    return await publish(session, urls, followee, answer, [inbox])


async def send_follow(
    session: AsyncSession, urls: Urls, follower: LocalActor, followee_uri: str, inbox: str
) -> Document:
    """Queue a Follow; follow requests bypass host health (PROTOCOL.md "Delivery")."""
    follow = new_follow(urls, local_uri(urls, follower), followee_uri)
    await publish(session, urls, follower, follow, [inbox], bypass_host_health=True)
    return follow


async def send_undo_follow(
    session: AsyncSession, urls: Urls, follower: LocalActor, follow_id: str | None, followee_uri: str, inbox: str
) -> None:
    """Queue ``Undo{Follow}``. The embedded Follow is the one we sent when we still have it (Lemmy and
    Mastodon look it up by id); a Follow with a fresh id otherwise, which peers match by actor/object."""
    follower_uri = local_uri(urls, follower)
    follow = follow_document(follow_id or new_activity_id(urls), follower_uri, followee_uri)
    undo = activity(new_activity_id(urls), "Undo", follower_uri, follow, to=[followee_uri])
    await publish(session, urls, follower, undo, [inbox])
