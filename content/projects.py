"""Projects (issue #14): teams formed around an idea or concern, with tasks for people of any server.

A project is one of our groups of kind ``project`` with a ``Project`` row: the thread it was started from
(``origin_uri``, an idea or concern of one of our groups; None for a project started on its own), open
(anyone joins: a public group) or closed (invitations only: a private group, whose join requests wait for a
lead; an invited person's Follow is accepted at once), and active or done.

- **The team**: the group's accepted members, local or remote. Its **leads** are the members with a
  moderator role (owner, admin, moderator: actors.local.MODERATOR_ROLES); the starter is its owner.
- **Tasks** (``ProjectTask``): a title, a Markdown description, assignees from the team, an optional due
  date, a state (open, doing, done). Leads add tasks; an assignee or a lead moves a task along; anyone in
  the team comments. Progress is counted from the rows.
- **Closing**: a lead marks the project done with an outcome note; the origin thread then moves to "done"
  with the outcome as its official response (inbox_outbox.services.projects calls the board's machinery).

Rules live here; content.project_views has what pages show, inbox_outbox.services.projects writes the
activities. Everything raises an
actors.errors.DomainError (InvalidInput 400, Forbidden 403, NotFound 404) and changes nothing on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import group_pages
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.group_pages import PersonRef
from actors.local import MODERATOR_ROLES
from actors.memberships import can_read, role_of
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content.statuses import on_team
from content.store import object_by_uri
from federation.html import plain_text
from federation.markdown import render_markdown
from people import profiles
from federation.project_terms import MAX_TITLE, TASK_STATES
from storage.models import (
    LocalActor, Membership, Object, Project, ProjectInvite, ProjectTask, TaskAssignee, TaskComment, utcnow,
)

TASK_STATE_LABELS = {"open": "Open", "doing": "Doing", "done": "Done"}
JOINING = ("open", "invite")
MAX_DESCRIPTION = 10_000
MAX_COMMENT = 5_000
MAX_ASSIGNEES = 20
MAX_OUTCOME = 5_000


# --------------------------------------------------------------------------------------------------
# Finding projects


async def project_of(session: AsyncSession, group: LocalActor) -> Project:
    """The project row of one of our groups; NotFound when the group is not a project. A group created
    as kind ``project`` elsewhere (the group form, ``madeopen group create --kind project``) is a project
    on its own: its row is added here (kept when the caller's transaction commits)."""
    project = await session.get(Project, group.id)
    if project is None and group.group is not None and group.group.kind == "project":
        project = Project(group_id=group.id, origin_uri=None, outcome="", state="active", started_by_uri="",
                          joining="open" if group.group.visibility == "public" else "invite", created_at=utcnow())
        session.add(project)
    if project is None:
        raise NotFound(f"{group.username} is not a project")
    return project


async def project_for_thread(session: AsyncSession, thread_uri: str) -> tuple[LocalActor, Project] | None:
    """The project started from ``thread_uri`` (an idea or concern of ours), if any."""
    project = await session.scalar(select(Project).where(Project.origin_uri == thread_uri).limit(1))
    if project is None:
        return None
    group = await session.get(LocalActor, project.group_id)
    return (group, project) if group is not None else None


async def is_lead(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str | None) -> bool:
    return actor_uri is not None and await role_of(session, urls, group, actor_uri) in MODERATOR_ROLES


async def in_team(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str | None) -> bool:
    return actor_uri is not None and await role_of(session, urls, group, actor_uri) is not None


async def require_lead(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> None:
    if not await is_lead(session, urls, group, actor_uri):
        raise Forbidden(f"only the leads of {group.display_name or group.username} may do this")


async def team(session: AsyncSession, urls: Urls, group: LocalActor) -> list[PersonRef]:
    """Everyone in the team (leads first), local or remote."""
    people = await group_pages.members_in_state(session, urls, group, "accepted")
    return sorted(people, key=lambda p: (p.role not in MODERATOR_ROLES, people.index(p)))


# --------------------------------------------------------------------------------------------------
# Starting a project


@dataclass(frozen=True)
class NewProject:
    name: str
    title: str = ""
    description: str = ""  # Markdown
    joining: str = "open"  # open | invite
    origin: str = ""  # the thread's id or page address; empty: a project on its own


_NOT_NAME = re.compile(r"[^a-z0-9_]+")


def suggested_name(title: str) -> str:
    """A group name from a title: ``Leaking roof in hall B`` -> ``leaking_roof_in_hall_b`` (30 at most)."""
    return _NOT_NAME.sub("_", title.lower()).strip("_")[:30].strip("_") or "project"


async def origin_thread(session: AsyncSession, urls: Urls, address: str, starter_uri: str) -> tuple[Object, LocalActor]:
    """The idea or concern a project starts from, and its group; 403 when the starter may not."""
    value = address.strip()
    if value.startswith("/"):
        value = urls.base + value
    thread = await object_by_uri(session, value.split("#", 1)[0])
    if thread is None or thread.deleted:
        raise NotFound("no such thread here: a project starts from an idea or concern of a group on this server")
    group = await session.get(LocalActor, thread.group_id) if thread.group_id is not None else None
    if group is None:
        raise InvalidInput("a project starts from an idea or concern of a group on this server")
    if not await can_read(session, urls, group, starter_uri):
        raise Forbidden("that thread is in a private group you are not a member of")
    if thread.in_reply_to_uri is not None or thread.kind not in ("idea", "concern"):
        raise InvalidInput("a project starts from an idea or a concern")
    if not await on_team(session, urls, group.id, starter_uri):
        raise Forbidden(f"only the team of {group.display_name or group.username} (owners, admins, moderators, "
                        "staff) starts a project from its ideas and concerns")
    existing = await project_for_thread(session, thread.uri)
    if existing is not None:
        raise InvalidFields({"origin": f"this thread already has a project: {existing[0].username}"})
    return thread, group


async def start(session: AsyncSession, urls: Urls, new: NewProject, starter: LocalActor) -> LocalActor:
    """A new project group owned by ``starter`` (a local person), from a thread or on its own."""
    starter_uri = urls.person(starter.username)
    origin = await origin_thread(session, urls, new.origin, starter_uri) if new.origin.strip() else None
    if new.joining not in JOINING:
        raise InvalidFields({"joining": "choose open (anyone may join) or invite (invitations only)"})
    description = new.description
    title = new.title
    if origin is not None:
        thread, _ = origin
        title = title or thread.name
        description = description or (thread.source or plain_text(thread.content))
    form = group_pages.GroupForm(name=new.name, title=title, kind="project",
                                 visibility="public" if new.joining == "open" else "private",
                                 description=description[:group_pages.MAX_DESCRIPTION])
    group = await group_pages.create_group(session, form, starter.username)
    session.add(Project(group_id=group.id, origin_uri=origin[0].uri if origin else None, joining=new.joining,
                        state="active", outcome="", started_by_uri=starter_uri))
    await session.flush()
    wanted = profiles.skills_wanted(origin[1]) if origin is not None else []
    if wanted:  # the origin group's needs are the project's to begin with ("People who could help")
        await profiles.set_skills_wanted(session, urls, group.username, wanted)
    return group


# --------------------------------------------------------------------------------------------------
# Tasks


def parse_due(raw: str | None) -> date | None:
    """A due date as a form or JSON sends it (``YYYY-MM-DD``); empty: none."""
    value = (raw or "").strip()
    if not value:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidFields({"due": f"{value!r} is not a date: write it as YYYY-MM-DD, e.g. 2027-03-31"}) from None


def check_state(raw: str | None) -> str:
    state = (raw or "").strip().lower()
    if state not in TASK_STATES:
        raise InvalidInput(f"unknown task state {raw!r}: one of {', '.join(TASK_STATES)}")
    return state


@dataclass(frozen=True)
class TaskForm:
    title: str
    description: str = ""
    assignees: tuple[str, ...] = ()  # actor ids of team members
    due: str = ""


async def check_task(session: AsyncSession, urls: Urls, group: LocalActor, form: TaskForm) -> tuple[str, str, list[str], date | None]:
    """The task's title, description, assignees and due date, or InvalidFields per field."""
    errors: dict[str, str] = {}
    title = " ".join(form.title.split())
    if not title:
        errors["title"] = "give the task a title"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters (this has {len(title)})"
    description = form.description.strip()
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"at most {MAX_DESCRIPTION} characters (this has {len(description)})"
    assignees = list(dict.fromkeys(a.strip() for a in form.assignees if a.strip()))
    if len(assignees) > MAX_ASSIGNEES:
        errors["assignees"] = f"at most {MAX_ASSIGNEES} people on one task"
    for uri in assignees:
        if not await in_team(session, urls, group, uri):
            errors["assignees"] = f"{uri} is not in the team: invite them first, then assign the task"
            break
    due = None
    try:
        due = parse_due(form.due)
    except InvalidFields as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidFields(errors)
    return title, description, assignees, due


async def add_task(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, form: TaskForm,
                   uri: str) -> ProjectTask:
    """A lead adds a task (``uri``: its new id)."""
    await require_lead(session, urls, group, actor_uri)
    title, description, assignees, due = await check_task(session, urls, group, form)
    task = ProjectTask(uri=uri, project_uri=urls.group(group.username), group_id=group.id, title=title,
                       source=description, content=render_markdown(description), state="open", due=due,
                       created_by_uri=actor_uri, created_at=utcnow(), document={})
    session.add(task)
    await session.flush()
    for assignee in assignees:
        session.add(TaskAssignee(task_id=task.id, actor_uri=assignee))
    await session.flush()
    return task


async def edit_task(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, task: ProjectTask,
                    form: TaskForm) -> list[str]:
    """A lead changes a task's title, description, assignees and due date (checked as when adding);
    returns the people newly assigned (whom to tell)."""
    await require_lead(session, urls, group, actor_uri)
    title, description, assignees, due = await check_task(session, urls, group, form)
    before = await assignees_of(session, task)
    task.title, task.source, task.content, task.due = title, description, render_markdown(description), due
    task.updated_at = utcnow()
    await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == task.id))
    for assignee in assignees:
        session.add(TaskAssignee(task_id=task.id, actor_uri=assignee))
    await session.flush()
    return [uri for uri in assignees if uri not in before]


