"""Projects from other servers, and their members' changes to ours (issue #14; PROTOCOL.md "Projects").

- ``Invite{object: project, target: person}`` by a project group of another server, for one of our
  people: kept as an invitation they accept (a Follow of the project) or decline on their projects page.
- ``Create{Ticket}`` / ``Update{Ticket}`` by a project group of another server: our copy of the task (what
  an assignee of ours sees under "my tasks"). Only the project itself speaks for its tickets: the ticket's
  id must be on the actor's server and its ``context`` the actor.
  Our people it newly names in ``assignedTo`` are told (a ``task_assigned`` notification).
- ``Delete`` of such a Ticket (an id, or a ``Tombstone``) by its project: our copy goes.
- ``Reject{Invite}`` by a person one of our projects invited: they decline.
- ``Create{Note}`` in reply to a task of one of OUR projects, by a team member of another server: a comment.
- ``Update{Ticket}`` (a new ``taskState``) or ``Resolve{Ticket}`` (done) of a task of one of OUR projects,
  by a person of another server: taken from an assignee of the task or a lead of the project, and then
  announced to the members as the project's own ``Update{Ticket}``; from anyone else it is dropped with a
  log line and nothing changes. Only the state is read from their Ticket: the rest is ours.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import DomainError
from actors.memberships import local_actor_by_uri
from content import projects
from federation.activities import object_id
from federation.html import sanitize_html
from federation.project_terms import InvalidTicket, parse_state, parse_ticket
from federation.remote_actor import origin
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import is_local
from inbox_outbox.services import recognition
from inbox_outbox.services.projects import publish_ticket
from storage.models import LocalActor, ProjectInvite, ProjectTask, TaskAssignee, TaskComment, utcnow

log = logging.getLogger(__name__)


def _our_task(fed: Federation, uri: Any) -> bool:
    return isinstance(uri, str) and is_local(fed.urls, uri) and uri.startswith(fed.urls.base + "/tasks/")


def is_ticket(fed: Federation, incoming: Incoming) -> bool:
    """A Create/Update the project handlers take (create.py and update.py ask before anything else): a
    Ticket, one of our tasks, or a comment on one of our tasks (a Note in reply to it)."""
    value = incoming.activity.get("object")
    if isinstance(value, dict) and value.get("type") == "Ticket":
        return True
    if isinstance(value, dict) and incoming.type == "Create" and _our_task(fed, object_id(value.get("inReplyTo"))):
        return True
    return _our_task(fed, object_id(value))


async def on_invite(fed: Federation, incoming: Incoming) -> None:
    project_uri = object_id(incoming.activity.get("object"))
    person_uri = object_id(incoming.activity.get("target")) or next(
        iter(v for v in incoming.activity.get("to", []) if isinstance(v, str)), None)
    if project_uri != incoming.actor.uri or incoming.actor.actor_type != "Group":
        raise Drop(f"Invite by {incoming.actor.uri}: only a project group invites to itself")
    if person_uri is None or not is_local(fed.urls, person_uri):
        raise Drop("Invite of nobody of ours")
    async with fed.sessions.begin() as session:
        person = await local_actor_by_uri(session, fed.urls, person_uri)
        if person is None or person.actor_type != "person":
            raise Drop(f"Invite of {person_uri}: no such person here")
        await projects.record_invite(session, project_uri, person_uri, group_id=None,
                                     name=incoming.actor.display_name or incoming.actor.username,
                                     invited_by=incoming.actor.uri, activity_uri=incoming.id)
        await notifications.record(session, person.id, "invite", project_uri, project_uri, renew=True)


async def on_ticket(fed: Federation, incoming: Incoming) -> None:
    value = incoming.activity.get("object")
    target = object_id(value)
    if isinstance(value, dict) and value.get("type") == "Note":
        await _comment(fed, incoming, value)
        return
    if target is None:
        raise Drop(f"{incoming.type} of a Ticket without an id")
    if is_local(fed.urls, target):
        if incoming.type != "Update" or not isinstance(value, dict):
            raise Drop(f"{incoming.type} of our task {target} by {incoming.actor.uri}: only an Update or Resolve")
        try:
            state = parse_state(value)
        except InvalidTicket as exc:
            raise Drop(str(exc)) from None
        await change_our_task(fed, incoming.actor.uri, target, state)
        return
    try:
        ticket = parse_ticket(value)
    except InvalidTicket as exc:
        raise Drop(f"{incoming.type}: {exc}") from None
    if ticket.project != incoming.actor.uri or origin(ticket.id) != origin(incoming.actor.uri):
        raise Drop(f"{incoming.actor.uri} may not publish the ticket {ticket.id} of {ticket.project}")
    async with fed.sessions.begin() as session:
        await _store_copy(session, fed, ticket, value)


async def deleted_ticket(fed: Federation, actor_uri: str, target: str) -> bool:
    """``Delete`` of another server's task we keep a copy of (False: no such copy, the caller goes on).
    Only its project deletes it; the copy goes, and with it the task from its assignees' "my tasks"."""
    async with fed.sessions.begin() as session:
        row = await session.scalar(select(ProjectTask).where(ProjectTask.uri == target))
        if row is None or row.group_id is not None:
            return False
        if row.project_uri != actor_uri:
            raise Drop(f"{actor_uri} may not delete the task {target} of {row.project_uri}")
        await projects.remove_task(session, row)
    return True


