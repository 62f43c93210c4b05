"""FEP-1b12 group fan-out: a local group announces an activity to its remote members.

Lemmy-family members read ``Announce{<activity>}``. Mastodon-family members ignore announced activities,
so for a Create the group also sends ``Announce{<object id>}``, which they show as a boost; software that
reads both deduplicates by object id. We do not guess each follower's software: both go to everyone.
They also take an edit or a delete only from the post's author: the author's own Update and Delete go
to the members as well (inbox_outbox.services.post_delivery), and a moderator's removal of a local author's
post is said by the author's actor too (:func:`author_withdraws`), and whenever a post of the group is
deleted the group takes its boost back (:func:`withdraw_boost`).

The announced activity is embedded as received. One that carries an FEP-8b32 integrity proof goes on
exactly as signed, ``@context`` included: the proof covers the whole document (vc-di-eddsa §3.3.2), and it
is what lets members on a third server trust the copy without fetching it from its author's server,
which does not serve a private group's posts to them (inbox_outbox.dereference). Unsigned ones lose their
``@context`` as before (an embedded activity needs none). The received JSON is what the handlers pass in
(and what the Announce stores), never a copy rebuilt from our database, so nothing needs keeping apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.memberships import local_actor_by_uri
from actors.urls import Urls
from federation.activities import activity, embedded, group_announce, strip_context
from federation.context import PUBLIC
from inbox_outbox.addressing import group_member_inboxes, group_member_targets
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish, publish_all, publish_to
from storage.models import Activity, LocalActor, Object, utcnow


async def announce_to_members(
    session: AsyncSession,
    urls: Urls,
    group: LocalActor,
    inner: dict[str, Any],
    *,
    extra_inboxes: list[str] | None = None,
) -> None:
    """Queue the group's Announce of ``inner`` (and of its object, for creates) to every remote member.

    ``extra_inboxes``: recipients beyond the members, e.g. the author of a removed post on another server.
    Without them the database writes the delivery rows from the memberships itself (``outbox.publish_to``:
    every post and vote into a group comes through here, issue #13).
    """
    assert group.group is not None, "only groups announce"
    group_id = urls.group(group.username)
    followers = f"{group_id}/followers"
    public = group.group.visibility == "public"
    documents = [group_announce(new_activity_id(urls), group_id, followers, embedded(inner), public=public)]
    object_value = inner.get("object")
    if inner.get("type") == "Create" and isinstance(object_value, dict) and isinstance(object_value.get("id"), str):
        documents.append(group_announce(new_activity_id(urls), group_id, followers, object_value["id"], public=public))
    if extra_inboxes:
        inboxes = await group_member_inboxes(session, group.id) + list(extra_inboxes)
        await publish_all(session, urls, group, documents, inboxes)
    else:
        await publish_to(session, urls, group, documents, group_member_targets(group.id))


async def author_withdraws(session: AsyncSession, urls: Urls, group: LocalActor, post: Object) -> Activity | None:
    """A moderator removed a local author's post from ``group``: the author's actor says ``Delete`` too, to
    every remote member inbox, signed with the author's key. Mastodon-family members drop the group's
    Announce{Delete} and take a Delete only from the post's author (mastodon
    app/lib/activitypub/activity/delete.rb finds the status by uri *and* account); the post is gone from
    its origin, and Mastodon's own moderation does the same (app/services/remove_status_service.rb signs
    the Delete with the status's account, whoever removed it). None for a remote author's post: we cannot
    speak for them (PROTOCOL.md "Addressing per server family")."""
    assert group.group is not None
    author = await local_actor_by_uri(session, urls, post.author_uri) if post.local else None
    if author is None:
        return None
    group_id = urls.group(group.username)
    public = group.group.visibility == "public"
    to, cc = ([group_id, PUBLIC], [f"{group_id}/followers"]) if public else ([group_id], [f"{group_id}/followers"])
    gone = activity(new_activity_id(urls), "Delete", post.author_uri, post.uri, to=to, cc=cc, audience=group_id,
                    published=utcnow())
    return await publish(session, urls, author, gone, await group_member_inboxes(session, group.id))


async def withdraw_boost(session: AsyncSession, urls: Urls, group: LocalActor, post_uri: str) -> Activity | None:
    """A post of ``group`` was deleted or removed: the group takes back its boost, ``Undo{Announce{<post
    id>}}``, to every remote member inbox. Mastodon-family members saw the post as that boost, and
    Mastodon removes a reblog its booster undoes (app/lib/activitypub/activity/undo.rb ``undo_announce``),
    so even a post they cannot be told is deleted (a remote author's, removed by our moderator) leaves
    their timelines. Lemmy-family members, who had the announced Delete, ignore it. None when there is
    no boost to take back."""
    group_id = urls.group(group.username)
    boosts = await session.scalars(
        select(Activity).where(Activity.actor_uri == group_id, Activity.type == "Announce",
                               Activity.object_uri == post_uri)
    )
    boost = next((row for row in boosts if isinstance((row.document or {}).get("object"), str)), None)
    if boost is None:
        return None
    undo = activity(new_activity_id(urls), "Undo", group_id, strip_context(boost.document),
                    to=boost.document.get("to"), cc=boost.document.get("cc"), audience=group_id, published=utcnow())
    return await publish(session, urls, group, undo, await group_member_inboxes(session, group.id))
