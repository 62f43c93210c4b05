"""A concern on node A becomes a project; a person on node B, found by skill with A's people finder, is
invited, accepts from B, gets a task and moves it to done from B; a bare peer playing Mastodon receives
the invitation as a mention it shows; A's concern shows the progress, then "done" with the outcome
(issue #14). Real `madeopen run` processes for A and B."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from actors import local
from content import project_views, projects
from inbox_outbox.services import membership, posts
from inbox_outbox.services import profiles as profile_services
from inbox_outbox.services import projects as project_services
from people import index, matching
from people.profiles import ProfileChange
from storage.models import Membership, Notification, Object, ProjectInvite, ProjectTask, TaskComment
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes
from tests.support.peer import Peer, mastodon_shows

AS2 = "https://www.w3.org/ns/activitystreams"


async def _invitation(node: RunningNode, person_uri: str) -> ProjectInvite | None:
    return await node.scalar(select(ProjectInvite).where(ProjectInvite.actor_uri == person_uri))


async def _task(node: RunningNode, uri: str, **values: Any) -> ProjectTask | None:
    task = await node.scalar(select(ProjectTask).where(ProjectTask.uri == uri))
    return task if task is not None and all(getattr(task, k) == v for k, v in values.items()) else None


async def _progress(a: RunningNode, concern: str, line: str) -> str | None:
    async with a.services.sessions() as session:
        shown = await project_views.thread_project(session, a.services.urls, concern)
    return shown.progress.line if shown is not None and shown.progress.line == line else None


def _mention_for(peer: Peer, account: str) -> dict[str, Any] | None:
    for delivery in peer.inbox:
        obj = delivery.activity.get("object")
        if delivery.activity.get("type") == "Create" and isinstance(obj, dict) and obj.get("type") == "Note" \
                and mastodon_shows(obj, account):
            return obj
    return None


async def test_a_concern_becomes_a_project_with_people_of_other_servers(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer() as peer:
        peer.route_origin(a.base_url, a.base_url)
        for name in ("olga", "erin", "sam"):
            await a.create_person(name)
        await a.create_group("shop", owner="olga")
        async with a.services.sessions.begin() as session:
            shop, sam = await local.find_group(session, "shop"), await local.find_person(session, "sam")
            session.add(Membership(group_id=shop.id, local_actor_id=sam.id, role="staff", state="accepted"))
            await profile_services.set_group_needs(session, a.services.urls, "shop", "Roofing")
        await b.create_person("bea")
        async with b.services.sessions.begin() as session:
            bea_row = await local.find_person(session, "bea")
            await profile_services.save_profile(session, b.services.urls, bea_row.id,
                                                ProfileChange(skills="Roofing, Plumbing"))
        bea = b.user("bea")
        # A comes to know bea (sam follows her), so A's people finder can find her by skill.
        await membership.follow_actor(a.fed, "sam", b.handle("bea"))

        # erin's concern on A; sam (staff) starts a project from it, with the shop's skills wanted.
        async with a.services.sessions.begin() as session:
            erin = await local.find_person(session, "erin")
            concern = (await posts.create_post(session, a.services.urls, erin, shop, "Leaking roof",
                                               "Water in hall B", "concern")).uri
        name = await project_services.start_project(a.fed, "sam", projects.NewProject(name="roof", origin=concern))
        assert name == "roof"

        async def helper_found() -> str | None:
            await index.sync(a.services.sessions, a.services.urls)
            async with a.services.sessions() as session:
                roof = await local.find_group(session, "roof")
                found = await matching.group_matches(session, a.services.urls, roof, a.user("sam"))
            return bea if bea in [hit.id for hit in found.people] else None

        await eventually(helper_found, what="bea among the people who could help (by skill, A's finder)")

        # sam invites bea (B) and pat (a Mastodon-family peer) in one click each.
        pat = peer.add_actor("pat")
        await project_services.invite(a.fed, "sam", "roof", bea)
        await project_services.invite(a.fed, "sam", "roof", pat.id)
        note = await eventually(lambda: _async(_mention_for(peer, pat.id)), what="the invitation mention at the peer")
        assert a.group("roof") in note["content"] and "invited to join the project" in note["content"]
        assert any(d.activity.get("type") == "Invite" and d.activity.get("target") == pat.id for d in peer.inbox)

        # pat follows the (open) project from the Mastodon-like peer: a member who reads Notes only.
        follow = {"@context": AS2, "id": f"{pat.id}#follow-roof", "type": "Follow", "actor": pat.id,
                  "object": a.group("roof")}
        assert (await peer.deliver(pat, f"{a.base_url}/inbox", follow))[0] == 202
        await eventually(lambda: a.member_state("roof", pat.id), equals="accepted", what="pat following roof")

        # bea sees the invitation on B and accepts there: a Follow of the project, accepted by A.
        invite = await eventually(lambda: _invitation(b, bea), what="the invitation on B")
        assert invite.project_uri == a.group("roof") and invite.project_name == "Leaking roof"
        await project_services.answer_invite(b.fed, "bea", invite.id, True)
        await eventually(lambda: a.member_state("roof", bea), equals="accepted", what="bea in the team on A")
        await eventually(lambda: b.follow_state("bea", a.group("roof")), equals="accepted", what="B told")

        # sam gives bea a task; B shows it in her tasks; she moves it to doing, then done, from B.
        task = await project_services.add_task(a.fed, "sam", "roof", projects.TaskForm(
            title="Replace the gutter", assignees=(bea,), due="2027-02-01"))
        await project_services.add_task(a.fed, "sam", "roof", projects.TaskForm(title="Paint the ceiling"))
        copy = await eventually(lambda: _task(b, task.uri, state="open"), what="bea's task on B")
        readable = await eventually(lambda: _async(_task_note(peer, pat.id)), what="the task as text at the peer")
        assert f"Task: Replace the gutter, assigned to @bea@{b.domain}" in readable["content"]
        async with b.services.sessions() as session:
            assert [t.uri for t in await project_views.my_tasks(session, bea)] == [task.uri]
        await project_services.comment_task(b.fed, "bea", copy.id, "Parts **ordered**.")
        said = await eventually(lambda: a.scalar(select(TaskComment).where(TaskComment.author_uri == bea)),
                                what="bea's comment from B on A's task")
        assert "<strong>ordered</strong>" in said.content
        await project_services.move_task(b.fed, "bea", copy.id, "doing")
        await eventually(lambda: _task(a, task.uri, state="doing"), what="doing on A")
        assert await eventually(lambda: _progress(a, concern, "0 of 2 tasks done, 3 people"), what="progress")

        # Someone neither assignee nor lead (pat) may not move it: dropped, nothing changes.
        forged = {"@context": AS2, "id": f"{peer.base_url}/activities/update/1", "type": "Update", "actor": pat.id,
                  "object": {"id": task.uri, "type": "Ticket", "taskState": "done"}}
        status, text = await peer.deliver(pat, f"{a.base_url}/inbox", forged)
        assert status == 202, text
        await project_services.move_task(b.fed, "bea", copy.id, "done")
        await eventually(lambda: _task(a, task.uri, state="done", done_by_uri=bea), what="done on A, by bea")
        await eventually(lambda: _task(b, task.uri, state="done"), what="done on B (A's Update)")
        assert await eventually(lambda: _progress(a, concern, "1 of 2 tasks done, 3 people"), what="progress")
        async with a.services.sessions() as session:
            roof = await local.find_group(session, "roof")
            done = await project_views.completed_tasks(session, group_id=roof.id)
        assert [(d.person_uri, d.title) for d in done] == [(bea, "Replace the gutter")]
        # The Mastodon-like member reads the move to done as text too.
        said_done = await eventually(lambda: _async(_task_note(peer, pat.id, "Task done: ")), what="done as text")
        assert f"Task done: Replace the gutter, by @bea@{b.domain}" in said_done["content"]
        assert await b.scalar(select(Notification.object_uri).where(Notification.kind == "task_assigned")) == task.uri

        # sam assigns bea the other task later (Update{Ticket}), then deletes it (Delete{Tombstone}): B follows.
        paint = await a.scalar(select(ProjectTask).where(ProjectTask.title == "Paint the ceiling"))
        await project_services.edit_task(a.fed, "sam", paint.id, projects.TaskForm(
            title="Paint the ceiling white", assignees=(bea,)))
        await eventually(lambda: _assigned(b, bea, "Paint the ceiling white"), what="the edited task in bea's on B")
        assert await b.scalar(select(Notification.id).where(Notification.object_uri == paint.uri)) is not None
        await project_services.delete_task(a.fed, "sam", paint.id)
        await eventually(lambda: _assigned(b, bea, None), what="the deleted task gone from B")

        # sam closes the project: A's concern is done, with the outcome as its official response.
        await project_services.close_project(a.fed, "sam", "roof", "Gutter replaced; hall B is dry.")
        row = await a.post(concern)
        assert row is not None and row.status == "done"
        response = await a.scalar(select(Object).where(Object.context_uri == concern, Object.official.is_(True)))
        assert response is not None and "hall B is dry" in response.content
    no_tracebacks(tmp_path)


async def _assigned(node: RunningNode, person: str, title: str | None) -> bool:
    """Whether the person's tasks on ``node`` other than done ones are just ``title`` (None: none)."""
    async with node.services.sessions() as session:
        titles = [t.title for t in await project_views.my_tasks(session, person) if t.state != "done"]
    return titles == ([title] if title else [])


def _task_note(peer: Peer, account: str, start: str = "Task: ") -> dict[str, Any] | None:
    """The Note a Mastodon-family member shows for a task (the Ticket itself it would drop)."""
    for delivery in peer.inbox:
        obj = delivery.activity.get("object")
        if isinstance(obj, dict) and obj.get("type") == "Note" and start in str(obj.get("content")) \
                and mastodon_shows(obj, account):
            return obj
    return None


async def _async(value: Any) -> Any:
    return value
