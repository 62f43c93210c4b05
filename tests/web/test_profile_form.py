"""The profile form's people-finder part (skills, soft skills, interests, headline, place, links,
discoverable) and the moderators' "what this group is looking for" form, as a browser posts them."""

from __future__ import annotations

import html
import json
from typing import Any

from sqlalchemy import select

from actors import local
from madeopen.app import Services
from people import profiles
from people.profiles import ProfileView
from storage.models import Activity, Membership
from tests.people.conftest import BERLIN
from tests.support.web_ui import UI, create_person, png, ui  # noqa: F401  (fixture)

AS2 = "application/activity+json"
FULL_FORM = {
    "display_name": "Ann Example", "bio": "Hello", "headline": "Carpenter and coder",
    "skills": "Carpentry, Python,  python", "soft_skills": "Mediation", "interests": "Urban gardening; Cycling",
    "location_name": "Berlin", "latitude": str(BERLIN[0]), "longitude": str(BERLIN[1]),
    "location_precision": "city", "links": "Portfolio | https://ann.example\nhttps://code.example/ann",
    "discoverable_shown": "1", "discoverable": "on",
}


async def _own(services: Services, username: str) -> ProfileView:
    async with services.sessions() as session:
        person = await local.find_person(session, username)
        return await profiles.own_profile(session, services.urls, person.id)


async def _updates(services: Services) -> list[dict[str, Any]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(Activity).where(Activity.type == "Update").order_by(Activity.id))
        return [row.document for row in rows]


async def _save(ui: UI, fields: dict[str, str], **kwargs: Any) -> tuple[int, str]:
    response = await ui.post("/settings/profile", fields, form_page="/settings/profile", **kwargs)
    return response.status, await response.text()


async def test_the_form_saves_the_profile_and_peers_hear_of_it(ui: UI, services: Services) -> None:
    await create_person(services, "ann")
    await ui.log_in("ann")
    status, body = await _save(ui, FULL_FORM)
    assert status == 303, body
    saved = await _own(services, "ann")
    assert saved.skills == ["carpentry", "python"] and saved.soft_skills == ["mediation"]
    assert saved.interests == ["urban gardening", "cycling"] and saved.headline == "Carpenter and coder"
    assert (saved.latitude, saved.longitude, saved.location_precision) == (BERLIN[0], BERLIN[1], "city")
    assert saved.links == [{"label": "Portfolio", "url": "https://ann.example"},
                           {"label": "code.example", "url": "https://code.example/ann"}]
    assert saved.discoverable

    # The form shows it back as typed lists, one choice of precision ticked.
    page = html.unescape(await ui.page("/settings/profile"))
    assert "carpentry, python" in page and "urban gardening, cycling" in page
    assert 'value="city" checked' in page and "Portfolio | https://ann.example" in page

    # One Update, carrying the new fields in forms other servers show.
    [update] = await _updates(services)
    actor = update["object"]
    assert actor["name"] == "Ann Example" and actor["id"] == "https://node.test/users/ann"
    assert {"type": "Hashtag", "name": "#carpentry", "href": "https://node.test/tags/carpentry"} in actor["tag"]
    assert any(field.get("name") == "Skills" for field in actor["attachment"])
    assert actor["location"]["type"] == "Place" and actor["location"]["latitude"] == round(BERLIN[0], 1)

    finder = "/api/people?skill=carpentry"
    found = await (await ui.client.get(finder, headers={"Accept": "application/json"})).json()
    assert [person["handle"] for person in found["people"]] == ["ann@node.test"]

    # Unticking "discoverable" (the box sends nothing) takes her out of the finder.
    unticked = {name: value for name, value in FULL_FORM.items() if name != "discoverable"}
    assert (await _save(ui, unticked))[0] == 303
    assert not (await _own(services, "ann")).discoverable
    found = await (await ui.client.get(finder, headers={"Accept": "application/json"})).json()
    assert found["people"] == []


async def test_a_display_name_edit_alone_is_announced(ui: UI, services: Services) -> None:
    """A form without the people-finder fields (an older page, a script) changes only what it sent."""
    await create_person(services, "bob")
    await ui.log_in("bob")
    assert (await _save(ui, FULL_FORM))[0] == 303
    before = await _own(services, "bob")
    status, _ = await _save(ui, {"display_name": "Bob Renamed", "bio": "New bio"})
    assert status == 303
    assert await _own(services, "bob") == before  # skills, place, links and discoverable kept
    updates = await _updates(services)
    assert len(updates) == 2 and updates[-1]["object"]["name"] == "Bob Renamed"
    assert "New bio" in updates[-1]["object"]["summary"]


