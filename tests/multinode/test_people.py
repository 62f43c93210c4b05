"""Two real nodes: members of B describe themselves; A, which knows them, finds them by skill, interest and
distance, and hears of their changes through Update{Person}. What B's members keep to themselves (not
being discoverable, a hidden location) never shows on A.

Every change on B goes through the service the profile form and the JSON API call; A is asked over HTTP
(``/api/people``) as a browser or script would ask it; B's and A's own `madeopen run` processes deliver
and receive the activities.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from actors import local
from inbox_outbox.services import membership
from inbox_outbox.services import profiles as profile_services
from people.profiles import ProfileChange
from storage.models import Follow, Profile, RemoteActor
from tests.multinode.conftest import Databases
from tests.support.cluster import RunningNode, eventually, running_nodes

BERLIN = (52.520008, 13.404954)
LEIPZIG = (51.339695, 12.373075)


async def set_profile(node: RunningNode, name: str, **change: Any) -> None:
    async with node.services.sessions.begin() as session:
        person = await local.find_person(session, name)
        await profile_services.save_profile(session, node.services.urls, person.id, ProfileChange(**change))


async def people_on(node: RunningNode, **params: Any) -> list[dict[str, Any]]:
    query = urlencode([(k, str(v)) for k, v in params.items()])
    async with aiohttp.ClientSession() as session, session.get(f"{node.base_url}/api/people?{query}") as response:
        assert response.status == 200, await response.text()
        return (await response.json())["people"]


async def handles_on(node: RunningNode, **params: Any) -> list[str]:
    return [person["handle"] for person in await people_on(node, **params)]


@pytest.mark.parametrize("finder_backend", ["postgresql_or_sqlite", "sqlite"])
async def test_a_node_finds_the_members_of_another_and_follows_their_changes(
    databases: Databases, tmp_path, finder_backend: str
) -> None:
    if finder_backend == "sqlite" and not databases.has_postgres:
        pytest.skip("the SQLite finder already ran above (no PostgreSQL configured for the other node)")
    a_url = await getattr(databases, finder_backend)()
    b_url = await (databases.sqlite() if finder_backend == "postgresql_or_sqlite" else databases.postgresql_or_sqlite())
    async with running_nodes([a_url, b_url], tmp_path) as (a, b):
        for name in ("mira", "nils", "olga"):
            await b.create_person(name)
        await a.create_person("alex")
        await set_profile(b, "mira", headline="Timber frames and tools", skills="Carpentry, Python",
                          interests="urban gardening", latitude=BERLIN[0], longitude=BERLIN[1],
                          location_precision="city", location_name="Berlin")
        await set_profile(b, "nils", skills="carpentry", interests="urban gardening", discoverable=False,
                          latitude=BERLIN[0], longitude=BERLIN[1], location_precision="exact")
        await set_profile(b, "olga", skills="carpentry", headline="Joiner", latitude=BERLIN[0],
                          longitude=BERLIN[1], location_precision="hidden", location_name="Kreuzberg")

        # A's alex follows them: A resolves their actors from B (this is how A comes to know them).
        for name in ("mira", "nils", "olga"):
            await membership.follow_actor(a.fed, "alex", b.handle(name))
        await eventually(
            lambda: _accepted(a, "alex", [b.user(n) for n in ("mira", "nils", "olga")]), what="B accepting the follows"
        )

        mira, olga = b.handle("mira"), b.handle("olga")
        assert await handles_on(a, skill="carpentry") == [mira, olga]  # nils chose not to be found
        assert await handles_on(a, interest="Urban Gardening") == [mira]
        assert await handles_on(a, skill="carpentry", near="52.52,13.40", radius_km=25) == [mira]
        assert await handles_on(a, interest="urban gardening", near=f"{LEIPZIG[0]},{LEIPZIG[1]}", radius_km=100) == []
        [found] = await people_on(a, q="timber frames")
        assert found["server"] == b.domain and found["local"] is False and found["url"] == b.user("mira")
        assert (found["latitude"], found["longitude"], found["approximate"]) == (52.5, 13.4, True)
        assert found["distance_km"] is None and found["location"] == "Berlin"

        # Olga's hidden place never reached A: not in what it cached, not in what it answers.
        olga_cached = await a.scalar(select(RemoteActor).where(RemoteActor.uri == b.user("olga")))
        assert "Kreuzberg" not in json.dumps(olga_cached.document) and "location" not in olga_cached.document
        [olga_hit] = await people_on(a, q="joiner")
        assert (olga_hit["location"], olga_hit["latitude"], olga_hit["longitude"]) == ("", None, None)
        assert await handles_on(a, q="kreuzberg") == []
        nils_profile = await a.scalar(select(Profile).where(Profile.actor_uri == b.user("nils")))
        assert nils_profile is not None and nils_profile.discoverable is False  # known, never listed

        # Mira moves to Leipzig and learns welding; her Update reaches A, which re-fetches her actor.
        await set_profile(b, "mira", skills="carpentry, python, welding", latitude=LEIPZIG[0],
                          longitude=LEIPZIG[1], location_name="Leipzig")
        await eventually(lambda: handles_on(a, skill="welding"), what="mira's Update reaching A")
        assert await handles_on(a, interest="urban gardening", near=f"{LEIPZIG[0]},{LEIPZIG[1]}", radius_km=25) == [mira]
        assert await handles_on(a, skill="carpentry", near="52.52,13.40", radius_km=25) == []

        # Nils opens up: his next Update makes him findable on A.
        await set_profile(b, "nils", discoverable=True)
        await eventually(lambda: _contains(handles_on(a, skill="carpentry"), b.handle("nils")),
                         what="nils's Update reaching A")
        # And mira hides: the next Update removes every trace of where she is.
        await set_profile(b, "mira", location_precision="hidden")
        await eventually(lambda: _no_location(a, b.user("mira")), what="mira's hidden location reaching A")
        assert await handles_on(a, near=f"{LEIPZIG[0]},{LEIPZIG[1]}", radius_km=50) == []


async def _accepted(node: RunningNode, person: str, followees: list[str]) -> bool:
    states = await node.scalars(
        select(Follow.state).where(Follow.follower_uri == node.user(person), Follow.followee_uri.in_(followees))
    )
    return len(states) == len(followees) and set(states) == {"accepted"}


async def _contains(found: Any, handle: str) -> bool:
    return handle in await found


async def _no_location(node: RunningNode, uri: str) -> bool:
    cached = await node.scalar(select(RemoteActor).where(RemoteActor.uri == uri))
    profile = await node.scalar(select(Profile).where(Profile.actor_uri == uri))
    return (
        cached is not None and "location" not in cached.document and "Leipzig" not in json.dumps(cached.document)
        and profile is not None and profile.search_lat is None and profile.location_name == ""
    )
