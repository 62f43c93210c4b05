"""The docs services (issue #18): two people saving the same revision at the same moment never both
win and never lose text: one saves, the other gets the stale-save merge."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from actors import local
from actors.node_settings import InvalidFields
from content.docs import pages
from inbox_outbox.services import docs
from madeopen.app import Services
from storage.models import DocRevision, Membership


async def test_simultaneous_saves_take_turns(services: Services) -> None:
    assert services.fed is not None
    async with services.sessions.begin() as session:
        for name in ("ada", "sam"):
            await local.create_person(session, local.NewPerson(username=name, password="a long password"))
        await local.create_group(session, local.NewGroup(username="shop", owner="ada"))
        group = await local.find_group(session, "shop")
        sam = await local.find_person(session, "sam")
        session.add(Membership(group_id=group.id, local_actor_id=sam.id, role="staff", state="accepted"))
    done = await docs.create_doc(services.fed, "ada", "shop", title="Guide", body="one\ntwo\nthree\n")
    doc_id = int(done.path.rsplit("/", 1)[1])

    async def save(who: str, body: str) -> object:
        try:
            return await docs.save_doc(services.fed, who, "shop", doc_id, base=1, title="Guide", body=body)
        except pages.StaleSave as stale:
            return stale

    results = await asyncio.gather(save("ada", "ONE\ntwo\nthree\n"), save("sam", "one\ntwo\nTHREE\n"))
    stale = [result for result in results if isinstance(result, pages.StaleSave)]
    assert len(stale) == 1 and stale[0].merged == "ONE\ntwo\nTHREE" and not stale[0].clashes
    async with services.sessions() as session:
        numbers = list(await session.scalars(select(DocRevision.number).order_by(DocRevision.number)))
    assert numbers == [1, 2]


@pytest.mark.parametrize("bad", ["", "   "])
async def test_an_empty_title_writes_nothing(services: Services, bad: str) -> None:
    assert services.fed is not None
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="ada", password="a long password"))
        await local.create_group(session, local.NewGroup(username="shop", owner="ada"))
    with pytest.raises(InvalidFields):
        await docs.create_doc(services.fed, "ada", "shop", title=bad, body="text")
    async with services.sessions() as session:
        assert list(await session.scalars(select(DocRevision))) == []
