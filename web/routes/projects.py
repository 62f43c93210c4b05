"""Project pages (issue #14): ``/projects`` (my invitations, my tasks, my projects), ``/projects/new``
(``?from=<thread id>``: start one from an idea or concern), ``/groups/<name>/project`` (the project: tasks
as a checklist or a board with a column per state, filter "mine", the team, people who could help with an
Invite button each, closing), ``/tasks/<id>`` (a task and its comments; the Ticket as AS2 JSON at its id).
JSON: ``POST /api/groups/<name>/tasks``, ``PUT`` / ``DELETE /api/tasks/<id>`` (leads) and
``POST /api/tasks/<id>/state`` (errors 400/403/404 as JSON).

Every change is a plain form POST with buttons (no JavaScript, nothing to drag); a bad field re-renders
the page with the typed text kept and the message next to the field (400). Rules live in content.projects,
actions in inbox_outbox.services.projects.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from actors import group_pages
from actors.errors import InvalidInput, NotFound
from actors.node_settings import InvalidFields
from content import project_views, projects
from content.store import object_by_uri
from federation.project_terms import TASK_STATES
from inbox_outbox.services import projects as project_services
from inbox_outbox.services.common import load_group
from people import index, matching
from storage.models import LocalActor, Project, ProjectInvite, ProjectTask, TaskComment
from web import forms, sessions
from web.context import get_context
from web.negotiation import Representation, choose
from web.responses import activity_json, html_page, plain_json
from web.routes.groups import viewer_uri
from web.routes.people import _api_user, _field_errors, _json_body

NEW_LABELS = {"name": "Name", "title": "Title", "description": "Description", "joining": "Who can join",
              "origin": "Started from"}
TASK_LABELS = {"title": "Task", "description": "Description", "assignees": "Assigned to", "due": "Due date"}
JOINING_LABELS = {"open": "Open: anyone may join", "invite": "Closed: invited people only (the project's "
                  "page stays private to the team)"}


def project_path(name: str) -> str:
    return f"/groups/{name}/project"


def _back(form: Any, fallback: str) -> str:
    """Where a form sends the person back to: a path of ours (never another site)."""
    target = forms.text(form, "next")
    return target if target.startswith("/") and not target.startswith("//") else fallback


# --------------------------------------------------------------------------------------------------
# My projects


async def my_projects(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        person = await session.get(LocalActor, user.id)
        assert person is not None
        invitations = await projects.my_invitations(session, user.profile_url)
        tasks = await project_views.task_views(session, ctx.urls, await project_views.my_tasks(session, user.profile_url),
                                          user.profile_url)
        mine = await project_views.projects_of(session, person, public_only=False)
    return html_page(request, "projects.html", invitations=invitations, tasks=tasks, projects=mine,
                     states=TASK_STATES, state_labels=projects.TASK_STATE_LABELS)


async def answer_invitation(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    decision = forms.text(form, "decision")
    if decision not in ("accept", "decline"):
        raise InvalidInput("decision must be accept or decline")
    answered = await project_services.answer_invite(get_context(request).fed, user.username,
                                                    int(request.match_info["id"]), decision == "accept")
    if answered.state == "declined":
        await sessions.notify(request, "Invitation declined.")
        raise web.HTTPSeeOther("/projects")
    if answered.local_name is not None:
        await sessions.notify(request, "Welcome to the team.")
        raise web.HTTPSeeOther(project_path(answered.local_name))
    await sessions.notify(request, "You are in the team." if answered.state == "accepted" else
                          "Your answer is on its way to the project's server; you are in once it confirms.")
    raise web.HTTPSeeOther("/projects")


async def person_projects(request: web.Request, person: LocalActor) -> dict[str, Any]:
    """What a person's profile shows (web.routes.actors): their public projects here and the tasks they
    completed in them."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        cards = await project_views.projects_of(session, person, public_only=True)
        done = await project_views.completed_tasks(session, person_uri=ctx.urls.person(person.username), public_only=True)
    return {"person_projects": cards, "completed_tasks": done[:50]}