async def delete_task(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, task: ProjectTask) -> None:
    """A lead deletes a task: its row, assignees and comments go (the id is not reused: a new uuid each)."""
    await require_lead(session, urls, group, actor_uri)
    await remove_task(session, task)


async def remove_task(session: AsyncSession, task: ProjectTask) -> None:
    """The task's rows go: ours deleted by a lead, or our copy of another server's deleted there."""
    await session.execute(delete(TaskComment).where(TaskComment.task_id == task.id))
    await session.execute(delete(TaskAssignee).where(TaskAssignee.task_id == task.id))
    await session.delete(task)
    await session.flush()


async def assignees_of(session: AsyncSession, task: ProjectTask) -> list[str]:
    return list(await session.scalars(
        select(TaskAssignee.actor_uri).where(TaskAssignee.task_id == task.id).order_by(TaskAssignee.id)))


async def may_move(session: AsyncSession, urls: Urls, group: LocalActor, task: ProjectTask, actor_uri: str) -> bool:
    """An assignee or a lead moves a task along (PROTOCOL.md "Projects": the same rule for peers)."""
    return actor_uri in await assignees_of(session, task) or await is_lead(session, urls, group, actor_uri)


def apply_state(task: ProjectTask, state: str, actor_uri: str, now: datetime | None = None) -> bool:
    """Set the state; False when it was so already."""
    state = check_state(state)
    if task.state == state:
        return False
    now = now or utcnow()
    task.state = state
    task.updated_at = now
    task.done_at, task.done_by_uri = (now, actor_uri) if state == "done" else (None, None)
    return True


