"""Projects' actions and the activities they send (issue #14; PROTOCOL.md "Projects"). The rules are
content.projects'; each function here is one transaction holding the change and the deliveries it queues.

- Starting a project: a new ``Group`` actor (kind project), nothing sent (peers fetch it when they meet it).
- Inviting someone: for a person of another server, ``Invite{object: project, target: person}`` by the
  project group, and a direct ``Create{Note}`` mentioning them with the project's link, for servers that
  do not know ``Invite`` (Mastodon shows a mention); for one of ours, a notification. Accepting is joining:
  a ``Follow`` of the project (answered with ``Accept``; the invitation lets it in a closed project).
- Tasks: ``Create{Ticket}`` / ``Update{Ticket}`` (a move, or a lead's edit) by the project group to its
  remote members, ``Delete{Tombstone}`` when a lead deletes one; a new task and a move to done are also
  a readable ``Create{Note}`` (Mastodon drops the Ticket). Our people a lead assigns are notified
  (``task_assigned``). Someone of ours assigned to a task of another server's project moves it from
  here: ``Resolve{Ticket}`` (done) or ``Update{Ticket}`` (open, doing) by the person to the project,
  which takes it from an assignee or a lead only (inbox_outbox.handlers.projects).
- Closing: the project is done, and its origin thread moves to "done" with the outcome as the official
  response (inbox_outbox.services.board.record_status: the reply, ``Update{Page}``, notifications).
"""

from __future__ import annotations

import html
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.memberships import local_actor_by_uri
from actors.urls import Urls
from content import projects
from content.statuses import on_team
from content.store import object_by_uri
from federation.activities import activity, iso, strip_context
from federation.context import PUBLIC
from federation.project_terms import PROJECT_CONTEXT, ticket_document
from inbox_outbox.addressing import actor_inboxes, group_member_inboxes
from inbox_outbox.federation import Federation
from inbox_outbox.ids import new_activity_id, new_object_id
from inbox_outbox.outbox import publish
from inbox_outbox.services import membership, recognition
from inbox_outbox.services.board import record_status
from inbox_outbox.services.common import load_group, load_person, uri_of
from inbox_outbox.services.refs import resolve_actor
from storage.models import LocalActor, ProjectInvite, ProjectTask, RemoteActor, utcnow


async def _lead_group(session: AsyncSession, urls: Urls, username: str, group_name: str) -> tuple[LocalActor, LocalActor]:
    person = await load_person(session, username)
    group = await load_group(session, group_name)
    await projects.project_of(session, group)
    return person, group


# --------------------------------------------------------------------------------------------------
# Starting


async def start_project(fed: Federation, username: str, new: projects.NewProject) -> str:
    """A new project (from a thread, or on its own); returns its group name."""
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        group = await projects.start(session, fed.urls, new, person)
        return group.username


# --------------------------------------------------------------------------------------------------
# Invitations


async def invite(fed: Federation, username: str, group_name: str, invitee: str) -> str:
    """A lead invites a person (a local name, ``name@host`` or an actor id); returns their id."""
    ref = await resolve_actor(fed, invitee)  # the network first, outside the transaction
    if ref.local is not None and ref.local.actor_type != "person":
        raise InvalidInput(f"{invitee} is not a person")
    if ref.remote is not None and ref.remote.actor_type not in ("Person", "Service", "Application"):
        raise InvalidInput(f"{invitee} is a {ref.remote.actor_type}, not a person")
    async with fed.sessions.begin() as session:
        lead, group = await _lead_group(session, fed.urls, username, group_name)
        lead_uri, project_uri = uri_of(fed.urls, lead), fed.urls.group(group.username)
        await projects.check_invite(session, fed.urls, group, lead_uri, ref.uri)
        name = group.display_name or group.username
        sent = None
        if ref.remote is not None:
            sent = await _send_invite(session, fed.urls, group, ref.remote, name)
        row = await projects.record_invite(session, project_uri, ref.uri, group_id=group.id, name=name,
                                           invited_by=lead_uri, activity_uri=sent)
        if ref.local is not None:
            await notifications.record(session, ref.local.id, "invite", lead_uri, project_uri, renew=True)
        return row.actor_uri


