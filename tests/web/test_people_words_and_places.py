"""The people finder's forms (issue #16): existing tags suggested as JSON for the datalists, a place typed
by name in the profile form (no latitude/longitude fields) and in the finder, errors in words."""

from __future__ import annotations

import html
import json

from madeopen.app import Services
from tests.people.conftest import member
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixtures)


async def test_tag_suggestions(ui: UI, services: Services) -> None:
    await member(services, "ann", skills=["Carpentry", "Cartography"], interests=["Urban gardening"])
    await member(services, "bob", skills=["Carpentry"])

    async def suggested(query: str) -> tuple[int, dict]:
        response = await ui.client.get(f"/api/tags?{query}", headers={"Accept": "application/json"})
        return response.status, json.loads(await response.text())

    assert await suggested("q=car&kind=skill") == (200, {"tags": ["carpentry", "cartography"]})  # most used first
    assert await suggested("q=carpenter&kind=skill") == (200, {"tags": ["carpentry"]})  # a word form
    assert await suggested("q=garden&kind=interest") == (200, {"tags": ["urban gardening"]})
    assert await suggested("q=car&kind=interest") == (200, {"tags": []})
    status, body = await suggested("q=car&kind=colour")
    assert status == 400 and "suggestions are for skills" in body["error"]
    page = await ui.page("/people")
    assert 'list="skill-suggestions" data-suggest="skill"' in page and '<datalist id="skill-suggestions">' in page


async def test_profile_place_by_name_and_the_finder_near_it(ui: UI, services: Services) -> None:
    await create_person(services, "ann")
    await ui.log_in("ann")
    form = await ui.page("/settings/profile")
    assert 'name="location_name"' in form and 'name="latitude"' not in form and 'name="longitude"' not in form
    fields = {"display_name": "Ann", "bio": "", "headline": "", "skills": "carpentry", "soft_skills": "",
              "interests": "", "location_name": "Nowhereville", "location_precision": "city", "links": "",
              "discoverable_shown": "1", "discoverable": "on"}
    response = await ui.post("/settings/profile", fields, form_page="/settings/profile")
    assert response.status == 400
    text = html.unescape(await response.text())
    assert "could not find a town or city called “Nowhereville”" in text and 'value="Nowhereville"' in text
    response = await ui.post("/settings/profile", {**fields, "location_name": "Leeds"}, form_page="/settings/profile")
    assert response.status == 303
    found = await ui.page("/people?skill=carpenter&near=Bradford&radius_km=30")
    assert "@ann@node.test" in found and "Leeds" in found
    refused = html.unescape(await ui.page("/people?skill=carpenter&near=Nowhereville", status=400))
    assert "could not find a town or city called “Nowhereville”" in refused


async def test_words_box_finds_word_forms_in_profile_texts(ui: UI, services: Services) -> None:
    await member(services, "ann", headline="Weekend carpentry and urban gardening")
    await member(services, "bob", headline="Cook")
    for words in ("carpenter", "gardening"):
        found = await ui.page(f"/people?q={words}")
        assert "@ann@node.test" in found and "@bob@node.test" not in found, words
    assert "@ann@node.test" not in await ui.page("/people?q=carpenter+cook")


async def test_profile_form_offers_tag_suggestions(ui: UI, services: Services) -> None:
    await create_person(services, "ann")
    await ui.log_in("ann")
    form = await ui.page("/settings/profile")
    assert '<script src="/static/tags.js" defer></script>' in form
    for name, kind in (("skills", "skill"), ("soft_skills", "soft_skill"), ("interests", "interest")):
        assert f'<input id="{name}" name="{name}" type="text"' in form
        assert f'list="{name}-suggestions" data-suggest="{kind}"' in form and f'<datalist id="{name}-suggestions">' in form
