"""The people finder, search and profile API over HTTP, as browsers, scripts and peers see them."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse
from sqlalchemy import func, select

from actors import local
from inbox_outbox.services import posts
from inbox_outbox.services import profiles as profile_services
from madeopen.app import Services
from people.profiles import ProfileChange
from storage.models import Activity, Membership
from tests.conftest import TEST_DOMAIN
from tests.people.conftest import BERLIN, POTSDAM
from tests.support.web_ui import UI, create_person, ui  # noqa: F401  (fixture)

AS2 = "application/activity+json"
JSON = "application/json"


async def _profile(services: Services, username: str, **change: Any) -> None:
    async with services.sessions.begin() as session:
        person = await local.find_person(session, username)
        await profile_services.save_profile(session, services.urls, person.id, ProfileChange(**change))


async def _people(services: Services) -> None:
    for name in ("ann", "bob", "dan", "eve"):
        await create_person(services, name)
    await _profile(services, "ann", skills="python, carpentry", interests="gardening", headline="Maker",
                   latitude=BERLIN[0], longitude=BERLIN[1], location_precision="city", location_name="Berlin")
    await _profile(services, "bob", skills="python", latitude=POTSDAM[0], longitude=POTSDAM[1],
                   location_precision="exact", location_name="Potsdam")
    await _profile(services, "dan", skills="python", headline="Secret maker", discoverable=False)
    await _profile(services, "eve", skills="python", headline="Quiet coder", latitude=BERLIN[0],
                   longitude=BERLIN[1], location_precision="hidden", location_name="Berlin")


async def _json(ui: UI, path: str, status: int = 200) -> Any:
    response = await ui.client.get(path, headers={"Accept": JSON})
    body = await response.text()
    assert response.status == status, f"GET {path}: {response.status} {body[:500]}"
    return json.loads(body)


async def _put(ui: UI, path: str, body: object, content_type: str = JSON) -> ClientResponse:
    data = json.dumps(body) if content_type == JSON else str(body)
    # A page of this site calling the API: the browser adds its Origin (web/csrf.py checks it).
    headers = {"Content-Type": content_type, "Accept": JSON, "Origin": f"https://{TEST_DOMAIN}"}
    return await ui.client.put(path, data=data, headers=headers)


async def test_api_people_finds_by_skill_interest_and_place(ui: UI, services: Services) -> None:
    await _people(services)
    found = await _json(ui, "/api/people?skill=Python")
    assert [p["handle"] for p in found["people"]] == ["ann@node.test", "bob@node.test", "eve@node.test"]
    ann = found["people"][0]
    assert ann["server"] == "node.test" and ann["local"] is True and ann["url"] == "https://node.test/users/ann"
    assert ann["skills"] == ["python", "carpentry"] and ann["matched"] == ["python"]
    near = await _json(ui, "/api/people?skill=python&near=52.52,13.40&radius_km=40")
    assert [(p["handle"], p["distance_km"] < 40) for p in near["people"]] == [
        ("ann@node.test", True), ("bob@node.test", True)
    ]
    assert (await _json(ui, "/api/people?interest=gardening&near=48.85,2.35&radius_km=100"))["people"] == []
    assert near["query"]["radius_km"] == 40 and near["total"] == 2


async def test_bad_queries_are_400_with_a_reason(ui: UI, services: Services) -> None:
    for path, reason in [
        ("/api/people?near=52,13&radius_km=0", "Within (km) must be more than 0"),
        ("/api/people?near=100,13", "latitude must be between -90 and 90"),
        ("/api/people?skill=" + "x" * 41, "too long"),
        ("/api/search?q=", "q is missing"),
        ("/api/search?q=garden&type=cats", "type must be one of"),
    ]:
        assert reason in (await _json(ui, path, status=400))["error"], path
    page = await ui.page("/people?near=52,13&radius_km=99999", status=400)
    assert "Within (km) must be more than 0 and at most 20,000 km" in page and 'name="near"' in page
    summary = page[page.index('class="error-summary"'):].split("</div>")[0]
    assert "radius_km" not in summary and "near" not in summary  # words, never parameter names


async def test_hidden_locations_and_undiscoverable_people_never_show(ui: UI, services: Services) -> None:
    await _people(services)
    everywhere = [
        await (await ui.client.get("/users/eve", headers={"Accept": AS2})).text(),
        await ui.page("/users/eve"),
        json.dumps(await _json(ui, "/api/people?q=quiet+coder")),
        await ui.page("/people?q=quiet+coder"),
        json.dumps(await _json(ui, "/api/search?q=coder")),
        await ui.page("/search?q=coder"),
    ]
    for text in everywhere:  # each shows eve, and nothing of where she is
        assert "Quiet coder" in text or "eve@node.test" in text
        assert "Berlin" not in text and "52.52" not in text and "52.5," not in text
    [eve] = [p for p in (await _json(ui, "/api/people?skill=python"))["people"] if p["handle"] == "eve@node.test"]
    assert (eve["location"], eve["latitude"], eve["longitude"], eve["distance_km"]) == ("", None, None, None)
    listing = (await ui.page("/people?skill=python")).split("eve@node.test")[1]
    assert "Berlin" not in listing  # eve is listed last: nothing after her name names a place
    as2 = json.loads(everywhere[0])
    assert "location" not in as2 and not any(p["name"] == "Location" for p in as2["attachment"])
    assert as2["skills"] == ["python"] and {"type": "Hashtag", "name": "#python",
                                            "href": "https://node.test/tags/python"} in as2["tag"]
    assert (await _json(ui, "/api/people?near=Berlin&radius_km=50"))["people"][0]["handle"] == "ann@node.test"
    assert [p["handle"] for p in (await _json(ui, "/api/people?near=Berlin&radius_km=50"))["people"]] == [
        "ann@node.test", "bob@node.test"
    ]
    for path in ("/api/people?skill=python", "/api/people?q=secret+maker", "/api/search?q=secret+maker"):
        assert "dan@node.test" not in json.dumps(await _json(ui, path)), path
    assert "dan@node.test" not in await ui.page("/people?q=maker")
    ann = json.loads(await (await ui.client.get("/users/ann", headers={"Accept": AS2})).text())
    assert ann["location"]["latitude"] == 52.5 and "52.520008" not in json.dumps(ann)


async def test_the_profile_api_checks_everything_first(ui: UI, services: Services) -> None:
    await create_person(services, "ann")
    assert (await _put(ui, "/api/profile", {"skills": ["python"]})).status == 401
    await ui.log_in("ann")
    assert (await _put(ui, "/api/profile", "skills=python", "application/x-www-form-urlencoded")).status == 403
    assert (await _put(ui, "/api/profile", "skills", "text/csv")).status == 415
    good = await _put(ui, "/api/profile", {
        "skills": "Python, Carpentry", "interests": ["gardening"], "latitude": 52.52, "longitude": 13.405,
        "location_precision": "exact", "location_name": "Berlin", "links": [{"label": "Code", "url": "https://c.example"}],
    })
    assert good.status == 200, await good.text()
    saved = await good.json()
    assert saved["skills"] == ["python", "carpentry"] and saved["latitude"] == 52.52

    for body, field in [
        ({"latitude": 52, "longitude": 200}, "longitude"),
        ({"skills": [f"s{i}" for i in range(31)]}, "skills"),
        ({"interests": ["x" * 41]}, "interests"),
        ({"skills": "ok", "location_precision": "street"}, "location_precision"),
    ]:
        response = await _put(ui, "/api/profile", body)
        answer = await response.json()
        assert response.status == 400 and field in answer["errors"] and answer["error"], body
    assert (await _put(ui, "/api/profile", {"skils": ["typo"]})).status == 400
    assert (await _put(ui, "/api/profile", {"skills": 5})).status == 400
    assert await _json(ui, "/api/profile") == saved  # nothing changed
    async with services.sessions() as session:
        updates = await session.scalar(select(func.count()).select_from(Activity).where(Activity.type == "Update"))
    assert updates == 1  # only the good change was published

    # Clearing the coordinates and hiding the place.
    cleared = await (await _put(ui, "/api/profile", {"latitude": None, "longitude": None,
                                                      "location_precision": "hidden"})).json()
    assert cleared["latitude"] is None and cleared["location_name"] == "Berlin"
    assert "Berlin" not in await (await ui.client.get("/users/ann", headers={"Accept": AS2})).text()


async def test_group_needs_api_and_group_page(ui: UI, services: Services) -> None:
    await _people(services)
    async with services.sessions.begin() as session:
        makers = await local.create_group(session, local.NewGroup("makers", owner="ann", title="Makers"))
        bob = await local.find_person(session, "bob")
        session.add(Membership(group_id=makers.id, local_actor_id=bob.id, role="member"))
    await ui.log_in("bob")
    response = await _put(ui, "/api/groups/makers/needs", {"skills_wanted": ["carpentry"]})
    assert response.status == 403
    await ui.client.post("/logout", data={"csrf_token": await ui.token("/settings/profile")})
    await ui.log_in("ann")
    assert (await _put(ui, "/api/groups/makers/needs", {"skills_wanted": "<b>"})).status == 400
    assert (await _put(ui, "/api/groups/makers/needs", {"wanted": []})).status == 400
    response = await _put(ui, "/api/groups/makers/needs", {"skills_wanted": ["Carpentry", "python"]})
    assert response.status == 200 and (await response.json())["skills_wanted"] == ["carpentry", "python"]

    page = await ui.page("/groups/makers")
    assert "Skills wanted" in page and "People who could help" in page and "Members (2)" in page
    helpers = page.split("People who could help")[1]
    assert helpers.index("ann@node.test") < helpers.index("bob@node.test") < helpers.index("eve@node.test")
    assert "dan@node.test" not in page
    group = json.loads(await (await ui.client.get("/groups/makers", headers={"Accept": AS2})).text())
    assert group["skillsWanted"] == ["carpentry", "python"]


async def test_search_pages_posts_and_helpers(ui: UI, services: Services) -> None:
    await _people(services)
    async with services.sessions.begin() as session:
        ann = await local.find_person(session, "ann")
        group = await local.create_group(session, local.NewGroup("makers", owner="ann", title="Makers"))
        post = await posts.create_post(session, services.urls, ann, group, "Compost sieve",
                                       "Who can build a sieve? Some carpentry needed, maybe python for the sensor.")
    page = await ui.page("/search?q=compost")
    assert "Compost sieve" in page and "Posts (1)" in page
    found = await _json(ui, "/api/search?q=sieve&type=posts")
    assert [p["id"] for p in found["posts"]["items"]] == [post.uri] and found["people"]["total"] == 0
    assert (await _json(ui, "/api/search?q=makers"))["groups"]["items"][0]["handle"] == "makers@node.test"
    object_page = await ui.page(post.uri.removeprefix("https://node.test"))
    assert "People who could help" in object_page
    helpers = object_page.split("People who could help")[1]
    assert "bob@node.test" in helpers and "eve@node.test" in helpers and "ann@node.test" not in helpers


async def test_context_document_and_tag_links(ui: UI, services: Services) -> None:
    response = await ui.client.get("/ns")
    assert response.status == 200 and response.content_type == "application/ld+json"
    context = (await response.json())["@context"]
    assert context["skills"] == {"@id": "madeopen:skills", "@container": "@set"}
    assert context["madeopen"].startswith("https://")
    redirect = await ui.client.get("/tags/Machine%20Learning", allow_redirects=False)
    assert redirect.status == 302 and redirect.headers["Location"] == "/people?tag=machine+learning"
    assert (await ui.client.get("/tags/%3Cb%3E", allow_redirects=False, headers={"Accept": JSON})).status == 400
    page = await ui.page("/people")
    assert '<label for="skill">' in page and "<script>" not in page


async def test_deeply_nested_json_is_a_400_and_changes_nothing(ui: UI, services: Services) -> None:
    await _people(services)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup("makers", owner="ann", title="Makers"))
    await ui.log_in("ann")
    profile_before = await _json(ui, "/api/profile")
    deep = "[" * 20_000 + "]" * 20_000
    for path, body in [("/api/profile", deep), ("/api/profile", '{"skills": ' + deep + "}"),
                       ("/api/groups/makers/needs", '{"skills_wanted": ' + deep + "}")]:
        response = await ui.client.put(path, data=body, headers={"Content-Type": JSON, "Accept": JSON,
                                                                 "Origin": f"https://{TEST_DOMAIN}"})
        text = await response.text()
        assert response.status == 400, text
        assert "nested deeper than 32 levels" in json.loads(text)["error"], path
    assert await _json(ui, "/api/profile") == profile_before
    assert "Skills wanted" not in await ui.page("/groups/makers")
