"""Profile changes that other servers must hear of: ``Update{Person}`` / ``Update{Group}``.

The web UI (profile form, group settings) and the JSON API call these; each works in the caller's
transaction, like the posts services: the change, the ``Update`` (dereferenceable at its id) and its
deliveries are committed together or not at all.

Who receives a person's update: their remote followers, the remote groups they joined (Lemmy and PieFed
keep a copy of every member), and the remote members of our groups they belong to (those servers cached
them as authors of what the group announced). A group's update goes to its remote members. Inboxes are
deduplicated (shared inboxes preferred). The activity embeds the full actor document, with the extension
context, so Mastodon-family servers can apply it as sent; Made Open re-fetches the actor from its origin.

``save_member_profile`` is the profile form's one call: the account basics (display name, bio, avatar:
actors.accounts) and the people-finder fields (people.profiles) are checked together, so the member sees
every error at once, and a single ``Update`` announces the result.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import accounts
from actors.documents import actor_document
from actors.node_settings import InvalidFields
from actors.urls import Urls
from federation.activities import activity, strip_context
from federation.context import PUBLIC, actor_context
from inbox_outbox.addressing import dedupe, delivery_inbox, follower_inboxes, group_member_inboxes
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from people import profiles
from people.profiles import ProfileChange
from storage.models import Activity, Follow, LocalActor, Membership, Profile, RemoteActor, utcnow


async def person_inboxes(session: AsyncSession, urls: Urls, person: LocalActor, actor_uri: str) -> list[str]:
    """The remote inboxes that keep a copy of a local person (see the module text)."""
    inboxes = await follower_inboxes(session, actor_uri)
    remote_groups = await session.scalars(
        select(RemoteActor)
        .join(Follow, Follow.followee_uri == RemoteActor.uri)
        .where(Follow.follower_uri == actor_uri, Follow.state == "accepted", RemoteActor.actor_type == "Group")
        .order_by(RemoteActor.id)
    )
    inboxes += [delivery_inbox(group) for group in remote_groups]
    group_ids = await session.scalars(
        select(Membership.group_id)
        .where(Membership.local_actor_id == person.id, Membership.state == "accepted")
        .order_by(Membership.group_id)
    )
    for group_id in list(group_ids):
        inboxes += await group_member_inboxes(session, group_id)
    return dedupe(inboxes)


async def announce_actor(session: AsyncSession, urls: Urls, actor: LocalActor) -> Activity:
    """Queue ``Update{<the actor document as it is now>}`` to everyone who keeps a copy of the actor."""
    actor_uri = urls.actor(actor.actor_type, actor.username)
    if actor.actor_type == "group":
        inboxes = await group_member_inboxes(session, actor.id)
        public = actor.group is None or actor.group.visibility == "public"
    else:
        inboxes = await person_inboxes(session, urls, actor, actor_uri)
        public = True
    followers = f"{actor_uri}/followers"
    update = activity(
        new_activity_id(urls), "Update", actor_uri, strip_context(actor_document(actor, urls)),
        to=[PUBLIC] if public else [followers], cc=[followers] if public else [], published=utcnow(),
    )
    update["@context"] = actor_context()  # the embedded actor uses our terms and Mastodon's
    return await publish(session, urls, actor, update, inboxes)


async def save_profile(session: AsyncSession, urls: Urls, actor_id: int, change: ProfileChange) -> Profile:
    """A member edits their profile (people.profiles.update_profile), and their peers hear of it."""
    profile = await profiles.update_profile(session, urls, actor_id, change)
    actor = await session.get(LocalActor, actor_id)
    assert actor is not None
    await announce_actor(session, urls, actor)
    return profile


async def save_member_profile(
    session: AsyncSession, urls: Urls, actor_id: int, basics: accounts.ProfileUpdate, change: ProfileChange,
    media_dir: Path,
) -> list[str]:
    """The whole profile form: every field checked before anything is kept; returns the media files to
    discard once the transaction is committed (actors.accounts.update_profile)."""
    errors: dict[str, str] = {}
    try:
        await profiles.update_profile(session, urls, actor_id, change)
    except InvalidFields as exc:
        errors.update(exc.errors)
        # Only collect the basics' errors now: a new avatar must not be written for a form that fails.
        basics = replace(basics, avatar=None, remove_avatar=False)
    try:
        discard = await accounts.update_profile(session, actor_id, basics, media_dir)
    except InvalidFields as exc:
        raise InvalidFields({**exc.errors, **errors}) from None
    if errors:
        raise InvalidFields(errors)
    actor = await session.get(LocalActor, actor_id)
    assert actor is not None
    await announce_actor(session, urls, actor)
    return discard


async def set_group_needs(
    session: AsyncSession, urls: Urls, group_name: str, skills: str | list[str], *, by: str | None = None
) -> LocalActor:
    """A group's moderator (``by``; None: the operator) says which skills the group is looking for."""
    group = await profiles.set_skills_wanted(session, urls, group_name, skills, by=by)
    await announce_actor(session, urls, group)
    return group
