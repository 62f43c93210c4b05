"""What the thread and group pages' notification controls do (actors.watchers keeps the rows):
follow or mute a thread, and ask to hear of every new thread in a group."""

from __future__ import annotations

from sqlalchemy import select

from actors import watchers
from actors.errors import InvalidInput, NotFound
from actors.memberships import can_read, local_actor_by_uri
from content.store import thread_root
from inbox_outbox.federation import Federation
from inbox_outbox.ids import is_local
from inbox_outbox.services.common import load_person, uri_of
from inbox_outbox.services.threads import Posted, _posted, visible_post
from storage.models import RemoteActor


async def watch_thread(fed: Federation, username: str, post_id: int, state: str) -> tuple[Posted, bool]:
    """Follow (``following``), mute (``muted``) or neither (``none``) the thread ``post_id`` is in;
    returns the thread and whether anything changed."""
    if state not in watchers.THREAD_STATES:
        raise InvalidInput("choose to follow the thread, to mute it, or neither")
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        obj = await visible_post(session, fed.urls, post_id, uri_of(fed.urls, person))
        thread = await thread_root(session, obj)
        if thread.deleted:
            raise InvalidInput("that thread was deleted")
        changed = await watchers.set_thread_state(session, thread.id, uri_of(fed.urls, person), state)
        return await _posted(session, fed.urls, thread), changed


async def watch_group(fed: Federation, username: str, group_uri: str, on: bool) -> str:
    """Hear (or stop hearing) of each new thread in a group this person may read; returns its name."""
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        if is_local(fed.urls, group_uri):
            group = await local_actor_by_uri(session, fed.urls, group_uri)
            if group is None or group.actor_type != "group" or not await can_read(
                    session, fed.urls, group, uri_of(fed.urls, person)):
                raise NotFound("no such group here (or it is private and you are not a member)")
            name = group.display_name or group.username
        else:
            remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group_uri))
            if remote is None or remote.actor_type != "Group":
                raise NotFound("no group of another server known here by that address")
            name = remote.display_name or remote.username
        await watchers.watch_group(session, person.id, group_uri, on)
        return name


async def group_watched(fed: Federation, actor_id: int | None, group_uri: str) -> bool:
    if actor_id is None:
        return False
    async with fed.sessions() as session:
        return await watchers.watching(session, actor_id, group_uri)


async def thread_watch_state(fed: Federation, viewer: str | None, thread_id: int) -> str | None:
    """The viewer's choice for the thread (None: nobody logged in)."""
    if viewer is None:
        return None
    async with fed.sessions() as session:
        return await watchers.thread_state(session, thread_id, viewer)