async def _send_invite(session: AsyncSession, urls: Urls, group: LocalActor, person: RemoteActor, name: str) -> str:
    project_uri = urls.group(group.username)
    invite_doc = activity(new_activity_id(urls), "Invite", project_uri, project_uri, target=person.uri,
                          to=[person.uri], summary=f"Invitation to join the project {name}", published=utcnow())
    await publish(session, urls, group, invite_doc, [person.inbox])
    handle = f"@{person.username}@{person.domain}"
    link = person.url or person.uri
    text = (f'<p><span class="h-card"><a href="{html.escape(link)}" class="u-url mention">{html.escape(handle)}</a>'
            f'</span> You are invited to join the project <a href="{html.escape(project_uri)}">{html.escape(name)}</a>'
            f' (@{html.escape(group.username)}@{html.escape(urls.domain)}): follow it to join.</p>')
    note = {"id": new_object_id(urls), "type": "Note", "attributedTo": project_uri, "to": [person.uri], "cc": [],
            "content": text, "mediaType": "text/html", "published": invite_doc["published"], "url": project_uri,
            "tag": [{"type": "Mention", "href": person.uri, "name": handle}]}
    create = activity(new_activity_id(urls), "Create", project_uri, note, to=[person.uri],
                      published=utcnow())
    await publish(session, urls, group, create, [person.inbox])
    return str(invite_doc["id"])


@dataclass(frozen=True)
class Answered:
    project_uri: str
    local_name: str | None  # our project's group name; None: another server's
    state: str  # accepted (or pending: the remote project has not answered the Follow yet) | declined


async def answer_invite(fed: Federation, username: str, invite_id: int, accept: bool) -> Answered:
    """The invited person accepts (joins: at once here, by Follow elsewhere) or declines."""
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        row = await session.get(ProjectInvite, invite_id)
        if row is None or row.actor_uri != uri_of(fed.urls, person):
            raise NotFound("no such invitation for you")
        if row.state != "pending":
            raise InvalidInput(f"you have {row.state} this invitation already")
        project_uri = row.project_uri
        group = await local_actor_by_uri(session, fed.urls, project_uri)
        row.state = "accepted" if accept else "declined"
        if accept and group is not None:
            await projects.join_local(session, group, person)
        if not accept and group is None and row.activity_uri:
            await _decline(session, fed.urls, person, row)
        if group is not None or not accept:
            return Answered(project_uri, group.username if group else None, row.state)
    state = await membership.join_group(fed, username, project_uri)
    return Answered(project_uri, None, state)


async def _decline(session: AsyncSession, urls: Urls, person: LocalActor, row: ProjectInvite) -> None:
    """``Reject{Invite}`` to the project of another server (the Invite named by its id, with its shape)."""
    project = await session.scalar(select(RemoteActor).where(RemoteActor.uri == row.project_uri))
    if project is None:
        return
    person_uri = uri_of(urls, person)
    invite = {"id": row.activity_uri, "type": "Invite", "actor": row.project_uri, "object": row.project_uri,
              "target": person_uri}
    reject = activity(new_activity_id(urls), "Reject", person_uri, invite, to=[row.project_uri], published=utcnow())
    await publish(session, urls, person, reject, [project.inbox])


# --------------------------------------------------------------------------------------------------
# Tasks


async def _handles(session: AsyncSession, urls: Urls, uris: list[str]) -> list[str]:
    found = []
    for uri in uris:
        local = await local_actor_by_uri(session, urls, uri)
        if local is not None:
            found.append(f"{local.username}@{urls.domain}")
            continue
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
        found.append(f"{remote.username}@{remote.domain}" if remote is not None else uri)
    return found


async def publish_ticket(session: AsyncSession, urls: Urls, group: LocalActor, task: ProjectTask, kind: str,
                         moved_by: str | None = None) -> None:
    """``Create`` or ``Update`` of the task's Ticket by the project, to its remote members (and assignees).
    ``moved_by``: who moved it to its state now (a move to done is also told as a readable Note)."""
    assert group.group is not None
    project_uri = urls.group(group.username)
    assignees = await projects.assignees_of(session, task)
    audience = [f"{project_uri}/followers"] + ([PUBLIC] if group.group.visibility == "public" else [])
    document = ticket_document(
        uri=task.uri, project=project_uri, title=task.title, content_html=task.content, source=task.source,
        state=task.state, assignees=assignees, handles=await _handles(session, urls, assignees), due=task.due,
        published=task.created_at, updated=task.updated_at, audience=audience,
    )
    task.document = document
    sent = activity(new_activity_id(urls), kind, project_uri, strip_context(document), to=audience, cc=assignees,
                    published=utcnow())
    sent["@context"] = document["@context"]
    inboxes = await group_member_inboxes(session, group.id) + await actor_inboxes(session, assignees)
    await publish(session, urls, group, sent, inboxes)
    if kind == "Create":
        await _readable_note(session, urls, group, task, document["summary"], assignees, inboxes)
    elif moved_by is not None and task.state == "done":
        [by] = await _handles(session, urls, [moved_by])
        await _readable_note(session, urls, group, task, f"Task done: {task.title}, by @{by}", [], inboxes)


