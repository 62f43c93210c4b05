"""Boosts by our people (issue #16 "replies, likes, boosts across servers"): ``Announce{<post id>}``, as
Mastodon sends a reblog, to the booster's followers and the post's author; ``Undo{Announce}`` takes it
back (Mastodon ``app/lib/activitypub/activity/undo.rb`` ``undo_announce``). Only public posts are boosted:
a boost shows a post to people it was not addressed to.

Whether someone boosts a post now, and the post's boost count, are content.boosts' (one row per booster,
written here beside the ``Announce`` and removed beside its ``Undo``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import InvalidInput, NotFound
from actors.urls import Urls
from content.boosts import add_boost, boost_of, remove_boost
from content.store import object_by_uri
from federation.activities import activity, strip_context
from federation.context import PUBLIC
from inbox_outbox.addressing import actor_inboxes, dedupe, follower_inboxes
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from storage.models import Activity, LocalActor, utcnow


def _uri(urls: Urls, actor: LocalActor) -> str:
    return urls.actor(actor.actor_type, actor.username)


async def _live_boost(session: AsyncSession, actor_uri: str, object_uri: str) -> Activity | None:
    """The ``Announce`` ``actor_uri`` published for their standing boost of ``object_uri``, or None."""
    standing = await boost_of(session, actor_uri, object_uri)
    if standing is None or standing.activity_uri is None:
        return None
    return await session.scalar(select(Activity).where(Activity.uri == standing.activity_uri))


async def _inboxes(session: AsyncSession, actor_uri: str, author_uri: str) -> list[str]:
    return dedupe(await follower_inboxes(session, actor_uri) + await actor_inboxes(session, [author_uri]))


async def boost(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Boost a public post; None when already boosted."""
    obj = await object_by_uri(session, object_uri)
    if obj is None:
        raise NotFound(f"no post {object_uri} here")
    if obj.deleted or not obj.public:
        raise InvalidInput("only public posts can be boosted")
    actor_uri = _uri(urls, actor)
    if await _live_boost(session, actor_uri, obj.uri) is not None:
        return None
    document = activity(new_activity_id(urls), "Announce", actor_uri, obj.uri, to=[PUBLIC],
                        cc=[f"{actor_uri}/followers", obj.author_uri], published=utcnow())
    await notifications.boosted(session, urls, actor_uri, obj)  # a local author is told here, a remote one by the Announce
    await add_boost(session, actor_uri, obj.uri, document["id"])
    return await publish(session, urls, actor, document, await _inboxes(session, actor_uri, obj.author_uri))


async def unboost(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Take a boost back; None when there was none."""
    actor_uri = _uri(urls, actor)
    announce = await _live_boost(session, actor_uri, object_uri)
    if announce is None:
        return None
    await remove_boost(session, actor_uri, activity_uri=announce.uri, object_uri=object_uri)
    obj = await object_by_uri(session, object_uri)
    author = obj.author_uri if obj is not None else ""
    document = activity(new_activity_id(urls), "Undo", actor_uri, strip_context(announce.document),
                        to=[PUBLIC], cc=[f"{actor_uri}/followers", *([author] if author else [])], published=utcnow())
    return await publish(session, urls, actor, document, await _inboxes(session, actor_uri, author))
