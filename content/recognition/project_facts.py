"""Points and the "Project finisher" badge from projects (issue #14 feeding issue #17).

A completed task earns its assignees the ``task`` weight in the project's own group and in the group whose
idea or concern the project came from (the help was given there); a project closed as done gives each
person who completed one of its tasks a ``project_finished`` fact (no points: it awards the badge).
Both are read from the tasks every time, like every other source, so reopening a task takes its points
back.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.urls import Urls
from content.project_views import CompletedTask, completed_tasks
from content.recognition.facts import Fact, register
from content.recognition.weights import Weights
from content.store import aware
from storage.models import Object, Project


async def _project_groups(session: AsyncSession, group_id: int) -> list[int]:
    """The project groups whose tasks count in ``group_id``: itself, and the projects started from its threads."""
    started_here = select(Project.group_id).join(Object, Object.uri == Project.origin_uri).where(
        Object.group_id == group_id)
    return [group_id, *(await session.scalars(started_here))]


async def _done_tasks(session: AsyncSession, group_id: int) -> list[CompletedTask]:
    found: list[CompletedTask] = []
    for project_group in await _project_groups(session, group_id):
        found.extend(await completed_tasks(session, group_id=project_group))
    return found


def _when(moment: datetime | None) -> datetime:
    return aware(moment) if moment else datetime.now(timezone.utc)


@register("tasks")
async def tasks_done(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    return [Fact(member_uri=task.person_uri, kind="task", points=weights.of("task"), at=_when(task.done_at),
                 reason=f"Task “{task.title}” completed", link=task.task_uri)
            for task in await _done_tasks(session, group_id)]


@register("projects_finished")
async def projects_finished(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    done = {gid: closed for gid, closed in await session.execute(
        select(Project.group_id, Project.closed_at).where(
            Project.group_id.in_(await _project_groups(session, group_id)), Project.state == "done"))}
    finishers = {(task.person_uri, task.group_id, task.project_uri) for task in await _done_tasks(session, group_id)
                 if task.group_id in done}
    return [Fact(member_uri=person, kind="project_finished", points=0, at=_when(done[gid]),
                 reason="Finished a project", link=project)
            for person, gid, project in sorted(finishers)]