async def _readable_note(session: AsyncSession, urls: Urls, group: LocalActor, task: ProjectTask, line: str,
                         mentioned: list[str], inboxes: list[str]) -> None:
    """A task's news once more as a ``Note`` (Mastodon and its family drop a ``Ticket``): the readable
    line with a link to the task, mentioning ``mentioned`` (a new task's assignees), so they see "Task: …,
    assigned to @x" or "Task done: …, by @x"."""
    project_uri = urls.group(group.username)
    ticket = task.document
    handles = await _handles(session, urls, mentioned)
    mentions = "".join(f' <span class="h-card"><a href="{html.escape(uri)}" class="u-url mention">@{html.escape(h)}'
                       f'</a></span>' for uri, h in zip(mentioned, handles))
    note = {"id": new_object_id(urls), "type": "Note", "attributedTo": project_uri, "context": project_uri,
            "to": ticket["to"], "cc": mentioned, "url": task.uri, "mediaType": "text/html",
            "content": f'<p>{html.escape(line)}{mentions}</p>'
                       f'<p><a href="{html.escape(task.uri)}">{html.escape(task.uri)}</a></p>',
            "tag": [{"type": "Mention", "href": uri, "name": "@" + h} for uri, h in zip(mentioned, handles)],
            "published": ticket["published"] if task.state != "done" else iso(utcnow())}
    create = activity(new_activity_id(urls), "Create", project_uri, note, to=note["to"], cc=mentioned,
                      published=utcnow())
    await publish(session, urls, group, create, inboxes)


async def add_task(fed: Federation, username: str, group_name: str, form: projects.TaskForm) -> ProjectTask:
    async with fed.sessions.begin() as session:
        lead, group = await _lead_group(session, fed.urls, username, group_name)
        if (await projects.project_of(session, group)).state == "done":
            raise InvalidInput("this project is done: reopen nothing, start a new one")
        lead_uri = uri_of(fed.urls, lead)
        task = await projects.add_task(session, fed.urls, group, lead_uri, form, f"{fed.urls.base}/tasks/{uuid.uuid4()}")
        await publish_ticket(session, fed.urls, group, task, "Create")
        await notifications.task_assigned(session, fed.urls, await projects.assignees_of(session, task), lead_uri,
                                          task.uri)
        return task


async def _our_task(session: AsyncSession, task_id: int) -> tuple[ProjectTask, LocalActor]:
    task = await session.get(ProjectTask, task_id)
    group = await session.get(LocalActor, task.group_id) if task is not None and task.group_id is not None else None
    if task is None or group is None:
        raise NotFound(f"no task {task_id} of a project here")
    return task, group


async def edit_task(fed: Federation, username: str, task_id: int, form: projects.TaskForm) -> ProjectTask:
    """A lead changes a task: ``Update{Ticket}`` as for a move; the newly assigned are told."""
    async with fed.sessions.begin() as session:
        lead_uri = uri_of(fed.urls, await load_person(session, username))
        task, group = await _our_task(session, task_id)
        added = await projects.edit_task(session, fed.urls, group, lead_uri, task, form)
        await publish_ticket(session, fed.urls, group, task, "Update")
        await notifications.task_assigned(session, fed.urls, added, lead_uri, task.uri)
        return task


async def delete_task(fed: Federation, username: str, task_id: int) -> str:
    """A lead deletes a task: ``Delete{Tombstone}`` by the project to those who had the Ticket (its
    remote members and assignees); returns the project's group name."""
    async with fed.sessions.begin() as session:
        lead_uri = uri_of(fed.urls, await load_person(session, username))
        task, group = await _our_task(session, task_id)
        await projects.require_lead(session, fed.urls, group, lead_uri)
        project_uri = fed.urls.group(group.username)
        assignees = await projects.assignees_of(session, task)
        inboxes = await group_member_inboxes(session, group.id) + await actor_inboxes(session, assignees)
        audience = list((task.document or {}).get("to") or [f"{project_uri}/followers"])
        tombstone = {"id": task.uri, "type": "Tombstone", "formerType": "Ticket"}
        sent = activity(new_activity_id(fed.urls), "Delete", project_uri, tombstone, to=audience, cc=assignees,
                        published=utcnow())
        await projects.delete_task(session, fed.urls, group, lead_uri, task)
        await publish(session, fed.urls, group, sent, inboxes)
        return group.username


