"""Helpers for the people tests: members with profiles, remote actors, and the finder as the web calls it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from multidict import MultiDict
from sqlalchemy import select

from actors import local
from federation.remote_actor import parse_actor
from inbox_outbox.services import profiles as profile_services
from madeopen.app import Services
from people import finder, index, search
from people.profiles import ProfileChange
from storage.models import LocalActor, RemoteActor

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "a long enough password"
BERLIN = (52.520008, 13.404954)
POTSDAM = (52.390569, 13.064473)
PARIS = (48.856613, 2.352222)


def mastodon_actor(**changes: Any) -> dict[str, Any]:
    document = json.loads((FIXTURES / "mastodon_actor.json").read_text())
    document.update(changes)
    return document


async def member(services: Services, name: str, **profile: Any) -> LocalActor:
    """A local person who saved a profile (as the profile form or the JSON API does)."""
    async with services.sessions.begin() as session:
        actor = await local.create_person(session, local.NewPerson(name, PASSWORD, display_name=name.title()))
        if profile:
            await profile_services.save_profile(session, services.urls, actor.id, ProfileChange(**profile))
    return actor


async def group(services: Services, name: str, *, owner: str, members: list[str] = (), private: bool = False) -> None:
    from storage.models import Membership

    async with services.sessions.begin() as session:
        created = await local.create_group(session, local.NewGroup(name, private=private, owner=owner))
        for each in members:
            person = await local.find_person(session, each)
            session.add(Membership(group_id=created.id, local_actor_id=person.id, role="member"))


async def store_remote(services: Services, document: dict[str, Any]) -> RemoteActor:
    """A remote actor as RemoteActors stores what it fetched (the same path as resolve and Update)."""
    assert services.remote is not None
    return await services.remote.store(parse_actor(document), document)


async def find(services: Services, viewer: str | None = None, **params: Any) -> finder.PeopleResults:
    """The finder as GET /api/people runs it (queued index changes applied first)."""
    query = MultiDict()
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            query.add(name, str(item))
    parsed = finder.parse_query(query)
    await index.sync(services.sessions, services.urls)
    async with services.sessions() as session:
        return await finder.find_people(session, services.urls, parsed, viewer)


async def names(services: Services, viewer: str | None = None, **params: Any) -> list[str]:
    return [hit.handle for hit in (await find(services, viewer, **params)).people]


async def search_all(services: Services, text: str, viewer: str | None = None) -> search.SearchResults:
    await index.sync(services.sessions, services.urls)
    async with services.sessions() as session:
        return await search.search(session, services.urls, text, viewer)


async def actor(services: Services, name: str) -> LocalActor:
    async with services.sessions() as session:
        found = await session.scalar(select(LocalActor).where(LocalActor.username == name))
    assert found is not None
    return found
