"""Projects as a browser uses them, without JavaScript (issue #14): "Start a project" on a concern, the
project page (checklist, board, "mine"), adding tasks (400 with the typed text kept for a bad date or a
non-member), moving tasks with buttons (403 for others), comments, inviting and accepting, closing with
an outcome (the concern is done), the profile's projects and completed tasks, and the JSON API's errors."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from madeopen.app import Services
from storage.models import Object, ProjectTask
from tests.support.web_ui import UI, second_ui, shop_with_team, ui  # noqa: F401  (fixtures)

BASE = "https://node.test"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _tasks(services: Services) -> list[ProjectTask]:
    async with services.sessions() as session:
        return list(await session.scalars(select(ProjectTask).order_by(ProjectTask.id)))


async def test_from_concern_to_done(ui: UI, second_ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("erin")
    response = await ui.post("/groups/shop/new", {"title": "Broken till", "body": "It eats cards.", "kind": "concern"})
    concern = response.headers["Location"]
    page = await ui.page(concern)
    assert "Start a project" not in page  # erin is not on the team
    async with services.sessions() as session:
        row = await session.scalar(select(Object).where(Object.uri == BASE + concern))
        assert row is not None
    assert (await ui.get(f"/projects/new?from={row.uri}")).status == 403

    await second_ui.log_in("sam")
    page = await second_ui.page(concern)
    assert "Start a project" in page
    form = await second_ui.page(f"/projects/new?from={row.uri}")
    assert 'value="broken_till"' in form and 'value="Broken till"' in form
    response = await second_ui.post("/projects/new", {"name": "till", "title": "", "description": "",
                                                      "joining": "open", "origin": row.uri})
    assert response.status == 303 and response.headers["Location"] == "/groups/till/project"
    page = _text(await second_ui.page("/groups/till/project"))
    assert "Started from Broken till" in page and "0 of 0 tasks done, 1 person" in page
    assert "Project: Broken till — 0 of 0 tasks done, 1 person" in _text(await ui.page(concern))
    # The project's Group actor names its origin thread (PROTOCOL.md "Projects").
    response = await ui.client.get("/groups/till", headers={"Accept": "application/activity+json"})
    actor = await response.json(content_type=None)
    assert actor["type"] == "Group" and actor["projectOrigin"] == row.uri

    # Erin joins the open project; a bad task is refused with the typed text kept, nothing written.
    assert (await ui.post("/groups/till/join", {})).status == 303
    erin = f"{BASE}/users/erin"
    response = await second_ui.post("/groups/till/project/tasks", {"title": "Call the bank", "due": "next week",
                                                                   "assignees": erin})
    assert response.status == 400
    text = await response.text()
    assert "YYYY-MM-DD" in text and 'value="Call the bank"' in text
    response = await second_ui.post("/groups/till/project/tasks", {"title": "Call the bank",
                                                                   "assignees": f"{BASE}/users/ada"})
    assert response.status == 400 and "not in the team" in await response.text()
    assert await _tasks(services) == []
    for title, who in (("Call the bank", erin), ("Order a new till", "")):
        fields = {"title": title, "due": "2027-01-15"}
        if who:
            fields["assignees"] = who
        assert (await second_ui.post("/groups/till/project/tasks", fields)).status == 303
    call, order = await _tasks(services)

    # Erin sees her task ("mine"), moves it with buttons; she may not move sam's unassigned one.
    mine = _text(await ui.page("/groups/till/project?mine=1"))
    assert "Call the bank" in mine and "Order a new till" not in mine
    board = await ui.page("/groups/till/project?view=board")
    assert 'id="column-doing"' in board
    assert (await ui.post(f"/tasks/{order.id}/state", {"state": "done"})).status == 403
    response = await ui.post(f"/tasks/{call.id}/state", {"state": "doing", "next": "/groups/till/project?view=board"})
    assert response.status == 303 and response.headers["Location"] == "/groups/till/project?view=board"
    assert (await ui.post(f"/tasks/{call.id}/state", {"state": "done", "next": "https://evil.example/"})).status == 303
    assert [t.state for t in await _tasks(services)] == ["done", "open"]
    assert "Tasks completed (1)" in _text(await second_ui.page("/users/erin"))
    assert "1 of 2 tasks done, 2 people" in _text(await ui.page(concern))

    # Comments: the team only; an empty one is a 400.
    assert (await ui.post(f"/tasks/{call.id}/comments", {"comment": ""})).status == 400
    assert (await ui.post(f"/tasks/{call.id}/comments", {"comment": "Bank says **Monday**"})).status == 303
    assert "<strong>Monday</strong>" in await ui.page(f"/tasks/{call.id}")

    # JSON: 403 for a non-lead, 400 for a bad date, 201 for a lead.
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Origin": BASE}
    response = await ui.client.post("/api/groups/till/tasks", json={"title": "x"}, headers=headers)
    assert response.status == 403 and "only the leads" in (await response.json())["error"]
    response = await second_ui.client.post("/api/groups/till/tasks", json={"title": "x", "due": "2027-13-01"},
                                           headers=headers)
    assert response.status == 400 and "due" in (await response.json())["errors"]
    response = await second_ui.client.post("/api/groups/till/tasks", json={"title": "Test it"}, headers=headers)
    assert response.status == 201
    assert (await response.json())["title"] == "Test it"

    # Invite ada (not in the team yet); inviting sam (in it) is refused.
    response = await second_ui.post("/groups/till/project/invite", {"person": "sam"})
    assert response.status == 400 and "already in the team" in await response.text()
    assert (await second_ui.post("/groups/till/project/invite", {"person": "ada"})).status == 303
    await ui.log_in("ada")
    page = await ui.page("/projects")
    found = re.search(r'action="/projects/invitations/(\d+)"', page)
    assert found is not None and "Broken till" in page
    response = await ui.post(f"/projects/invitations/{found.group(1)}", {"decision": "accept"})
    assert response.status == 303 and response.headers["Location"] == "/groups/till/project"

    # Closing: an outcome is required; then the concern is done with it as the official response.
    response = await second_ui.post("/groups/till/project/close", {"outcome": ""})
    assert response.status == 400
    assert (await second_ui.post("/groups/till/project/close", {"outcome": "A new till since Monday."})).status == 303
    page = _text(await ui.page(concern))
    assert "Status: Done" in page and "A new till since Monday." in page and "· done" in page


async def test_leads_edit_and_delete_tasks_the_assigned_are_told(ui: UI, second_ui: UI,  # noqa: F811
                                                                 services: Services) -> None:
    await shop_with_team(services)
    await second_ui.log_in("sam")
    response = await second_ui.post("/projects/new", {"name": "fair", "title": "Summer fair", "description": "",
                                                      "joining": "open", "origin": ""})
    assert response.status == 303
    await ui.log_in("erin")
    assert (await ui.post("/groups/fair/join", {})).status == 303
    erin, sam = f"{BASE}/users/erin", f"{BASE}/users/sam"
    assert (await second_ui.post("/groups/fair/project/tasks", {"title": "Book a band", "assignees": sam})).status == 303
    [task] = await _tasks(services)
    assert "Edit the task" in await second_ui.page(f"/tasks/{task.id}")
    assert "Edit the task" not in await ui.page(f"/tasks/{task.id}")
    # Bad fields: 400 with the form as typed, nothing changed.
    response = await second_ui.post(f"/tasks/{task.id}/edit", {"title": "Book two bands", "due": "June",
                                                               "assignees": erin})
    assert response.status == 400
    page = await response.text()
    assert "YYYY-MM-DD" in page and 'value="Book two bands"' in page and 'value="June"' in page
    response = await second_ui.post(f"/tasks/{task.id}/edit", {"title": "Book two bands",
                                                               "assignees": f"{BASE}/users/ada"})
    assert response.status == 400 and "not in the team" in await response.text()
    assert (await ui.post(f"/tasks/{task.id}/edit", {"title": "Mine now", "assignees": erin})).status == 403
    assert (await ui.post(f"/tasks/{task.id}/delete", {})).status == 403
    [row] = await _tasks(services)
    assert (row.title, row.due) == ("Book a band", None)
    # A lead saves it: erin is assigned now, and told.
    response = await second_ui.post(f"/tasks/{task.id}/edit", {"title": "Book two bands", "description": "*Loud* ones",
                                                               "due": "2027-06-01", "assignees": erin})
    assert response.status == 303
    [row] = await _tasks(services)
    assert (row.title, str(row.due)) == ("Book two bands", "2027-06-01") and "<em>Loud</em>" in row.content
    notes = _text(await ui.page("/notifications"))
    assert "assigned you the task Book two bands" in notes
    assert "Tasks assigned to you" in await ui.page("/settings/notifications")
    assert "Book two bands" in _text(await ui.page("/projects"))  # erin's tasks
    # JSON: PUT replaces the fields (403 for a non-lead, 400 per field), DELETE removes it.
    headers = {"Content-Type": "application/json", "Accept": "application/json", "Origin": BASE}
    response = await ui.client.put(f"/api/tasks/{task.id}", json={"title": "x"}, headers=headers)
    assert response.status == 403
    response = await second_ui.client.put(f"/api/tasks/{task.id}", json={"title": "x", "due": "2027-13-01"},
                                          headers=headers)
    assert response.status == 400 and "due" in (await response.json())["errors"]
    response = await second_ui.client.put(f"/api/tasks/{task.id}", json={"title": "Book one band"}, headers=headers)
    assert response.status == 200 and (await response.json())["title"] == "Book one band"
    assert (await ui.client.delete(f"/api/tasks/{task.id}", headers=headers)).status == 403
    assert (await second_ui.post("/groups/fair/project/tasks", {"title": "Rent chairs"})).status == 303
    other = (await _tasks(services))[-1]
    assert (await second_ui.client.delete(f"/api/tasks/{other.id}", headers=headers)).status == 204
    response = await second_ui.post(f"/tasks/{task.id}/delete", {})
    assert response.status == 303 and response.headers["Location"] == "/groups/fair/project"
    assert await _tasks(services) == []
    assert (await ui.get(f"/tasks/{task.id}")).status == 404