async def move_task(fed: Federation, username: str, task_id: int, state: str) -> ProjectTask:
    """Move a task (ours, or a copy of another server's assigned to this person) to ``state``."""
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        person_uri = uri_of(fed.urls, person)
        task = await session.get(ProjectTask, task_id)
        if task is None:
            raise NotFound(f"no task {task_id} here")
        if task.group_id is None:
            await _move_remote(session, fed.urls, person, task, state)
            return task
        group = await session.get(LocalActor, task.group_id)
        assert group is not None
        if await projects.move_task(session, fed.urls, group, task, person_uri, state):
            await publish_ticket(session, fed.urls, group, task, "Update", moved_by=person_uri)
            await recognition.project_badges(session, fed.urls, group)
        return task


async def _move_remote(session: AsyncSession, urls: Urls, person: LocalActor, task: ProjectTask, state: str) -> None:
    """Our person, an assignee of another server's task, moves it: the project hears it and decides."""
    state = projects.check_state(state)
    person_uri = uri_of(urls, person)
    if person_uri not in await projects.assignees_of(session, task):
        raise Forbidden("only the task's assignees move it from here; leads do it on the project's server")
    project = await session.scalar(select(RemoteActor).where(RemoteActor.uri == task.project_uri))
    if project is None:
        raise NotFound("the project of this task is not known here any more")
    if not projects.apply_state(task, state, person_uri):
        return
    if state == "done":  # ForgeFed's own word for it
        sent = activity(new_activity_id(urls), "Resolve", person_uri, task.uri, to=[project.uri],
                        published=utcnow())
    else:
        ticket = {**strip_context(task.document or {}), "id": task.uri, "type": "Ticket", "taskState": state,
                  "isResolved": False, "context": task.project_uri}
        sent = activity(new_activity_id(urls), "Update", person_uri, ticket, to=[project.uri], published=utcnow())
    sent["@context"] = [sent["@context"], PROJECT_CONTEXT]
    await publish(session, urls, person, sent, [project.inbox])


async def comment_task(fed: Federation, username: str, task_id: int, text: str) -> None:
    """Anyone in the team comments on a task: here, or on a task of another server's project that this
    person is assigned to (``Create{Note}`` in reply to the Ticket, sent to the project)."""
    async with fed.sessions.begin() as session:
        person = await load_person(session, username)
        person_uri = uri_of(fed.urls, person)
        task = await session.get(ProjectTask, task_id)
        if task is None:
            raise NotFound(f"no task {task_id} here")
        if task.group_id is not None:
            group = await session.get(LocalActor, task.group_id)
            assert group is not None
            await projects.comment(session, fed.urls, group, task, person_uri, text,
                                   f"{task.uri}/comments/{uuid.uuid4()}")
            return
        if person_uri not in await projects.assignees_of(session, task):
            raise Forbidden("comment on the project's own server: only assignees comment from here")
        project = await session.scalar(select(RemoteActor).where(RemoteActor.uri == task.project_uri))
        if project is None:
            raise NotFound("the project of this task is not known here any more")
        row = await projects.add_comment(session, task, person_uri, text, new_object_id(fed.urls))
        note = {"id": row.uri, "type": "Note", "attributedTo": person_uri, "inReplyTo": task.uri,
                "context": task.project_uri, "to": [task.project_uri], "content": row.content,
                "mediaType": "text/html", "source": {"content": row.source, "mediaType": "text/markdown"}}
        create = activity(new_activity_id(fed.urls), "Create", person_uri, note, to=[task.project_uri],
                          published=utcnow())
        await publish(session, fed.urls, person, create, [project.inbox])


# --------------------------------------------------------------------------------------------------
# Closing


async def close_project(fed: Federation, username: str, group_name: str, outcome: str) -> None:
    """A lead closes the project; its origin thread is done, with the outcome as the official response."""
    async with fed.sessions.begin() as session:
        lead, group = await _lead_group(session, fed.urls, username, group_name)
        project = await projects.close(session, fed.urls, group, uri_of(fed.urls, lead), outcome)
        await recognition.project_badges(session, fed.urls, group)
        thread = await object_by_uri(session, project.origin_uri)
        if thread is None or thread.deleted or thread.group_id is None:
            return
        origin_group = await session.get(LocalActor, thread.group_id)
        assert origin_group is not None
        # Who answers on the thread: the closing lead when they are on its group's team, else the starter.
        author = lead
        if not await on_team(session, fed.urls, origin_group.id, uri_of(fed.urls, lead)):
            starter = await local_actor_by_uri(session, fed.urls, project.started_by_uri)
            author = starter if starter is not None else lead
        name = group.display_name or group.username
        response = f"Project [{name}]({fed.urls.group(group.username)}/project) is done.\n\n{project.outcome}"
        await record_status(session, fed.urls, author, thread, origin_group, "done", response)
