"""FEP-1b12 group fan-out: a local group announces an activity to its remote members.

Lemmy-family members read ``Announce{<activity>}``. Mastodon-family members ignore announced activities,
so for a Create the group also sends ``Announce{<object id>}``, which they show as a boost; software that
reads both deduplicates by object id. We do not guess each follower's software: both go to everyone.

The announced activity is embedded as received. One that carries an FEP-8b32 integrity proof goes on
exactly as signed, ``@context`` included: the proof covers the whole document (vc-di-eddsa §3.3.2), and it
is what lets members on a third server trust the copy without fetching it from its author's server,
which does not serve a private group's posts to them (inbox_outbox.dereference). Unsigned ones lose their
``@context`` as before (an embedded activity needs none). The received JSON is what the handlers pass in
(and what the Announce stores), never a copy rebuilt from our database, so nothing needs keeping apart.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import embedded, group_announce
from inbox_outbox.addressing import group_member_inboxes
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from storage.models import Activity, LocalActor


async def announce_to_members(
    session: AsyncSession,
    urls: Urls,
    group: LocalActor,
    inner: dict[str, Any],
    *,
    extra_inboxes: list[str] | None = None,
) -> list[Activity]:
    """Queue the group's Announce of ``inner`` (and of its object, for creates) to every remote member.

    ``extra_inboxes``: recipients beyond the members, e.g. the author of a removed post on another server.
    """
    assert group.group is not None, "only groups announce"
    group_id = urls.group(group.username)
    followers = f"{group_id}/followers"
    public = group.group.visibility == "public"
    inboxes = await group_member_inboxes(session, group.id) + list(extra_inboxes or [])
    announced = [
        await publish(
            session, urls, group,
            group_announce(new_activity_id(urls), group_id, followers, embedded(inner), public=public),
            inboxes,
        )
    ]
    object_value = inner.get("object")
    if inner.get("type") == "Create" and isinstance(object_value, dict) and isinstance(object_value.get("id"), str):
        boost = group_announce(new_activity_id(urls), group_id, followers, object_value["id"], public=public)
        announced.append(await publish(session, urls, group, boost, inboxes))
    return announced
