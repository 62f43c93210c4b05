"""What pages show of projects (issue #14; the rules are content.projects): progress ("3 of 7 tasks done,
5 people"), the line on the origin thread, task views for checklists and boards, someone's tasks (of our
projects and copies of other servers'), the projects a person is in, and completed tasks per person and
project: the fact other features (recognition) count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.group_pages import PersonRef
from actors.memberships import local_actor_by_uri
from content.notification_views import describe_actor
from actors.urls import Urls
from content.projects import TASK_STATE_LABELS, project_for_thread
from storage.models import Group, LocalActor, Membership, Project, ProjectTask, TaskAssignee

@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    people: int

    @property
    def line(self) -> str:
        """``3 of 7 tasks done, 5 people``."""
        people = f"{self.people} {'person' if self.people == 1 else 'people'}"
        return f"{self.done} of {self.total} task{'' if self.total == 1 else 's'} done, {people}"


async def progress(session: AsyncSession, group: LocalActor) -> Progress:
    rows = await session.execute(
        select(ProjectTask.state, func.count()).where(ProjectTask.group_id == group.id).group_by(ProjectTask.state))
    counts = {state: n for state, n in rows}
    people = await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.group_id == group.id, Membership.state == "accepted")) or 0
    return Progress(done=counts.get("done", 0), total=sum(counts.values()), people=people)


@dataclass(frozen=True)
class ThreadProject:
    """What a thread page shows of the project started from it."""

    name: str
    title: str
    path: str
    progress: Progress
    done: bool


async def thread_project(session: AsyncSession, urls: Urls, thread_uri: str) -> ThreadProject | None:
    found = await project_for_thread(session, thread_uri)
    if found is None:
        return None
    group, project = found
    return ThreadProject(name=group.username, title=group.display_name or group.username,
                         path=f"/groups/{group.username}/project", progress=await progress(session, group),
                         done=project.state == "done")


# --------------------------------------------------------------------------------------------------
# A project's tasks, someone's tasks and projects, completed tasks (recognition)


@dataclass(frozen=True)
class TaskView:
    id: int
    uri: str
    title: str
    content_html: str
    state: str
    state_label: str
    due: date | None
    assignees: list[PersonRef]
    mine: bool
    can_move: bool
    project_uri: str
    project_name: str
    project_path: str  # the project's page here, or its id on its own server
    path: str  # the task's page here


async def people_named(session: AsyncSession, urls: Urls, uris: list[str]) -> dict[str, PersonRef]:
    found: dict[str, PersonRef] = {}
    for uri in dict.fromkeys(uris):
        name, url = await describe_actor(session, urls, uri)
        found[uri] = PersonRef(uri=uri, name=name, url=url, handle=name)
    return found


async def task_views(session: AsyncSession, urls: Urls, tasks: list[ProjectTask], viewer: str | None,
                     leads_of: set[str] = frozenset()) -> list[TaskView]:
    """``leads_of``: project ids where the viewer is a lead (they may move every task there)."""
    ids = [task.id for task in tasks]
    rows = (await session.execute(select(TaskAssignee.task_id, TaskAssignee.actor_uri)
                                  .where(TaskAssignee.task_id.in_(ids)).order_by(TaskAssignee.id))).all() if ids else []
    by_task: dict[int, list[str]] = {}
    for task_id, uri in rows:
        by_task.setdefault(task_id, []).append(uri)
    people = await people_named(session, urls, [uri for _, uri in rows])
    names: dict[str, tuple[str, str]] = {}
    views = []
    for task in tasks:
        if task.project_uri not in names:
            local = await local_actor_by_uri(session, urls, task.project_uri)
            names[task.project_uri] = ((local.display_name or local.username), f"/groups/{local.username}/project") \
                if local else ((await people_named(session, urls, [task.project_uri]))[task.project_uri].name,
                               task.project_uri)
        assigned = by_task.get(task.id, [])
        mine = viewer is not None and viewer in assigned
        views.append(TaskView(
            id=task.id, uri=task.uri, title=task.title, content_html=task.content, state=task.state,
            state_label=TASK_STATE_LABELS.get(task.state, task.state), due=task.due,
            assignees=[people[uri] for uri in assigned], mine=mine,
            can_move=mine or task.project_uri in leads_of, project_uri=task.project_uri,
            project_name=names[task.project_uri][0], project_path=names[task.project_uri][1],
            path=f"/tasks/{task.id}",
        ))
    return views


async def project_tasks(session: AsyncSession, group: LocalActor, *, mine: str | None = None) -> list[ProjectTask]:
    query = select(ProjectTask).where(ProjectTask.group_id == group.id)
    if mine is not None:
        query = query.where(ProjectTask.id.in_(select(TaskAssignee.task_id).where(TaskAssignee.actor_uri == mine)))
    return list(await session.scalars(query.order_by(ProjectTask.id)))


async def my_tasks(session: AsyncSession, person_uri: str, *, open_only: bool = True) -> list[ProjectTask]:
    """Tasks assigned to a person, of our projects and copies of other servers' (PROTOCOL.md "Projects")."""
    query = select(ProjectTask).join(TaskAssignee, TaskAssignee.task_id == ProjectTask.id).where(
        TaskAssignee.actor_uri == person_uri)
    if open_only:
        query = query.where(ProjectTask.state != "done")
    return list(await session.scalars(query.order_by(ProjectTask.due.is_(None), ProjectTask.due, ProjectTask.id)))


