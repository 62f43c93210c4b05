"""FEP-1b12 group fan-out: a local group announces an activity to its remote members.

Lemmy-family members read ``Announce{<activity>}``. Mastodon-family members ignore announced activities,
so for a Create the group also sends ``Announce{<object id>}``, which they show as a boost; software that
reads both deduplicates by object id. We do not guess each follower's software: both go to everyone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from federation.activities import group_announce, strip_context
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
            group_announce(new_activity_id(urls), group_id, followers, strip_context(inner), public=public),
            inboxes,
        )
    ]
    object_value = inner.get("object")
    if inner.get("type") == "Create" and isinstance(object_value, dict) and isinstance(object_value.get("id"), str):
        boost = group_announce(new_activity_id(urls), group_id, followers, object_value["id"], public=public)
        announced.append(await publish(session, urls, group, boost, inboxes))
    return announced
