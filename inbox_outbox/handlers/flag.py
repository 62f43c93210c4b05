"""``Flag``: a report, kept as a Flag row for the moderators of the group concerned (PROTOCOL.md "Groups").

Lemmy reports a post to its group: ``Flag{object: <post>, to: [<group>], audience: <group>, summary:
<reason>}``. Mastodon reports to the server of the reported account: ``Flag{actor: <instance actor>,
object: [<account>, <status>...], content: <comment>}``. Either way the group is the group of a
reported post we hold, or else a group of ours the Flag is addressed to. A report about our content or
people that concerns no group goes to the node's admins (``group_id`` NULL). A report naming nothing of
ours is dropped. The same Flag id twice is stored once. The moderators (or admins) get a notification
and act on it in the queue (inbox_outbox.services.reports).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.memberships import local_actor_by_uri
from federation.activities import object_id
from federation.html import plain_text
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.remote_groups import addressed_ids
from storage.models import Flag, Object

log = logging.getLogger(__name__)
MAX_OBJECTS = 50
MAX_REASON = 5000


def _reported(activity: dict[str, Any]) -> list[str]:
    value = activity.get("object")
    items = value if isinstance(value, list) else [value]
    found = [uri for uri in (object_id(item) for item in items) if uri]
    return list(dict.fromkeys(found))[:MAX_OBJECTS]


def _reason(activity: dict[str, Any]) -> str:
    for key in ("content", "summary"):
        value = activity.get(key)
        if isinstance(value, str) and value.strip():
            return plain_text(value)[:MAX_REASON]
    return ""


async def _group_of(
    session: AsyncSession, fed: Federation, activity: dict[str, Any], objects: list[str]
) -> tuple[int | None, bool]:
    """(group id or None, whether anything reported or addressed is ours)."""
    ours = any(is_local(fed.urls, uri) for uri in objects)
    rows = await session.execute(select(Object.uri, Object.group_id).where(Object.uri.in_(objects)))
    found = {uri: group_id for uri, group_id in rows}
    for uri in objects:  # the reported post's own group first: it cannot be mis-addressed
        if found.get(uri) is not None:
            return found[uri], True
    ours = ours or bool(found)
    for uri in addressed_ids(activity):
        if is_local(fed.urls, uri):
            actor = await local_actor_by_uri(session, fed.urls, uri)
            if actor is not None and actor.actor_type == "group":
                return actor.id, True
    return None, ours


async def on_flag(fed: Federation, incoming: Incoming) -> None:
    objects = _reported(incoming.activity)
    if not objects:
        raise Drop("Flag reports nothing")
    async with fed.sessions.begin() as session:
        if incoming.id is not None:
            seen = await session.scalar(select(Flag.id).where(Flag.activity_uri == incoming.id))
            if seen is not None:
                return
        group_id, ours = await _group_of(session, fed, incoming.activity, objects)
        if not ours:
            raise Drop(f"Flag from {incoming.actor.uri} reports nothing of this server")
        flag = Flag(
            group_id=group_id,
            reporter_uri=incoming.actor.uri,
            object_uris=objects,
            content=_reason(incoming.activity),
            activity_uri=incoming.id,
        )
        session.add(flag)
        await session.flush()
        await notifications.report_filed(session, flag)  # the moderators (or admins) hear of it
    log.info("report from %s about %s stored for %s", incoming.actor.uri, objects, group_id or "the admins")