@dataclass(frozen=True)
class CompletedTask:
    person_uri: str
    project_uri: str
    group_id: int
    task_uri: str
    title: str
    done_at: datetime | None


async def completed_tasks(session: AsyncSession, *, person_uri: str | None = None, group_id: int | None = None,
                          public_only: bool = False) -> list[CompletedTask]:
    """Done tasks of our projects, one row per assignee (who did it) and project: the fact other features
    (recognition) count. Filter by person and/or project group; ``public_only``: public projects only."""
    query = (select(TaskAssignee.actor_uri, ProjectTask.project_uri, ProjectTask.group_id, ProjectTask.uri,
                    ProjectTask.title, ProjectTask.done_at)
             .join(ProjectTask, ProjectTask.id == TaskAssignee.task_id)
             .where(ProjectTask.group_id.is_not(None), ProjectTask.state == "done"))
    if person_uri is not None:
        query = query.where(TaskAssignee.actor_uri == person_uri)
    if group_id is not None:
        query = query.where(ProjectTask.group_id == group_id)
    if public_only:
        query = query.join(Group, Group.actor_id == ProjectTask.group_id).where(Group.visibility == "public")
    rows = await session.execute(query.order_by(ProjectTask.done_at.desc(), ProjectTask.id.desc()))
    return [CompletedTask(person_uri=p, project_uri=pr, group_id=g, task_uri=u, title=t, done_at=d)
            for p, pr, g, u, t, d in rows]


@dataclass(frozen=True)
class ProjectCard:
    name: str
    title: str
    path: str
    done: bool
    progress: Progress


async def projects_of(session: AsyncSession, person: LocalActor, *, public_only: bool) -> list[ProjectCard]:
    """The projects of ours a local person is in (a profile shows the public ones)."""
    query = (select(LocalActor, Project).join(Project, Project.group_id == LocalActor.id)
             .join(Membership, Membership.group_id == LocalActor.id)
             .join(Group, Group.actor_id == LocalActor.id)
             .where(Membership.local_actor_id == person.id, Membership.state == "accepted"))
    if public_only:
        query = query.where(Group.visibility == "public")
    cards = []
    for group, project in (await session.execute(query.order_by(LocalActor.username))).all():
        cards.append(ProjectCard(name=group.username, title=group.display_name or group.username,
                                 path=f"/groups/{group.username}/project", done=project.state == "done",
                                 progress=await progress(session, group)))
    return cards
