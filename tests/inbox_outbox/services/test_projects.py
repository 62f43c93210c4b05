"""Projects (issue #14): started from a concern, a team from any server, tasks with assignees and states,
invitations, the refusals, closing the project (the concern is done with the outcome), and what peers
receive (Invite, the mention Note, Tickets), and what our projects take from them (Update/Resolve)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actors import local, mail_preferences
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from content import notification_views, project_views, projects
from content.recognition import badges, ledger
from inbox_outbox.services import membership, posts
from inbox_outbox.services import projects as project_services
from storage.models import Notification, Object, Project, ProjectInvite, ProjectTask, StatusChange, TaskComment
from tests.inbox_outbox.content_support import (
    World, activity, create, inboxes_of, join, join_local, person, published, receive, stored,
)


async def _concern(w: World, author: str = "erin") -> Object:
    async with w.services.sessions.begin() as session:
        who = await local.find_person(session, author)
        garden = await local.find_group(session, "garden")
        return await posts.create_post(session, w.services.urls, who, garden, "Leaking roof in hall B",
                                       "Water comes in when it rains", "concern")


@pytest.fixture
async def cast(content_world: World) -> World:
    await person(content_world.services, "erin")  # a customer who raised the concern
    await person(content_world.services, "sam")  # the group's staff
    await join_local(content_world.services, "garden", "erin")
    await join_local(content_world.services, "garden", "sam", role="staff")
    return content_world


async def _start(w: World, concern: Object, who: str = "sam", name: str = "roof") -> str:
    assert w.services.fed is not None
    return await project_services.start_project(
        w.services.fed, who, projects.NewProject(name=name, origin=concern.uri))


async def _task(w: World, title: str, assignees: tuple[str, ...] = (), due: str = "", who: str = "sam") -> ProjectTask:
    assert w.services.fed is not None
    return await project_services.add_task(w.services.fed, who, "roof",
                                           projects.TaskForm(title=title, assignees=assignees, due=due))


async def test_a_concern_becomes_a_project_linked_both_ways(cast: World) -> None:
    w = cast
    concern = await _concern(w)
    name = await _start(w, concern)
    async with w.services.sessions() as session:
        group = await local.find_group(session, name)
        assert group.group is not None and group.group.kind == "project"
        assert group.display_name == "Leaking roof in hall B"  # the thread's title
        assert "Water comes in" in group.summary  # and its text
        project = await session.get(Project, group.id)
        assert project is not None and project.origin_uri == concern.uri
        shown = await project_views.thread_project(session, w.services.urls, concern.uri)
    assert shown is not None and shown.name == "roof"
    assert shown.progress.line == "0 of 0 tasks done, 1 person"  # sam, its lead


async def test_who_may_start_a_project(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    concern = await _concern(w)
    with pytest.raises(Forbidden, match="only the team"):
        await _start(w, concern, who="erin")  # a member, not on the team
    async with w.services.sessions.begin() as session:
        alice = await local.find_person(session, "alice")
        board = await local.find_group(session, "board")
        secret = await posts.create_post(session, w.services.urls, alice, board, "Secret", "x", "concern")
    with pytest.raises(Forbidden, match="private group"):
        await _start(w, secret, who="dave")
    await _start(w, concern)
    with pytest.raises(InvalidFields, match="already has a project"):
        await _start(w, concern, name="roof2")
    # On its own, no thread: fine for anyone.
    name = await project_services.start_project(w.services.fed, "dave", projects.NewProject(name="solo"))
    assert name == "solo"


async def test_tasks_progress_and_the_rules(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    concern = await _concern(w)
    await _start(w, concern)
    sam = w.services.urls.person("sam")
    with pytest.raises(InvalidFields, match="not in the team"):
        await _task(w, "Fix it", assignees=(w.dave,))
    with pytest.raises(InvalidFields, match="YYYY-MM-DD"):
        await _task(w, "Fix it", due="31/03/2027")
    async with w.services.sessions() as session:
        assert list(await session.scalars(select(ProjectTask))) == []  # nothing half-written
    first = await _task(w, "Buy tiles", assignees=(sam,), due="2027-03-31")
    await _task(w, "Call the roofer")
    with pytest.raises(Forbidden):  # dave is not in the team
        await project_services.move_task(w.services.fed, "dave", first.id, "done")
    with pytest.raises(InvalidInput, match="unknown task state"):
        await project_services.move_task(w.services.fed, "sam", first.id, "finished")
    await project_services.move_task(w.services.fed, "sam", first.id, "done")
    async with w.services.sessions() as session:
        group = await local.find_group(session, "roof")
        assert (await project_views.progress(session, group)).line == "1 of 2 tasks done, 1 person"
        done = await project_views.completed_tasks(session, person_uri=sam)
    assert [(d.title, d.project_uri) for d in done] == [("Buy tiles", w.services.urls.group("roof"))]
    # The Ticket the project published: readable, ForgeFed terms, then the Update to done.
    tickets = await published(w.services, w.services.urls.group("roof"))
    created = [t for t in tickets if t["type"] == "Create"][0]["object"]
    assert created["type"] == "Ticket" and created["assignedTo"] == [sam] and created["endTime"] == "2027-03-31"
    assert created["content"].startswith(f"<p>Task: Buy tiles, assigned to @sam@{w.services.urls.domain}</p>")
    # Mastodon-family members drop a Ticket: the same task as a Note, readable, mentioning the assignee.
    note = [t for t in tickets if t["type"] == "Create"][1]["object"]
    assert note["type"] == "Note" and note["tag"][0]["href"] == sam and "Task: Buy tiles, assigned to @sam@" in \
        note["content"] and created["id"] in note["content"]
    updated = [t for t in tickets if t["type"] == "Update"][-1]["object"]
    assert updated["isResolved"] is True and updated["taskState"] == "done"


async def test_inviting_a_remote_person_sends_invite_and_a_mention(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    concern = await _concern(w)
    await _start(w, concern)
    await project_services.invite(w.services.fed, "sam", "roof", w.carol.id)
    roof = w.services.urls.group("roof")
    [invite] = await published(w.services, roof, "Invite")
    assert invite["object"] == roof and invite["target"] == w.carol.id
    assert await inboxes_of(w.services, invite["id"]) == {w.carol.inbox}
    [create] = await published(w.services, roof, "Create")
    note = create["object"]
    assert note["type"] == "Note" and note["to"] == [w.carol.id]
    assert note["tag"] == [{"type": "Mention", "href": w.carol.id, "name": w.carol.handle}] or \
        note["tag"][0]["href"] == w.carol.id
    assert roof in note["content"] and "invited to join the project" in note["content"]
    with pytest.raises(InvalidInput, match="invited already"):
        await project_services.invite(w.services.fed, "sam", "roof", w.carol.id)
    # Only carol declines her invitation (Reject{Invite}); then she may be invited again.
    assert (await receive(w.services, w.bob, activity(w.bob, "Reject", invite["id"]))).dropped
    assert (await receive(w.services, w.carol, activity(w.carol, "Reject", invite["id"]))).state == "done"
    async with w.services.sessions() as session:
        assert (await session.scalar(select(ProjectInvite.state))) == "declined"
    with pytest.raises(InvalidInput, match="already in the team"):
        await project_services.invite(w.services.fed, "sam", "roof", "sam")
    with pytest.raises(Forbidden):
        await project_services.invite(w.services.fed, "dave", "roof", "erin")


async def test_a_local_invitation_is_accepted_and_told(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await _start(w, await _concern(w))
    await project_services.invite(w.services.fed, "sam", "roof", "erin")
    async with w.services.sessions() as session:
        erin = await local.find_person(session, "erin")
        kinds = list(await session.scalars(select(Notification.kind).where(Notification.recipient_id == erin.id)))
        [row] = await projects.my_invitations(session, w.services.urls.person("erin"))
    assert "invite" in kinds
    with pytest.raises(NotFound):
        await project_services.answer_invite(w.services.fed, "dave", row.id, True)
    answered = await project_services.answer_invite(w.services.fed, "erin", row.id, True)
    assert answered.state == "accepted" and answered.local_name == "roof"
    await _task(w, "Measure", assignees=(w.services.urls.person("erin"),))


async def test_a_remote_member_moves_their_task_others_are_refused(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await _start(w, await _concern(w))
    await join(w.services, "roof", w.bob)
    await join(w.services, "roof", w.carol)
    task = await _task(w, "Fix gutter", assignees=(w.bob.id,))
    ticket = {"id": task.uri, "type": "Ticket", "taskState": "doing"}
    refused = await receive(w.services, w.carol, activity(w.carol, "Update", ticket))
    assert refused.dropped and "may not move" in (refused.error or "")
    assert (await _task_row(w, task.uri)).state == "open"
    moved = await receive(w.services, w.bob, activity(w.bob, "Update", ticket))
    assert moved.state == "done"
    assert (await _task_row(w, task.uri)).state == "doing"
    resolved = await receive(w.services, w.bob, activity(w.bob, "Resolve", task.uri))
    assert resolved.state == "done"
    row = await _task_row(w, task.uri)
    assert row.state == "done" and row.done_by_uri == w.bob.id
    # Comments (a Note in reply to the task) from the team only.
    eve = w.peer.add_actor("eve")
    for who, text in ((w.bob, "<p>Gutter is <em>clear</em></p>"), (eve, "<p>spam</p>")):
        note = {"id": w.peer.new_url("note"), "type": "Note", "attributedTo": who.id, "inReplyTo": task.uri,
                "content": text + "<script>x</script>", "to": [w.services.urls.group("roof")]}
        await receive(w.services, who, create(who, note))
    async with w.services.sessions() as session:
        comments = list(await session.scalars(select(TaskComment)))
    assert [(c.author_uri, c.content) for c in comments] == [(w.bob.id, "<p>Gutter is <em>clear</em></p>")]


async def _task_row(w: World, uri: str) -> ProjectTask:
    async with w.services.sessions() as session:
        row = await session.scalar(select(ProjectTask).where(ProjectTask.uri == uri))
        assert row is not None
        return row


async def test_closing_moves_the_concern_to_done_with_the_outcome(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    concern = await _concern(w)
    await _start(w, concern)
    with pytest.raises(InvalidFields, match="outcome"):
        await project_services.close_project(w.services.fed, "sam", "roof", "  ")
    with pytest.raises(Forbidden):
        await project_services.close_project(w.services.fed, "erin", "roof", "done")
    await project_services.close_project(w.services.fed, "sam", "roof", "New roof is on; dry since March.")
    row = await stored(w.services, concern.uri)
    assert row is not None and row.status == "done"
    async with w.services.sessions() as session:
        change = await session.scalar(select(StatusChange).where(StatusChange.object_id == row.id))
        assert change is not None
        response = await session.scalar(select(Object).where(Object.uri == change.response_uri))
        erin = await local.find_person(session, "erin")
        told = list(await session.scalars(select(Notification.kind).where(Notification.recipient_id == erin.id)))
    assert response is not None and response.official and "dry since March" in (response.source or "")
    assert "status" in told  # the concern's author hears of it
    with pytest.raises(InvalidInput, match="done already"):
        await project_services.close_project(w.services.fed, "sam", "roof", "again")


async def test_a_remote_projects_invite_and_tickets_arrive_here(cast: World) -> None:
    w = cast
    project = w.peer.add_actor("pump", name="Pump project", actor_type="Group")
    dave = w.dave
    invite = activity(project, "Invite", project.id, target=dave, to=[dave])
    assert (await receive(w.services, project, invite)).state == "done"
    async with w.services.sessions() as session:
        [row] = await projects.my_invitations(session, dave)
    assert row.project_uri == project.id and row.project_name == "Pump project"
    async with w.services.sessions() as session:
        told = await session.scalar(select(Notification.object_uri).where(Notification.kind == "invite"))
    assert told == project.id
    # Only a group invites, and only to itself.
    assert (await receive(w.services, w.bob, activity(w.bob, "Invite", w.bob.id, target=dave))).dropped
    ticket = {"id": w.peer.url("/tasks/1"), "type": "Ticket", "context": project.id, "attributedTo": project.id,
              "name": "Fix the pump", "content": "<p>Task: Fix the pump, assigned to @dave</p><p>Seal</p>",
              "assignedTo": [dave], "isResolved": False, "taskState": "open"}
    assert (await receive(w.services, project, activity(project, "Create", ticket))).state == "done"
    async with w.services.sessions() as session:
        [mine] = await project_views.my_tasks(session, dave)
    assert mine.title == "Fix the pump" and mine.content == "<p>Seal</p>"
    # Someone else may not publish the project's tickets.
    forged = {**ticket, "id": w.peer.url("/tasks/2")}
    assert (await receive(w.services, w.bob, activity(w.bob, "Create", forged))).dropped
    # Dave declines the invitation: Reject{Invite} to the project.
    await project_services.answer_invite(w.services.fed, "dave", row.id, False)
    [reject] = await published(w.services, dave, "Reject")
    assert reject["object"]["id"] == invite["id"] and await inboxes_of(w.services, reject["id"]) == {project.inbox}
    # Dave moves it to done from here: Resolve to the project.
    assert w.services.fed is not None
    await project_services.move_task(w.services.fed, "dave", mine.id, "done")
    [resolve] = await published(w.services, dave, "Resolve")
    assert resolve["object"] == ticket["id"] and await inboxes_of(w.services, resolve["id"]) == {project.inbox}
    with pytest.raises(Forbidden):
        await project_services.move_task(w.services.fed, "alice", mine.id, "open")


async def test_a_closed_project_takes_invited_people_others_wait(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await project_services.start_project(w.services.fed, "sam", projects.NewProject(name="quiet", joining="invite"))
    await project_services.invite(w.services.fed, "sam", "quiet", "erin")
    assert await membership.join_group(w.services.fed, "erin", "quiet") == "accepted"  # invited: in at once
    assert await membership.join_group(w.services.fed, "dave", "quiet") == "pending"  # a lead decides
    async with w.services.sessions() as session:
        [row] = list(await session.scalars(select(ProjectInvite)))
    assert row.state == "accepted"


async def test_a_group_made_as_a_project_elsewhere_is_a_project(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    async with w.services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="cli_made", kind="project", owner="sam"))
    task = await project_services.add_task(w.services.fed, "sam", "cli_made", projects.TaskForm(title="First"))
    assert task.project_uri == w.services.urls.group("cli_made")
    with pytest.raises(NotFound, match="not a project"):
        await project_services.add_task(w.services.fed, "alice", "garden", projects.TaskForm(title="x"))


async def test_done_tasks_earn_points_in_both_groups_and_closing_makes_finishers(cast: World) -> None:
    """Projects feed recognition (issue #17): a done task earns its assignee the ``task`` points in the
    project and in the group whose concern it came from; reopening takes them back; closing the project
    awards the "Project finisher" badge to whoever completed a task."""
    w = cast
    assert w.services.fed is not None
    concern = await _concern(w)
    await _start(w, concern)
    await project_services.invite(w.services.fed, "sam", "roof", "erin")
    async with w.services.sessions() as session:
        [row] = await projects.my_invitations(session, w.services.urls.person("erin"))
    await project_services.answer_invite(w.services.fed, "erin", row.id, True)
    task = await _task(w, "Buy tarpaulin", assignees=(w.services.urls.person("erin"),))

    async def points() -> tuple[int, int]:
        async with w.services.sessions() as session:
            erin = w.services.urls.person("erin")
            roof, garden = await local.find_group(session, "roof"), await local.find_group(session, "garden")
            return (await ledger.balance(session, w.services.urls, roof.id, erin),
                    await ledger.balance(session, w.services.urls, garden.id, erin))

    assert await points() == (0, 0)
    await project_services.move_task(w.services.fed, "erin", task.id, "done")
    assert await points() == (10, 10)
    await project_services.move_task(w.services.fed, "erin", task.id, "doing")
    assert await points() == (0, 0)
    await project_services.move_task(w.services.fed, "erin", task.id, "done")
    await project_services.close_project(w.services.fed, "sam", "roof", "Tarpaulin on; dry since March.")
    async with w.services.sessions() as session:
        roof = await local.find_group(session, "roof")
        held = await badges.of_member(session, w.services.urls.person("erin"), roof.id)
    assert [award.badge for award in held] == ["project_finisher"]


async def _told(w: World, name: str, kind: str = "task_assigned") -> list[tuple[str, str]]:
    async with w.services.sessions() as session:
        who = await local.find_person(session, name)
        return [(row.actor_uri, row.object_uri) for row in await session.scalars(
            select(Notification).where(Notification.recipient_id == who.id, Notification.kind == kind))]


async def test_assignees_are_told_when_a_task_is_added_or_edited(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await _start(w, await _concern(w))
    await join_local(w.services, "roof", "erin")
    sam, erin = w.services.urls.person("sam"), w.services.urls.person("erin")
    task = await _task(w, "Measure", assignees=(erin, sam))
    assert await _told(w, "erin") == [(sam, task.uri)]
    assert await _told(w, "sam") == []  # nobody is told of their own doing
    async with w.services.sessions() as session:
        erin_row = await local.find_person(session, "erin")
        [view] = (await notification_views.page(session, w.services.urls, erin_row.id)).items
    assert view.verb == "assigned you the task" and view.target_name == "Measure"
    assert view.target_url == f"/tasks/{task.id}"
    assert mail_preferences.category_of("task_assigned") == "tasks"
    # Edited later: only the newly assigned hear of it.
    other = await _task(w, "Paint")
    assert await _told(w, "erin") == [(sam, task.uri)]
    await project_services.edit_task(w.services.fed, "sam", other.id,
                                     projects.TaskForm(title="Paint", assignees=(erin,)))
    assert (sam, other.uri) in await _told(w, "erin")


async def test_leads_edit_and_delete_tasks_peers_get_update_and_delete(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await _start(w, await _concern(w))
    await join(w.services, "roof", w.bob)
    await join_local(w.services, "roof", "erin")
    roof = w.services.urls.group("roof")
    task = await _task(w, "Fix gutter", assignees=(w.bob.id,), due="2027-01-01")
    edit = project_services.edit_task
    for form, field in ((projects.TaskForm(title="X", assignees=(w.dave,)), "not in the team"),
                        (projects.TaskForm(title="X", due="soon"), "YYYY-MM-DD"),
                        (projects.TaskForm(title=" "), "title")):
        with pytest.raises(InvalidFields, match=field):
            await edit(w.services.fed, "sam", task.id, form)
    with pytest.raises(Forbidden):  # erin is in the team, not a lead
        await edit(w.services.fed, "erin", task.id, projects.TaskForm(title="Mine"))
    with pytest.raises(Forbidden):
        await project_services.delete_task(w.services.fed, "erin", task.id)
    row = await _task_row(w, task.uri)
    assert (row.title, str(row.due)) == ("Fix gutter", "2027-01-01")  # nothing changed
    erin = w.services.urls.person("erin")
    await edit(w.services.fed, "sam", task.id, projects.TaskForm(
        title="Clear the gutter", description="Both *sides*", assignees=(erin,), due="2027-02-01"))
    row = await _task_row(w, task.uri)
    assert (row.title, str(row.due)) == ("Clear the gutter", "2027-02-01") and "<em>sides</em>" in row.content
    [update] = await published(w.services, roof, "Update")
    assert update["object"]["name"] == "Clear the gutter" and update["object"]["assignedTo"] == [erin]
    [created] = [c for c in await published(w.services, roof, "Create") if c["object"]["type"] == "Ticket"]
    members = await inboxes_of(w.services, created["id"])  # bob's server
    assert members and members <= await inboxes_of(w.services, update["id"])  # bob is a member still
    async with w.services.sessions() as session:
        assert await project_views.my_tasks(session, erin) and not await project_views.my_tasks(session, w.bob.id)
    await project_services.delete_task(w.services.fed, "sam", task.id)
    [gone] = await published(w.services, roof, "Delete")
    assert gone["object"] == {"id": task.uri, "type": "Tombstone", "formerType": "Ticket"}
    assert members <= await inboxes_of(w.services, gone["id"])
    async with w.services.sessions() as session:
        assert await session.scalar(select(ProjectTask).where(ProjectTask.uri == task.uri)) is None
    with pytest.raises(NotFound):
        await project_services.delete_task(w.services.fed, "sam", task.id)


async def test_a_task_moved_to_done_is_told_as_a_readable_note(cast: World) -> None:
    w = cast
    assert w.services.fed is not None
    await _start(w, await _concern(w))
    await join(w.services, "roof", w.bob)
    task = await _task(w, "Fix gutter", assignees=(w.bob.id,))
    await project_services.move_task(w.services.fed, "sam", task.id, "doing")
    roof = w.services.urls.group("roof")
    assert len(await published(w.services, roof, "Create")) == 2  # the Ticket and its Note; "doing" is no news
    assert (await receive(w.services, w.bob, activity(w.bob, "Resolve", task.uri))).state == "done"
    notes = [c["object"] for c in await published(w.services, roof, "Create") if c["object"]["type"] == "Note"]
    assert len(notes) == 2
    done = notes[-1] if "Task done" in notes[-1]["content"] else notes[0]
    assert f"Task done: Fix gutter, by @{w.bob.handle.lstrip('@')}" in done["content"]
    assert task.uri in done["content"] and done["tag"] == []


async def test_a_remote_ticket_naming_our_person_tells_them_and_its_delete_removes_it(cast: World) -> None:
    w = cast
    project = w.peer.add_actor("pump", name="Pump project", actor_type="Group")
    ticket = {"id": w.peer.url("/tasks/9"), "type": "Ticket", "context": project.id, "attributedTo": project.id,
              "name": "Fix the pump", "content": "<p>Seal</p>", "assignedTo": [], "isResolved": False,
              "taskState": "open"}
    assert (await receive(w.services, project, activity(project, "Create", ticket))).state == "done"
    assert await _told(w, "dave") == []
    named = {**ticket, "assignedTo": [w.dave]}
    assert (await receive(w.services, project, activity(project, "Update", named))).state == "done"
    assert await _told(w, "dave") == [(project.id, ticket["id"])]
    async with w.services.sessions() as session:
        assert [t.title for t in await project_views.my_tasks(session, w.dave)] == ["Fix the pump"]
    # Only the project deletes it; then it is gone from "my tasks".
    tombstone = {"id": ticket["id"], "type": "Tombstone"}
    assert (await receive(w.services, w.bob, activity(w.bob, "Delete", tombstone))).dropped
    assert (await receive(w.services, project, activity(project, "Delete", tombstone))).state == "done"
    async with w.services.sessions() as session:
        assert await project_views.my_tasks(session, w.dave) == []