async def project_actor_terms(request: web.Request, group: LocalActor) -> dict[str, Any]:
    """What a project's Group actor document adds: ``projectOrigin``, the thread it was started from."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        project = await session.get(Project, group.id)
    return {"projectOrigin": project.origin_uri} if project is not None and project.origin_uri else {}


# --------------------------------------------------------------------------------------------------
# Starting a project


async def _new_page(request: web.Request, values: dict[str, str], errors: dict[str, str],
                    status: int = 200) -> web.Response:
    ctx = get_context(request)
    origin = None
    if values.get("origin"):
        async with ctx.sessions() as session:
            thread = await object_by_uri(session, values["origin"])
            origin = {"title": thread.name, "path": values["origin"]} if thread is not None else None
    return html_page(request, "project_new.html", status=status, values=values, errors=errors, labels=NEW_LABELS,
                     joining_labels=JOINING_LABELS, origin=origin)


async def new_project_form(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    origin = request.query.get("from", "")[:2048]
    values = {"joining": "open", "origin": origin, "name": "", "title": "", "description": ""}
    if origin:
        async with ctx.sessions() as session:  # the same checks as the POST: a clear 403/404 before typing
            thread, _ = await projects.origin_thread(session, ctx.urls, origin, user.profile_url)
        values.update(name=projects.suggested_name(thread.name), title=thread.name, origin=thread.uri)
    return await _new_page(request, values, {})


async def new_project(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    values = forms.values(form, "name", "title", "description", "joining", "origin")
    try:
        name = await project_services.start_project(get_context(request).fed, user.username,
                                                    projects.NewProject(**values))
    except InvalidFields as exc:
        return await _new_page(request, values, exc.errors, status=400)
    await sessions.notify(request, "Your project is ready: add tasks and invite people who could help.")
    raise web.HTTPSeeOther(project_path(name))


# --------------------------------------------------------------------------------------------------
# A project's page


async def _project_page(request: web.Request, *, task_form: dict[str, Any] | None = None,
                        invite_form: dict[str, Any] | None = None, close_form: dict[str, Any] | None = None,
                        status: int = 200) -> web.Response:
    ctx = get_context(request)
    viewer = viewer_uri(request)
    view = request.query.get("view", "list")
    if view not in ("list", "board"):
        raise InvalidInput("view must be list or board")
    only_mine = request.query.get("mine") == "1" and viewer is not None
    await index.sync(ctx.sessions, ctx.urls)  # "People who could help" reads the profiles index
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        project = await projects.project_of(session, group)
        place = await group_pages.standing(session, ctx.urls, group, viewer)
        if not place.can_read:
            raise NotFound("no such project here (or it is closed to its team and you are not in it)")
        about = await group_pages.about(session, ctx.urls, group, reader=place)
        lead = await projects.is_lead(session, ctx.urls, group, viewer)
        rows = await project_views.project_tasks(session, group, mine=viewer if only_mine else None)
        tasks = await project_views.task_views(session, ctx.urls, rows, viewer,
                                          {ctx.urls.group(group.username)} if lead else set())
        team = await projects.team(session, ctx.urls, group)
        progress = await project_views.progress(session, group)
        origin = await object_by_uri(session, project.origin_uri)
        helpers = await matching.group_matches(session, ctx.urls, group, viewer) if lead else None
        invited = set(await session.scalars(select(ProjectInvite.actor_uri).where(
            ProjectInvite.project_uri == ctx.urls.group(group.username),
            ProjectInvite.state == "pending")))
    in_team = {person.uri for person in team}
    return html_page(
        request, "project.html", status=status, group=about, standing=place, project=project, lead=lead,
        tasks=tasks, team=team, progress=progress, view=view, only_mine=only_mine, helpers=helpers,
        in_team=in_team, invited=invited, states=TASK_STATES, state_labels=projects.TASK_STATE_LABELS,
        origin={"title": origin.name, "path": origin.uri} if origin is not None else None,
        task_form=task_form or {}, invite_form=invite_form or {}, close_form=close_form or {},
        task_labels=TASK_LABELS, path=project_path(group.username),
    )


async def project_page(request: web.Request) -> web.Response:
    return await _project_page(request)


async def add_task(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    typed, task_form = _task_form(await forms.read(request))
    name = request.match_info["name"]
    try:
        await project_services.add_task(get_context(request).fed, user.username, name, task_form)
    except InvalidFields as exc:
        return await _project_page(request, task_form={**typed, "errors": exc.errors}, status=400)
    await sessions.notify(request, "Task added.")
    raise web.HTTPSeeOther(project_path(name.lower()))


async def invite(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    person = forms.text(form, "person").strip()
    name = request.match_info["name"]
    try:
        if not person:
            raise InvalidFields({"person": "whom? Their address (name@server) or a name on this server"})
        await project_services.invite(get_context(request).fed, user.username, name, person)
    except InvalidFields as exc:
        return await _project_page(request, invite_form={"person": person, "error": exc.errors.get("person")},
                                   status=400)
    except (InvalidInput, NotFound) as exc:
        return await _project_page(request, invite_form={"person": person, "error": exc.message},
                                   status=exc.status)
    await sessions.notify(request, f"Invitation sent to {person}.")
    raise web.HTTPSeeOther(project_path(name.lower()))


async def close(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    outcome = forms.text(form, "outcome")
    name = request.match_info["name"]
    try:
        await project_services.close_project(get_context(request).fed, user.username, name, outcome)
    except InvalidFields as exc:
        return await _project_page(request, close_form={"outcome": outcome, "error": exc.errors.get("outcome")},
                                   status=400)
    await sessions.notify(request, "The project is done. The thread it came from shows the outcome.")
    raise web.HTTPSeeOther(project_path(name.lower()))


# --------------------------------------------------------------------------------------------------
# Tasks


async def move_task(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    task = await project_services.move_task(get_context(request).fed, user.username, int(request.match_info["id"]),
                                            forms.text(form, "state"))
    await sessions.notify(request, f"“{task.title}” is {projects.TASK_STATE_LABELS[task.state].lower()} now.")
    raise web.HTTPSeeOther(_back(form, f"/tasks/{task.id}"))


async def _task(request: web.Request) -> tuple[ProjectTask, LocalActor | None]:
    ctx = get_context(request)
    key = request.match_info["key"]
    async with ctx.sessions() as session:
        if key.isdigit():
            task = await session.get(ProjectTask, int(key[:12]))
        else:
            task = await session.scalar(select(ProjectTask).where(ProjectTask.uri == f"{ctx.urls.base}/tasks/{key}"))
        if task is None:
            raise NotFound("no such task here")
        group = await session.get(LocalActor, task.group_id) if task.group_id is not None else None
        if group is not None:
            place = await group_pages.standing(session, ctx.urls, group, viewer_uri(request))
            if not place.can_read:
                raise NotFound("no such task here (or its project is closed to its team)")
    return task, group


async def task_page(request: web.Request, *, comment_form: dict[str, Any] | None = None,
                    task_form: dict[str, Any] | None = None, status: int = 200) -> web.Response:
    ctx = get_context(request)
    task, group = await _task(request)
    if choose(request) is Representation.ACTIVITY_JSON:
        if group is None:
            raise NotFound("not a task of this server")
        return activity_json(task.document)
    viewer = viewer_uri(request)
    async with ctx.sessions() as session:
        lead = group is not None and await projects.is_lead(session, ctx.urls, group, viewer)
        [view] = await project_views.task_views(session, ctx.urls, [task], viewer, {task.project_uri} if lead else set())
        # Who comments from here: the team of our project; for another server's, its assignees here.
        member = await projects.in_team(session, ctx.urls, group, viewer) if group is not None else view.mine
        comments = list(await session.scalars(select(TaskComment).where(TaskComment.task_id == task.id)
                                              .order_by(TaskComment.id)))
        authors = await project_views.people_named(session, ctx.urls, [c.author_uri for c in comments])
        team = await projects.team(session, ctx.urls, group) if lead and group is not None else []
    if task_form is None:  # the edit form starts from the task as it is
        task_form = {"title": task.title, "description": task.source, "due": task.due.isoformat() if task.due else "",
                     "assignees": tuple(person.uri for person in view.assignees)}
    return html_page(request, "task.html", status=status, task=view, comments=comments, authors=authors,
                     member=member, states=TASK_STATES, state_labels=projects.TASK_STATE_LABELS,
                     project_path=project_path(group.username) if group is not None else task.project_uri,
                     comment_form=comment_form or {}, local=group is not None, lead=lead, team=team,
                     task_form=task_form, task_labels=TASK_LABELS)


def _task_form(form: Any) -> tuple[dict[str, Any], projects.TaskForm]:
    """The task form as typed (to show it again) and as content.projects reads it."""
    values = forms.values(form, "title", "description", "due")
    assignees = tuple(v for v in form.getall("assignees", []) if isinstance(v, str))
    return {**values, "assignees": assignees}, projects.TaskForm(assignees=assignees, **values)


async def edit_task(request: web.Request) -> web.Response:
    """A lead changes the task (403 for anyone else; a bad field: 400, the form as typed, nothing changed)."""
    user = sessions.require_user(request)
    typed, task_form = _task_form(await forms.read(request))
    try:
        await project_services.edit_task(get_context(request).fed, user.username, int(request.match_info["key"]),
                                         task_form)
    except InvalidFields as exc:
        return await task_page(request, task_form={**typed, "errors": exc.errors}, status=400)
    await sessions.notify(request, "Task saved.")
    raise web.HTTPSeeOther(f"/tasks/{request.match_info['key']}")


async def delete_task(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    await forms.read(request)
    name = await project_services.delete_task(get_context(request).fed, user.username, int(request.match_info["key"]))
    await sessions.notify(request, "Task deleted.")
    raise web.HTTPSeeOther(project_path(name))


async def comment(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    text = forms.text(form, "comment")
    try:
        await project_services.comment_task(get_context(request).fed, user.username, int(request.match_info["key"]),
                                            text)
    except InvalidFields as exc:
        return await task_page(request, comment_form={"comment": text, "error": exc.errors.get("comment")},
                               status=400)
    raise web.HTTPSeeOther(f"/tasks/{request.match_info['key']}#comments")


# --------------------------------------------------------------------------------------------------
# JSON


def _task_json(task: ProjectTask) -> dict[str, Any]:
    return {"id": task.uri, "path": f"/tasks/{task.id}", "title": task.title, "state": task.state,
            "due": task.due.isoformat() if task.due else None}


async def add_task_json(request: web.Request) -> web.Response:
    user = _api_user(request)
    form = _json_task(await _json_body(request))
    try:
        task = await project_services.add_task(get_context(request).fed, user.username, request.match_info["name"],
                                               form)
    except InvalidFields as exc:
        return _field_errors(exc)
    response = plain_json(_task_json(task))
    response.set_status(201)
    return response


def _json_task(body: dict[str, Any]) -> projects.TaskForm:
    assignees = body.get("assignees", [])
    texts = {key: body.get(key, "") for key in ("title", "description", "due")}
    if set(body) - {"title", "description", "due", "assignees"} or not all(isinstance(v, str) for v in texts.values()) \
            or not (isinstance(assignees, list) and all(isinstance(a, str) for a in assignees)):
        raise InvalidInput('send {"title": "...", "description": "...", "due": "YYYY-MM-DD", "assignees": [actor ids]}')
    return projects.TaskForm(assignees=tuple(assignees), **texts)


async def edit_task_json(request: web.Request) -> web.Response:
    """A lead replaces the task's fields (all of them, as when adding)."""
    user = _api_user(request)
    form = _json_task(await _json_body(request))
    try:
        task = await project_services.edit_task(get_context(request).fed, user.username,
                                                int(request.match_info["id"]), form)
    except InvalidFields as exc:
        return _field_errors(exc)
    return plain_json(_task_json(task))


async def delete_task_json(request: web.Request) -> web.Response:
    user = _api_user(request)
    await project_services.delete_task(get_context(request).fed, user.username, int(request.match_info["id"]))
    return web.Response(status=204)


async def move_task_json(request: web.Request) -> web.Response:
    user = _api_user(request)
    body = await _json_body(request)
    if set(body) != {"state"} or not isinstance(body["state"], str):
        raise InvalidInput('send {"state": "open" | "doing" | "done"}')
    task = await project_services.move_task(get_context(request).fed, user.username,
                                            int(request.match_info["id"]), body["state"])
    return plain_json(_task_json(task))