async def test_every_bad_field_is_reported_and_nothing_changes(ui: UI, services: Services) -> None:
    await create_person(services, "cat")
    await ui.log_in("cat")
    assert (await _save(ui, FULL_FORM))[0] == 303
    before = await _own(services, "cat")
    bad = {
        **FULL_FORM, "display_name": "n" * 101, "skills": ", ".join(f"s{i}" for i in range(31)),
        "interests": "x" * 41, "latitude": "95", "location_precision": "street",
        "links": "javascript:alert(1)", "headline": "h" * 151,
    }
    status, body = await _save(ui, bad, files={"avatar": ("me.png", png(), "image/png")})
    assert status == 400
    page = html.unescape(body)
    for field in ("display_name", "skills", "interests", "latitude", "location_precision", "links", "headline"):
        assert f'href="#{field}"' in page, field  # each error linked from the summary to its field
    assert "javascript:alert(1)" in page and "x" * 41 in page  # the typed values are kept for correcting
    assert await _own(services, "cat") == before
    async with services.sessions() as session:
        cat = await local.find_person(session, "cat")
        assert cat.display_name == "Ann Example" and cat.avatar is None  # no avatar written for a failed form
    assert list((services.settings.data_dir / "media").glob("*")) == []
    assert len(await _updates(services)) == 1

    # Half a pair of coordinates is refused; both empty clears them and keeps the place name.
    status, body = await _save(ui, {**FULL_FORM, "longitude": ""})
    assert status == 400 and "both latitude and longitude" in html.unescape(body)
    assert (await _save(ui, {**FULL_FORM, "latitude": "", "longitude": ""}))[0] == 303
    cleared = await _own(services, "cat")
    assert cleared.latitude is None and cleared.location_name == "Berlin"


async def test_a_hidden_place_is_kept_for_its_owner_only(ui: UI, services: Services) -> None:
    await create_person(services, "dot")
    await ui.log_in("dot")
    assert (await _save(ui, {**FULL_FORM, "location_name": "Lower Hamlet", "location_precision": "hidden"}))[0] == 303
    assert "Lower Hamlet" in await ui.page("/settings/profile")
    for accept in ("text/html", AS2, "application/json"):
        path = "/api/people?q=carpentry" if accept == "application/json" else "/users/dot"
        response = await ui.client.get(path, headers={"Accept": accept})
        text = await response.text()
        assert response.status == 200 and "Lower Hamlet" not in text and "52.5" not in text, accept
    [update] = await _updates(services)
    assert "location" not in update["object"] and "Lower Hamlet" not in json.dumps(update)


async def test_moderators_say_what_the_group_is_looking_for(ui: UI, services: Services) -> None:
    await create_person(services, "ann")
    await create_person(services, "bob")
    async with services.sessions.begin() as session:
        makers = await local.create_group(session, local.NewGroup("makers", owner="ann", title="Makers"))
        bob = await local.find_person(session, "bob")
        session.add(Membership(group_id=makers.id, local_actor_id=bob.id, role="member"))
    await ui.log_in("bob")
    response = await ui.post("/groups/makers/needs", {"skills_wanted": "carpentry"}, form_page="/groups")
    assert response.status == 403
    await ui.client.post("/logout", data={"csrf_token": await ui.token("/settings/profile")})

    await ui.log_in("ann")
    assert (await _save(ui, FULL_FORM))[0] == 303
    response = await ui.post("/groups/makers/needs", {"skills_wanted": "<b>bold</b>"}, form_page="/groups")
    body = html.unescape(await response.text())
    assert response.status == 400 and 'href="#skills_wanted"' in body and "<b>bold</b>" not in body.split("<main")[0]
    response = await ui.post("/groups/makers/needs", {"skills_wanted": "Carpentry, welding"}, form_page="/groups")
    assert response.status == 303
    assert "carpentry, welding" in await ui.page("/groups/makers/moderation")
    page = await ui.page("/groups/makers")
    helpers = page.split("People who could help")[1]
    assert "ann@node.test" in helpers  # her carpentry matches
    group = json.loads(await (await ui.client.get("/groups/makers", headers={"Accept": AS2})).text())
    assert group["skillsWanted"] == ["carpentry", "welding"]
    assert (await _updates(services))[-1]["object"]["id"] == "https://node.test/groups/makers"
