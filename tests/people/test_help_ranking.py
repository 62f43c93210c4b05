""""People who could help" ranks by help given in groups that need the skills (issue #17), one signal
after the matched skills; a person who opted out is not ranked by it."""

from __future__ import annotations

from actors import local
from inbox_outbox.services import board, posts
from inbox_outbox.services import profiles as profile_services
from madeopen.app import Services
from people import finder, index, matching
from storage.models import RecognitionOptOut
from tests.people.conftest import group, member


async def _helpers(services: Services) -> list[str]:
    await index.sync(services.sessions, services.urls)
    async with services.sessions() as session:
        makers = await local.find_group(session, "makers")
        found = await matching.group_matches(session, services.urls, makers, None)
    return [person.handle.split("@")[0] for person in found.people]


async def test_help_given_in_matching_groups_ranks_people_who_could_help(services: Services) -> None:
    await member(services, "olga")
    for name in ("ann", "bob"):
        await member(services, name, skills="carpentry")
    await group(services, "makers", owner="olga")
    await group(services, "bakers", owner="olga")  # needs nothing of that: help there is no signal
    async with services.sessions.begin() as session:
        await profile_services.set_group_needs(session, services.urls, "makers", "Carpentry", by="olga")
    assert await _helpers(services) == ["ann", "bob"]  # by name

    async def answered(group_name: str, who: str) -> None:
        async with services.sessions.begin() as session:
            olga, helper = await local.find_person(session, "olga"), await local.find_person(session, who)
            place = await local.find_group(session, group_name)
            question = await posts.create_post(session, services.urls, olga, place, "Shelf?", "How?", "question")
            answer = await posts.reply(session, services.urls, helper, question.uri, "Dowels.")
            await board.accept_answer(session, services.urls, olga, question.uri, answer.uri)

    await answered("bakers", "bob")
    assert await _helpers(services) == ["ann", "bob"]
    await answered("makers", "bob")
    assert await _helpers(services) == ["bob", "ann"]
    async with services.sessions.begin() as session:
        session.add(RecognitionOptOut(actor_uri=services.urls.person("bob")))
    assert await _helpers(services) == ["ann", "bob"]


async def test_the_people_finder_ranks_equal_matches_by_help_given(services: Services) -> None:
    """/people and /api/people: among people matching the same skills, who helped most in groups that
    need them comes first; someone who opted out is not moved by it."""
    await member(services, "olga")
    for name in ("ann", "bob"):
        await member(services, name, skills="carpentry")
    await group(services, "makers", owner="olga")
    async with services.sessions.begin() as session:
        await profile_services.set_group_needs(session, services.urls, "makers", "Carpentry", by="olga")

    async def found() -> list[str]:
        await index.sync(services.sessions, services.urls)
        async with services.sessions() as session:
            result = await finder.find_people(session, services.urls, finder.PeopleQuery(skills=("carpentry",)), None)
        return [hit.handle.split("@")[0] for hit in result.people]

    assert await found() == ["ann", "bob"]  # by name
    async with services.sessions.begin() as session:
        olga, bob = await local.find_person(session, "olga"), await local.find_person(session, "bob")
        makers = await local.find_group(session, "makers")
        question = await posts.create_post(session, services.urls, olga, makers, "Shelf?", "How?", "question")
        answer = await posts.reply(session, services.urls, bob, question.uri, "Dowels.")
        await board.accept_answer(session, services.urls, olga, question.uri, answer.uri)
    assert await found() == ["bob", "ann"]
    async with services.sessions.begin() as session:
        session.add(RecognitionOptOut(actor_uri=services.urls.person("bob")))
    assert await found() == ["ann", "bob"]