async def move_task(session: AsyncSession, urls: Urls, group: LocalActor, task: ProjectTask, actor_uri: str,
                    state: str) -> bool:
    state = check_state(state)
    if not await may_move(session, urls, group, task, actor_uri):
        raise Forbidden("only the task's assignees and the project's leads move a task")
    return apply_state(task, state, actor_uri)


async def comment(session: AsyncSession, urls: Urls, group: LocalActor, task: ProjectTask, actor_uri: str,
                  text: str, uri: str) -> TaskComment:
    """Anyone in the team replies to a task (Markdown)."""
    if not await in_team(session, urls, group, actor_uri):
        raise Forbidden("only the team comments on its tasks: join the project first")
    return await add_comment(session, task, actor_uri, text, uri)


async def add_comment(session: AsyncSession, task: ProjectTask, actor_uri: str, text: str, uri: str) -> TaskComment:
    """The comment itself (the caller checked who may write it)."""
    body = text.strip()
    if not body:
        raise InvalidFields({"comment": "write something"})
    if len(body) > MAX_COMMENT:
        raise InvalidFields({"comment": f"at most {MAX_COMMENT} characters (this has {len(body)})"})
    row = TaskComment(task_id=task.id, uri=uri, author_uri=actor_uri, source=body, content=render_markdown(body),
                      created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


# --------------------------------------------------------------------------------------------------
# Invitations


async def check_invite(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, invitee_uri: str) -> None:
    await require_lead(session, urls, group, actor_uri)
    project = await project_of(session, group)
    if project.state == "done":
        raise InvalidInput("this project is done: it takes no new people")
    if await in_team(session, urls, group, invitee_uri):
        raise InvalidInput(f"{invitee_uri} is already in the team")
    pending = await session.scalar(select(ProjectInvite.id).where(
        ProjectInvite.project_uri == urls.group(group.username), ProjectInvite.actor_uri == invitee_uri,
        ProjectInvite.state == "pending"))
    if pending is not None:
        raise InvalidInput(f"{invitee_uri} is invited already: they have not answered yet")


async def invitation_for(session: AsyncSession, project_uri: str, actor_uri: str) -> ProjectInvite | None:
    return await session.scalar(select(ProjectInvite).where(
        ProjectInvite.project_uri == project_uri, ProjectInvite.actor_uri == actor_uri))


async def record_invite(session: AsyncSession, project_uri: str, actor_uri: str, *, group_id: int | None,
                        name: str, invited_by: str, activity_uri: str | None) -> ProjectInvite:
    """A pending invitation (asked again after a decline: pending again)."""
    row = await invitation_for(session, project_uri, actor_uri)
    if row is None:
        row = ProjectInvite(project_uri=project_uri, actor_uri=actor_uri, group_id=group_id, created_at=utcnow())
        session.add(row)
    row.state, row.project_name, row.invited_by_uri, row.activity_uri = "pending", name[:500], invited_by, activity_uri
    await session.flush()
    return row


async def invited(session: AsyncSession, group: LocalActor, urls: Urls, actor_uri: str) -> bool:
    """Whether ``actor_uri`` holds a pending invitation to our project ``group`` (their Follow is accepted)."""
    row = await invitation_for(session, urls.group(group.username), actor_uri)
    return row is not None and row.state == "pending"


async def accept_invitation(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> None:
    """``actor_uri`` is in the team now: their pending invitation (if any) is accepted."""
    row = await invitation_for(session, urls.group(group.username), actor_uri)
    if row is not None and row.state == "pending":
        row.state = "accepted"


async def my_invitations(session: AsyncSession, person_uri: str) -> list[ProjectInvite]:
    return list(await session.scalars(select(ProjectInvite).where(
        ProjectInvite.actor_uri == person_uri, ProjectInvite.state == "pending").order_by(ProjectInvite.id.desc())))


async def join_local(session: AsyncSession, group: LocalActor, person: LocalActor) -> None:
    """One of our people accepts an invitation to one of our projects: a member at once."""
    row = await session.scalar(select(Membership).where(
        Membership.group_id == group.id, Membership.local_actor_id == person.id))
    if row is not None and row.state == "banned":
        raise Forbidden(f"{person.username} is banned from {group.username}")
    if row is None:
        session.add(Membership(group_id=group.id, local_actor_id=person.id, role="member", state="accepted"))
    else:
        row.state = "accepted"
    await session.flush()


# --------------------------------------------------------------------------------------------------
# Closing


def check_outcome(text: str) -> str:
    outcome = text.strip()
    if not outcome:
        raise InvalidFields({"outcome": "say what came of it: the outcome is the origin thread's official response"})
    if len(outcome) > MAX_OUTCOME:
        raise InvalidFields({"outcome": f"at most {MAX_OUTCOME} characters (this has {len(outcome)})"})
    return outcome


async def close(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, outcome: str) -> Project:
    await require_lead(session, urls, group, actor_uri)
    project = await project_of(session, group)
    if project.state == "done":
        raise InvalidInput("this project is done already")
    project.outcome = check_outcome(outcome)
    project.state = "done"
    project.closed_at = utcnow()
    await session.flush()
    return project