async def _store_copy(session: AsyncSession, fed: Federation, ticket: Any, document: dict[str, Any]) -> None:
    row = await session.scalar(select(ProjectTask).where(ProjectTask.uri == ticket.id))
    before: list[str] = []
    if row is None:
        row = ProjectTask(uri=ticket.id, project_uri=ticket.project, group_id=None, created_by_uri=ticket.project,
                          created_at=utcnow())
        session.add(row)
    elif row.group_id is not None or row.project_uri != ticket.project:
        raise Drop(f"{ticket.id} is not a task of {ticket.project} here")
    else:
        before = await projects.assignees_of(session, row)
    row.title, row.content, row.source = ticket.title, sanitize_html(ticket.content), ""
    row.due, row.document, row.updated_at = ticket.due, document, utcnow()
    row.done_at = row.done_at or utcnow() if ticket.state == "done" else None
    row.state = ticket.state
    await session.flush()
    await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == row.id))
    for uri in ticket.assignees:
        session.add(TaskAssignee(task_id=row.id, actor_uri=uri))
    # Our people it names now and did not before hear of it (the project is who assigned them, to us).
    await notifications.task_assigned(session, fed.urls, [uri for uri in ticket.assignees if uri not in before],
                                      ticket.project, ticket.id)


async def on_resolve(fed: Federation, incoming: Incoming) -> None:
    target = object_id(incoming.activity.get("object"))
    if target is None or not is_local(fed.urls, target):
        raise Drop("Resolve of nothing of ours")
    await change_our_task(fed, incoming.actor.uri, target, "done")


async def change_our_task(fed: Federation, actor_uri: str, task_uri: str, state: str) -> None:
    """A person of another server moves a task of one of our projects: an assignee or a lead only."""
    async with fed.sessions.begin() as session:
        task = await session.scalar(select(ProjectTask).where(ProjectTask.uri == task_uri))
        if task is None or task.group_id is None:
            raise Drop(f"no task {task_uri} here")
        group = await session.get(LocalActor, task.group_id)
        assert group is not None
        try:
            changed = await projects.move_task(session, fed.urls, group, task, actor_uri, state)
        except DomainError as exc:
            log.info("refusing %s's change of task %s: %s", actor_uri, task_uri, exc.message)
            raise Drop(f"{actor_uri} may not move {task_uri}: {exc.message}") from None
        if changed:
            await publish_ticket(session, fed.urls, group, task, "Update", moved_by=actor_uri)
            await recognition.project_badges(session, fed.urls, group)


async def _comment(fed: Federation, incoming: Incoming, note: dict[str, Any]) -> None:
    """A team member of another server comments on one of our tasks: ``Create{Note}`` in reply to it."""
    note_id = object_id(note)
    if note_id is None or origin(note_id) != origin(incoming.actor.uri) \
            or object_id(note.get("attributedTo")) != incoming.actor.uri:
        raise Drop(f"a comment by {incoming.actor.uri} must be theirs, on their server")
    content = note.get("content")
    if not isinstance(content, str):
        raise Drop("a comment without content")
    async with fed.sessions.begin() as session:
        task = await session.scalar(select(ProjectTask).where(ProjectTask.uri == object_id(note.get("inReplyTo"))))
        if task is None or task.group_id is None:
            raise Drop("a comment on no task of ours")
        if await session.scalar(select(TaskComment.id).where(TaskComment.uri == note_id)) is not None:
            return  # had it already
        group = await session.get(LocalActor, task.group_id)
        assert group is not None
        if not await projects.in_team(session, fed.urls, group, incoming.actor.uri):
            raise Drop(f"{incoming.actor.uri} is not in the team of {group.username}: no comment")
        session.add(TaskComment(task_id=task.id, uri=note_id, author_uri=incoming.actor.uri, source="",
                                content=sanitize_html(content)[:projects.MAX_COMMENT * 4], created_at=utcnow()))


async def declined(fed: Federation, incoming: Incoming) -> bool:
    """``Reject{Invite}``: the person one of our projects invited declines (False: not about an Invite
    of ours, the caller goes on). Only the invited person may decline their invitation."""
    invite_id = object_id(incoming.activity.get("object"))
    if incoming.type != "Reject" or invite_id is None or not is_local(fed.urls, invite_id):
        return False
    async with fed.sessions.begin() as session:
        row = await session.scalar(select(ProjectInvite).where(ProjectInvite.activity_uri == invite_id))
        if row is None:
            return False
        if row.actor_uri != incoming.actor.uri:
            raise Drop(f"{incoming.actor.uri} may not decline an invitation of {row.actor_uri}")
        if row.state == "pending":
            row.state = "declined"
    return True
