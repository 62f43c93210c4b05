"""Group pages as a browser uses them (without one): the directory and its search, creating a group,
the group page, joining and leaving, private groups' requests, and the moderators' and owners' pages.
Permissions: a person without the right gets the branded 403 page and nothing changes; a form with a
bad field comes back with the message next to it and the typed values kept; no form works without its
CSRF token.
"""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from actors import local
from madeopen.app import Services
from storage.models import Group, LocalActor, Membership
from tests.support.web_ui import (  # noqa: F401  (fixtures)
    UI, create_person, second_ui, ui,
)


async def _group(services: Services, name: str, *, owner: str, private: bool = False, title: str = "",
                 summary: str = "") -> None:
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username=name, owner=owner, private=private, title=title,
                                                         summary=summary))


async def _membership(services: Services, group: str, person: str) -> tuple[str, str] | None:
    async with services.sessions() as session:
        row = (await session.execute(
            select(Membership.state, Membership.role)
            .join(LocalActor, LocalActor.id == Membership.local_actor_id)
            .where(LocalActor.username == person,
                   Membership.group_id == select(LocalActor.id).where(LocalActor.username == group).scalar_subquery())
        )).first()
    return (row[0], row[1]) if row else None


async def _groups(services: Services) -> list[str]:
    async with services.sessions() as session:
        return sorted(await session.scalars(select(LocalActor.username).where(LocalActor.actor_type == "group")))


