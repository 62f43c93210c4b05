"""Votes of local people on posts: Like (a Lemmy up-vote, a Mastodon favourite), Dislike (a Lemmy
down-vote) and their Undo, addressed and delivered where the post lives (.post_delivery)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import Forbidden
from actors.memberships import can_read, is_banned
from actors.urls import Urls
from content.votes import add_reaction, find_reaction, remove_reaction
from federation.activities import activity, strip_context
from federation.context import PUBLIC
from inbox_outbox.ids import new_activity_id
from inbox_outbox.services.common import uri_of
from inbox_outbox.services.post_delivery import Place, deliver, live_post
from storage.models import Activity, LocalActor, Object, utcnow

_VOTE_TYPES = {"like": "Like", "dislike": "Dislike"}


async def _votable(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> tuple[Object, Place]:
    obj, place = await live_post(session, urls, object_uri, missing=f"no post {object_uri} here",
                                 deleted="that post was deleted")
    if place.group is not None:
        actor_uri = uri_of(urls, actor)
        if await is_banned(session, urls, place.group, actor_uri) or not await can_read(
            session, urls, place.group, actor_uri
        ):
            raise Forbidden(f"{actor.username} may not vote in {place.group.username}")
    return obj, place


def _vote_addressing(urls: Urls, obj: Object, place: Place) -> tuple[list[str], list[str]]:
    if place.group is not None and not place.public:
        return [obj.author_uri], [f"{urls.group(place.group.username)}/followers"]
    if place.remote_group is not None and not place.public:
        followers = place.remote_group.followers
        return [obj.author_uri], [followers] if followers else []
    return [obj.author_uri], [PUBLIC]


async def _vote(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str, kind: str) -> Activity | None:
    obj, place = await _votable(session, urls, actor, object_uri)
    actor_uri = uri_of(urls, actor)
    existing = await find_reaction(session, actor_uri=actor_uri, object_uri=obj.uri)
    if existing is not None and existing.kind == kind:
        return None  # voted so already
    if existing is not None:
        # Switching: take the old vote back first, so Mastodon (which ignores Dislike) forgets the Like.
        await _undo_vote(session, urls, actor, obj, place, existing.kind, existing.activity_uri)
    to, cc = _vote_addressing(urls, obj, place)
    vote = activity(new_activity_id(urls), _VOTE_TYPES[kind], actor_uri, obj.uri, to=to, cc=cc,
                    audience=place.audience(urls), published=utcnow())
    await add_reaction(session, actor_uri, obj.uri, kind, vote["id"])
    if kind == "like":
        await notifications.liked(session, urls, actor_uri, obj)
    return await deliver(session, urls, actor, place, vote, also=[obj.author_uri])


async def like(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Like (an up-vote for Lemmy, a favourite for Mastodon); None when already liked."""
    return await _vote(session, urls, actor, object_uri, "like")


async def dislike(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Dislike (a Lemmy down-vote); None when already disliked."""
    return await _vote(session, urls, actor, object_uri, "dislike")


async def _undo_vote(
    session: AsyncSession, urls: Urls, actor: LocalActor, obj: Object, place: Place, kind: str,
    vote_uri: str | None,
) -> Activity:
    actor_uri = uri_of(urls, actor)
    sent = await session.scalar(select(Activity).where(Activity.uri == vote_uri)) if vote_uri else None
    inner = strip_context(sent.document) if sent is not None else {
        "id": vote_uri or new_activity_id(urls), "type": _VOTE_TYPES[kind], "actor": actor_uri, "object": obj.uri,
    }
    reaction = await find_reaction(session, actor_uri=actor_uri, object_uri=obj.uri, kind=kind)
    if reaction is not None:
        await remove_reaction(session, reaction)
    to, cc = _vote_addressing(urls, obj, place)
    undo = activity(new_activity_id(urls), "Undo", actor_uri, inner, to=to, cc=cc,
                    audience=place.audience(urls), published=utcnow())
    return await deliver(session, urls, actor, place, undo, also=[obj.author_uri])


async def undo_reaction(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Take back this person's vote on the post, whichever it was; None when there was none."""
    obj, place = await _votable(session, urls, actor, object_uri)
    existing = await find_reaction(session, actor_uri=uri_of(urls, actor), object_uri=obj.uri)
    if existing is None:
        return None
    return await _undo_vote(session, urls, actor, obj, place, existing.kind, existing.activity_uri)
