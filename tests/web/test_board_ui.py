"""The board as a browser uses it (without one): posting an idea or a question from the composer, the
team's status form with its official response (403 for others, 400 for a bad status, nothing changed),
the official response and history on the thread, accepting an answer, following, the board page's
filters, sorts, counts, search and page numbers, and the moderators' default kind (issue #12)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from actors import local
from madeopen.app import Services
from storage.models import Notification, Object, StatusChange
from tests.support.web_ui import UI, second_ui, shop_with_team, ui  # noqa: F401  (fixtures)

BASE = "https://node.test"


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def _post(ui: UI, title: str, kind: str, body: str = "Please.") -> str:
    response = await ui.post("/groups/shop/new", {"title": title, "body": body, "kind": kind})
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def _row(services: Services, path: str) -> Object:
    async with services.sessions() as session:
        found = await session.scalar(select(Object).where(Object.uri == BASE + path.split("#")[0]))
    assert found is not None
    return found


async def test_idea_status_response_and_board(ui: UI, second_ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("erin")
    form = await ui.page("/groups/shop/new")
    assert 'name="kind" id="kind" value="discussion" checked' in form  # the group's default
    response = await ui.post("/groups/shop/new", {"title": "x", "body": "y", "kind": "wish"})
    assert response.status == 400 and "unknown kind" in await response.text()
    idea = await _post(ui, "Dark mode", "idea")
    await _post(ui, "Export to CSV", "idea")
    question = await _post(ui, "Where is the manual?", "question")
    page = _text(await ui.page(idea))
    assert "Idea · Status: Open" in page and "Set the status" not in page
    idea_row = await _row(services, idea)

    # a customer may not set a status: 403, nothing changes
    response = await ui.post(f"/posts/{idea_row.id}/status", {"status": "done", "response": "Done!"})
    assert response.status == 403
    assert (await _row(services, idea)).status == "open"

    await second_ui.log_in("sam")
    page = await second_ui.page(idea)
    assert "Set the status (team)" in page
    response = await second_ui.post(f"/posts/{idea_row.id}/status", {"status": "shipped", "response": "Hm"})
    assert response.status == 400 and "unknown status" in await response.text()
    response = await second_ui.post(f"/posts/{idea_row.id}/status", {"status": "planned", "response": ""})
    assert response.status == 400 and 'id="response-error"' in await response.text()
    async with services.sessions() as session:
        assert list(await session.scalars(select(StatusChange))) == []
    response = await second_ui.post(f"/posts/{idea_row.id}/status",  # the composer's Preview: nothing set
                                    {"status": "planned", "response": "Coming in *May*.", "preview": "1"})
    page = await response.text()
    assert response.status == 200 and 'id="response-preview"' in page and "<em>May</em>" in page
    assert "Coming in *May*.</textarea>" in page and (await _row(services, idea)).status == "open"
    response = await second_ui.post(f"/posts/{idea_row.id}/status",
                                    {"status": "planned", "response": "Coming in *May*."})
    assert response.status == 303

    page = await ui.page(idea)
    text = _text(page)
    assert "Status: Planned" in text and "Official response by sam" in text
    assert "<em>May</em>" in page and "Status history (1 change)" in text
    notes = _text(await ui.page("/notifications"))
    assert "sam set the status of Dark mode" in notes and "Status: Planned" in notes

    # a question: the asker accepts a reply
    question_row = await _row(services, question)
    response = await second_ui.post(f"/posts/{question_row.id}/reply", {"body": "On page 3."})
    assert response.status == 303
    async with services.sessions() as session:
        answer = await session.scalar(select(Object).where(Object.in_reply_to_uri == question_row.uri))
    assert answer is not None
    response = await ui.post(f"/posts/{question_row.id}/accept", {"answer": str(idea_row.id)})
    assert response.status == 400
    response = await ui.post(f"/posts/{question_row.id}/accept", {"answer": str(answer.id)})
    assert response.status == 303
    text = _text(await ui.page(question))
    assert "Accepted answer by sam" in text and "Status: Solved" in text
    async with services.sessions() as session:
        kinds = set(await session.scalars(select(Notification.kind)))
    assert "answer" in kinds

    # the board
    board = await ui.page("/groups/shop/board")
    text = _text(board)
    assert "Board of The Shop" in text and "3 threads" in text
    assert "Ideas 2" in text and "Questions 1" in text and "Planned 1" in text and "Solved 1" in text
    ideas = _text(await ui.page("/groups/shop/board?kind=idea&sort=new"))
    assert ideas.index("Export to CSV") < ideas.index("Dark mode") and "Where is the manual?" not in ideas
    planned = _text(await ui.page("/groups/shop/board?status=planned"))
    assert "Dark mode" in planned and "Export to CSV" not in planned
    assert "Export to CSV" in _text(await ui.page("/groups/shop/board?q=csv"))
    assert "Dark mode" not in _text(await ui.page("/groups/shop/board?q=csv"))
    for bad in ("kind=wish", "status=shipped", "sort=best", "page=0"):
        assert (await ui.get(f"/groups/shop/board?{bad}")).status == 400
    assert 'href="/groups/shop/board"' in await ui.page("/groups/shop")


async def test_page_numbers_and_default_kind(ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("erin")
    first = await _post(ui, "Idea 0", "idea")
    row = await _row(services, first)
    async with services.sessions.begin() as session:  # 64 more ideas, as rows (the form is tested above)
        for number in range(1, 65):
            session.add(Object(uri=f"{row.uri}-{number}", local=True, type="Page", author_uri=row.author_uri,
                               group_id=row.group_id, audience_uri=row.audience_uri, name=f"Idea {number}",
                               content="<p>x</p>", kind="idea", status="open", document={}))
    page = await ui.page("/groups/shop/board?sort=new")
    assert "page 1 of 3" in _text(page) and 'href="/groups/shop/board?sort=new&amp;page=3"' in page
    page = _text(await ui.page("/groups/shop/board?sort=new&page=3"))
    assert "Idea 0" in page and "page 3 of 3" in page

    response = await ui.post("/groups/shop/default-kind", {"kind": "idea"})
    assert response.status == 403  # not a moderator
    admin = ui
    await admin.log_in("ada")
    assert (await admin.post("/groups/shop/default-kind", {"kind": "wish"})).status == 400
    assert (await admin.post("/groups/shop/default-kind", {"kind": "idea"})).status == 303
    form = await admin.page("/groups/shop/new")
    assert 'name="kind" id="kind-idea" value="idea" checked' in form


async def test_board_json_private_groups_and_a_remote_groups_board(ui: UI, services: Services) -> None:  # noqa: F811
    from storage.models import RemoteActor, utcnow

    await shop_with_team(services)
    await ui.log_in("erin")
    idea = await _post(ui, "Dark mode", "idea")
    response = await ui.client.get("/api/groups/shop/board?kind=idea", headers={"Accept": "application/json"})
    assert response.status == 200
    data = await response.json()
    assert data["total"] == 1 and data["kinds"]["idea"] == 1 and data["statuses"] == {"open": 1}
    assert [(t["title"], t["kind"], t["status"], t["path"]) for t in data["threads"]] == [
        ("Dark mode", "idea", "open", idea)]
    response = await ui.client.get("/api/groups/shop/board?status=shipped", headers={"Accept": "application/json"})
    assert response.status == 400 and "unknown status" in (await response.json())["error"]

    async with services.sessions.begin() as session:  # a private group: its board is for members
        await local.create_group(session, local.NewGroup(username="staffroom", owner="ada", private=True))
        group = RemoteActor(uri="https://other.example/groups/gadgets", actor_type="Group", username="gadgets",
                            domain="other.example", display_name="Gadgets", summary="",
                            inbox="https://other.example/inbox", document={}, fetched_at=utcnow())
        session.add(group)
        session.add(Object(uri="https://other.example/post/1", local=False, type="Page",
                           author_uri="https://other.example/users/zed", audience_uri=group.uri, name="Solar charger",
                           content="<p>x</p>", kind="idea", status="planned", document={}))
    assert (await ui.get("/groups/staffroom/board")).status == 404
    page = _text(await ui.page("/remote-group/board?id=https://other.example/groups/gadgets"))
    assert "Board of Gadgets" in page and "Solar charger" in page and "Planned 1" in page
    assert "Solar charger" not in _text(await ui.page(
        "/remote-group/board?id=https://other.example/groups/gadgets&status=open"))