def _text(page: str) -> str:
    """The page's visible words, tags stripped and whitespace folded (for phrase assertions)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


GOOD = {"name": "garden", "title": "Community Garden", "kind": "community", "visibility": "public",
        "description": "We grow **tomatoes** together.", "rules": "1. Be kind\n2. Share seeds"}


# --- creating a group ------------------------------------------------------------------------------------


async def test_create_group_and_its_page(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    await ui.log_in("ada")
    form = await ui.page("/new-group")
    assert 'name="csrf_token"' in form and '<label for="name">Name</label>' in form

    response = await ui.post("/new-group", GOOD)
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    page = await ui.page("/groups/garden")
    text = _text(page)
    assert "<h1>Community Garden</h1>" in page and "@garden@node.test" in text
    assert "Your group is ready" in text  # the notice after the redirect
    assert "<strong>tomatoes</strong>" in page  # Markdown rendered
    assert "<li>Be kind</li>" in page  # the rules, rendered
    assert "Community Public group 1 member" in text
    assert re.search(r'<a href="/users/ada">ada</a>\s*<span class="badge badge--team">Owner</span>', page)
    assert "You are a member (owner)" in text
    assert 'href="/groups/garden/new"' in page and 'href="/groups/garden/moderation"' in page
    assert await _membership(services, "garden", "ada") == ("accepted", "owner")


async def test_create_group_errors_keep_values_and_change_nothing(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    await _group(services, "taken", owner="ada")
    await ui.log_in("ada")
    bad = {**GOOD, "name": "No Spaces!", "kind": "club", "title": "x" * 201, "description": "d" * 5001}
    response = await ui.post("/new-group", bad)
    page = await response.text()
    assert response.status == 400
    assert page.count('class="field-error"') == 4
    assert 'id="name-error"' in page and "letters a-z" in page
    assert 'id="kind-error"' in page and 'id="title-error"' in page and 'id="description-error"' in page
    assert 'value="No Spaces!"' in page and "We grow" not in page  # typed values kept (description was d*5001)
    assert "ddddd" in page
    response = await ui.post("/new-group", {**GOOD, "name": "Taken"})
    assert response.status == 400 and "already taken" in await response.text()
    response = await ui.post("/new-group", {**GOOD, "visibility": "secret"})
    assert response.status == 400 and 'id="visibility-error"' in await response.text()
    assert await _groups(services) == ["taken"]


async def test_creating_a_group_needs_login_and_csrf(ui: UI, services: Services) -> None:
    response = await ui.get("/new-group")
    assert response.status == 303 and response.headers["Location"].startswith("/login?next=/new-group")
    response = await ui.post("/new-group", GOOD)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await create_person(services, "ada")
    await ui.log_in("ada")
    response = await ui.post("/new-group", GOOD, with_token=False)
    assert response.status == 403 and "did not come from this site" in await response.text()
    response = await ui.post("/new-group", GOOD, token="forged")
    assert response.status == 403
    assert await _groups(services) == []


# --- the directory ---------------------------------------------------------------------------------------


async def test_directory_lists_public_groups_and_my_private_ones(ui: UI, second_ui: UI, services: Services) -> None:
    for name in ("ada", "bea"):
        await create_person(services, name)
    await _group(services, "garden", owner="ada", title="Community Garden", summary="<p>Growing tomatoes</p>")
    await _group(services, "bakery", owner="ada", title="The Bakery", summary="<p>Bread at dawn</p>")
    await _group(services, "board", owner="ada", title="Garden board", private=True)

    anonymous = _text(await second_ui.page("/groups"))
    assert "Community Garden" in anonymous and "The Bakery" in anonymous and "Garden board" not in anonymous
    await second_ui.log_in("bea")
    assert "Garden board" not in _text(await second_ui.page("/groups?q=garden"))
    await ui.log_in("ada")  # a member of the private group
    mine = _text(await ui.page("/groups?q=garden"))
    assert "Community Garden" in mine and "Garden board" in mine and "The Bakery" not in mine
    assert "private · 1 member · you are a member" in mine

    found = _text(await second_ui.page("/groups?q=TOMATO"))  # the description, any case
    assert "Community Garden" in found and "The Bakery" not in found
    assert "No group matches these words" in _text(await second_ui.page("/groups?q=%25"))  # % is no wildcard
    assert "No group matches" in _text(await second_ui.page("/groups?q=bread+tomatoes"))  # every word
    response = await second_ui.get("/groups?page=0")
    assert response.status == 400 and "page must be" in await response.text()


async def test_directory_asks_visitors_to_log_in_for_remote_addresses(ui: UI) -> None:
    page = _text(await ui.page("/groups?q=!garden@elsewhere.example"))
    assert "Log in to look up groups on other servers" in page


# --- joining -------------------------------------------------------------------------------------------


async def test_join_and_leave_a_public_group(ui: UI, services: Services) -> None:
    for name in ("ada", "bea"):
        await create_person(services, name)
    await _group(services, "garden", owner="ada")
    page = _text(await ui.page("/groups/garden"))
    assert "Log in to join this group" in page
    # Issue 16: a visitor from elsewhere is told how to join from their own server.
    assert "!garden@node.test" in page and "@garden@node.test" in page and "Join from my server" in page
    form = await ui.page("/groups/garden")
    assert 'action="/remote-follow"' in form and 'value="https://node.test/groups/garden"' in form
    await ui.log_in("bea")
    assert "Join from my server" not in _text(await ui.page("/groups/garden"))
    response = await ui.post("/groups/garden/join", {})
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    page = _text(await ui.page("/groups/garden"))
    assert "You are now a member" in page and "You are a member" in page and "2 members" in page
    assert await _membership(services, "garden", "bea") == ("accepted", "member")
    response = await ui.post("/groups/garden/leave", {})
    assert response.status == 303
    assert "You have left this group" in _text(await ui.page("/groups/garden"))
    assert await _membership(services, "garden", "bea") is None


async def test_private_group_request_approve_and_reject(ui: UI, second_ui: UI, services: Services) -> None:
    for name in ("ada", "bea", "cy"):
        await create_person(services, name)
    await _group(services, "board", owner="ada", private=True, title="The Board")
    await second_ui.log_in("bea")
    page = _text(await second_ui.page("/groups/board"))
    assert "Request to join" in page and "its threads are for its members" in page
    await second_ui.post("/groups/board/join", {})
    page = _text(await second_ui.page("/groups/board"))
    assert "Request pending" in page and "Withdraw my request" in page
    assert await _membership(services, "board", "bea") == ("pending", "member")

    await ui.log_in("ada")
    assert "Moderation (1 request to join)" in _text(await ui.page("/groups/board"))
    moderation = await ui.page("/groups/board/moderation")
    assert "Requests to join (1)" in _text(moderation) and "@bea@node.test" in moderation
    response = await ui.post("/groups/board/requests", {"actor": "https://node.test/users/bea", "decision": "approve"})
    assert response.status == 303
    assert "Request approved" in _text(await ui.page("/groups/board/moderation"))
    assert await _membership(services, "board", "bea") == ("accepted", "member")
    assert "You are a member" in _text(await second_ui.page("/groups/board"))

    async with services.sessions.begin() as session:
        cy = await local.find_person(session, "cy")
        board = await local.find_group(session, "board")
        session.add(Membership(group_id=board.id, local_actor_id=cy.id, role="member", state="pending"))
    await ui.post("/groups/board/requests", {"actor": "cy", "decision": "reject"})
    assert await _membership(services, "board", "cy") is None
    response = await ui.post("/groups/board/requests", {"actor": "cy", "decision": "maybe"})
    assert response.status == 400


# --- moderators and owners -------------------------------------------------------------------------------


async def test_non_moderators_get_the_branded_403_and_change_nothing(ui: UI, services: Services) -> None:
    for name in ("ada", "bea", "cy"):
        await create_person(services, name)
    await _group(services, "garden", owner="ada")
    await ui.log_in("bea")
    await ui.post("/groups/garden/join", {})
    for path in ("/groups/garden/moderation", "/groups/garden/roles"):
        response = await ui.get(path)
        page = await response.text()
        assert response.status == 403, path
        assert "<h1>Forbidden</h1>" in page and "Only the" in page and "Traceback" not in page
    response = await ui.post("/groups/garden/ban", {"actor": "cy"})
    assert response.status == 403
    response = await ui.post("/groups/garden/roles", {"actor": "bea", "role": "owner"})
    assert response.status == 403
    assert await _membership(services, "garden", "cy") is None
    assert await _membership(services, "garden", "bea") == ("accepted", "member")
    response = await ui.post("/groups/garden/ban", {"actor": "cy"}, with_token=False)
    assert response.status == 403


async def test_ban_form_errors_and_ban(ui: UI, second_ui: UI, services: Services) -> None:
    for name in ("ada", "bea"):
        await create_person(services, name)
    await _group(services, "garden", owner="ada")
    await ui.log_in("ada")
    response = await ui.post("/groups/garden/ban", {"actor": "  ", "reason": "spam"})
    page = await response.text()
    assert response.status == 400 and 'id="actor-error"' in page and 'value="spam"' in page
    response = await ui.post("/groups/garden/ban", {"actor": "nobody_here", "reason": "spam"})
    assert response.status == 404 and 'id="actor-error"' in await response.text()
    response = await ui.post("/groups/garden/ban", {"actor": "ada"})
    assert response.status == 403 and "owns garden" in await response.text()
    assert await _membership(services, "garden", "bea") is None

    response = await ui.post("/groups/garden/ban", {"actor": "bea", "reason": "spam"})
    assert response.status == 303
    page = _text(await ui.page("/groups/garden/moderation"))
    assert "bea is banned" in page and "Banned (1)" in page
    assert await _membership(services, "garden", "bea") == ("banned", "member")
    await second_ui.log_in("bea")
    assert "You are banned from this group" in _text(await second_ui.page("/groups/garden"))
    assert (await second_ui.post("/groups/garden/join", {})).status == 403

    await ui.post("/groups/garden/unban", {"actor": "https://node.test/users/bea"})
    assert await _membership(services, "garden", "bea") is None


async def test_owner_sets_roles_and_badges_follow(ui: UI, second_ui: UI, services: Services) -> None:
    for name in ("ada", "bea"):
        await create_person(services, name)
    await _group(services, "garden", owner="ada")
    await second_ui.log_in("bea")
    await second_ui.post("/groups/garden/join", {})
    await ui.log_in("ada")
    roles = await ui.page("/groups/garden/roles")
    assert '<label for="role-2">Role of bea</label>' in roles
    response = await ui.post("/groups/garden/roles", {"actor": "https://node.test/users/bea", "role": "moderator"})
    assert response.status == 303
    assert await _membership(services, "garden", "bea") == ("accepted", "moderator")
    assert re.search(r'>bea</a>\s*<span class="badge badge--team">Moderator</span>', await ui.page("/groups/garden"))
    assert (await second_ui.get("/groups/garden/moderation")).status == 200  # a moderator now
    assert (await second_ui.get("/groups/garden/roles")).status == 403  # but not an owner

    response = await ui.post("/groups/garden/roles", {"actor": "https://node.test/users/bea", "role": "king"})
    assert response.status == 400 and "unknown role" in await response.text()
    response = await ui.post("/groups/garden/roles", {"actor": "https://node.test/users/ada", "role": "member"})
    text = _text(await response.text())
    # Issue 16: said in words on the roles form, without the person's raw id.
    assert response.status == 409 and "last owner" in text and "give another member the Owner role" in text
    assert "https://node.test/users/ada" not in text
    assert await _membership(services, "garden", "ada") == ("accepted", "owner")


async def test_last_owner_leaving_is_told_what_to_do_in_words(ui: UI, services: Services) -> None:
    await create_person(services, "ada")
    await _group(services, "garden", owner="ada")
    await ui.log_in("ada")
    response = await ui.post("/groups/garden/leave", {})
    # Issue 16: this used to be a bare "Conflict" page.
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    page = _text(await ui.page("/groups/garden"))
    assert "You are this group's last owner, so you cannot leave yet" in page and "Owner role" in page
    assert "Conflict" not in page
    assert await _membership(services, "garden", "ada") == ("accepted", "owner")


async def test_unknown_group_is_a_branded_404(ui: UI) -> None:
    response = await ui.get("/groups/nothing_here")
    assert response.status == 404 and "<h1>Not found</h1>" in await response.text()
    response = await ui.get("/remote-group?id=https://elsewhere.example/c/x")
    assert response.status == 404 and "<h1>Not found</h1>" in await response.text()


async def test_group_rules_column_defaults_empty(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="plain"))
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Group).where(Group.rules == "")) == 1


async def test_private_group_shows_its_staff_to_members_only(ui: UI, second_ui: UI, services: Services) -> None:
    for name in ("ada", "bea", "cy"):
        await create_person(services, name)
    await _group(services, "board", owner="ada", private=True)
    async with services.sessions.begin() as session:
        board = await local.find_group(session, "board")
        bea = await local.find_person(session, "bea")
        session.add(Membership(group_id=board.id, local_actor_id=bea.id, role="staff", state="accepted"))
    await ui.log_in("cy")  # not a member: the moderators are public (the AS2 collection lists them), staff not
    page = await ui.page("/groups/board")
    assert re.search(r">ada</a>\s*<span class=\"badge badge--team\">Owner</span>", page)
    assert ">bea</a>" not in page
    await second_ui.log_in("ada")
    assert re.search(r">bea</a>\s*<span class=\"badge badge--team\">Staff</span>", await second_ui.page("/groups/board"))
