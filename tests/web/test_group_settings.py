"""A group's settings form (/groups/<name>/settings): owners and admins change title, description, rules,
avatar and banner, kinds, who starts threads and visibility; bad input changes nothing and says why in
words; other people get the branded 403. The actor document carries the change, and an ``Update{Group}``
is queued (its delivery to a real node: tests/multinode/test_group_settings.py)."""

from __future__ import annotations

import json

from sqlalchemy import select

from actors import local
from madeopen.app import Services
from storage.models import Activity, LocalActor
from tests.support.web_ui import UI, create_person, png, second_ui, ui  # noqa: F401  (fixtures)
from tests.web.test_groups_ui import _text

SETTINGS = {"title": "Garden Club", "description": "We grow **beans**.", "rules": "Be kind.", "kind": "project",
            "default_kind": "idea", "thread_starters": "members", "visibility": "public"}


async def _garden(services: Services, *, private: bool = False) -> None:
    await create_person(services, "ada")
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", private=private,
                                                         title="Garden"))


async def _group(services: Services) -> LocalActor:
    async with services.sessions() as session:
        group = await session.scalar(select(LocalActor).where(LocalActor.username == "garden"))
    assert group is not None and group.group is not None
    return group


async def _updates(services: Services) -> list[dict]:
    async with services.sessions() as session:
        rows = await session.scalars(select(Activity.document).where(Activity.type == "Update"))
        return [document if isinstance(document, dict) else json.loads(document) for document in rows]


async def test_owner_changes_every_setting(ui: UI, services: Services) -> None:
    await _garden(services)
    await ui.log_in("ada")
    form = await ui.page("/groups/garden/settings")
    assert 'value="Garden"' in form and 'name="thread_starters"' in form and 'name="banner"' in form
    response = await ui.post("/groups/garden/settings", SETTINGS, form_page="/groups/garden/settings",
                             files={"avatar": ("a.png", png(), "image/png"),
                                    "banner": ("b.png", png(40, 10), "image/png")})
    assert response.status == 303 and response.headers["Location"] == "/groups/garden"
    group = await _group(services)
    settings = group.group
    assert settings is not None
    assert (group.display_name, settings.kind, settings.default_kind) == ("Garden Club", "project", "idea")
    assert settings.members_start_threads and not settings.posting_restricted_to_mods
    assert "<strong>beans</strong>" in group.summary and settings.description_source == "We grow **beans**."
    assert group.avatar and settings.banner and (services.settings.data_dir / "media" / settings.banner).is_file()

    page = await ui.page("/groups/garden")
    assert "<h1>Garden Club</h1>" in page and "Members start threads" in _text(page)
    assert f'src="/media/{settings.banner}"' in page
    again = await ui.page("/groups/garden/settings")
    assert "We grow **beans**." in again and 'value="members" checked' in again

    fetched = await ui.client.get("/groups/garden", headers={"Accept": "application/activity+json"})
    document = json.loads(await fetched.text())
    assert document["name"] == "Garden Club" and document["image"]["url"].endswith(settings.banner)
    assert document["icon"]["url"].endswith(group.avatar)
    updates = await _updates(services)
    assert updates and updates[-1]["object"]["name"] == "Garden Club"


async def test_bad_input_changes_nothing_and_keeps_the_typed_text(ui: UI, services: Services) -> None:
    await _garden(services)
    await ui.log_in("ada")
    bad = {**SETTINGS, "title": "  ", "rules": "x" * 6000, "kind": "club", "thread_starters": "anyone"}
    response = await ui.post("/groups/garden/settings", bad, form_page="/groups/garden/settings",
                             files={"banner": ("b.png", b"<svg onload=alert(1)>", "image/png")})
    assert response.status == 400
    page = _text(await response.text())
    assert "Title: give the group a title" in page and "Rules: at most 5000 characters" in page
    assert "Kind of group: choose one of" in page and "Who may start threads: choose everyone" in page
    assert "Banner: not a supported image" in page
    assert "We grow **beans**." in await response.text()  # the typed description is kept
    group = await _group(services)
    assert group.display_name == "Garden" and group.group is not None and group.group.kind == "community"
    assert group.group.banner is None and not list((services.settings.data_dir / "media").glob("*"))
    assert await _updates(services) == []


async def test_members_and_moderators_get_the_branded_403(ui: UI, second_ui: UI, services: Services) -> None:
    await _garden(services)
    await create_person(services, "bob")
    await second_ui.log_in("bob")
    assert (await second_ui.post("/groups/garden/join", {}, form_page="/groups/garden")).status == 303
    await ui.log_in("ada")
    await ui.post("/groups/garden/roles", {"actor": "bob", "role": "moderator"}, form_page="/groups/garden/roles")
    assert "Only the owners and admins" in await second_ui.page("/groups/garden/settings", status=403)
    response = await second_ui.post("/groups/garden/settings", SETTINGS, form_page="/groups/garden")
    assert response.status == 403
    assert (await _group(services)).display_name == "Garden"
    await ui.post("/groups/garden/roles", {"actor": "bob", "role": "admin"}, form_page="/groups/garden/roles")
    assert (await second_ui.post("/groups/garden/settings", SETTINGS, form_page="/groups/garden")).status == 303
    assert (await _group(services)).display_name == "Garden Club"


async def test_making_a_private_group_public_must_be_confirmed(ui: UI, services: Services) -> None:
    await _garden(services, private=True)
    await ui.log_in("ada")
    response = await ui.post("/groups/garden/settings", SETTINGS, form_page="/groups/garden/settings")
    assert response.status == 400
    assert "become readable by everyone" in _text(await response.text())
    assert (await _group(services)).group.visibility == "private"  # type: ignore[union-attr]
    confirmed = {**SETTINGS, "confirm_public": "on"}
    assert (await ui.post("/groups/garden/settings", confirmed, form_page="/groups/garden/settings")).status == 303
    assert (await _group(services)).group.visibility == "public"  # type: ignore[union-attr]


async def test_who_starts_threads(ui: UI, second_ui: UI, services: Services) -> None:
    """members: a non-member may not start a thread but may reply; team: a member may only reply."""
    await _garden(services)
    await create_person(services, "bob")
    await ui.log_in("ada")
    await ui.post("/groups/garden/settings", SETTINGS, form_page="/groups/garden/settings")
    await second_ui.log_in("bob")
    assert 'href="/groups/garden/new"' not in await second_ui.page("/groups/garden")
    started = await ui.post("/groups/garden/new", {"title": "Beans", "body": "When to sow?", "kind": "discussion"},
                            form_page="/groups/garden/new")
    assert started.status == 303
    thread = started.headers["Location"]
    assert 'name="body"' in await second_ui.page(thread)  # replies stay open to anyone in a public group
    await second_ui.post("/groups/garden/join", {}, form_page="/groups/garden")
    assert 'href="/groups/garden/new"' in await second_ui.page("/groups/garden")
    await ui.post("/groups/garden/settings", {**SETTINGS, "thread_starters": "team"},
                  form_page="/groups/garden/settings")
    assert 'href="/groups/garden/new"' not in await second_ui.page("/groups/garden")
    refused = await second_ui.post("/groups/garden/new", {"title": "Peas", "body": "Mine?", "kind": "discussion"},
                                   form_page="/groups/garden")
    assert refused.status == 403
    assert 'name="body"' in await second_ui.page(thread)
