"""The people finder, group needs, post helpers and full-text search, through the service layer, on SQLite
and PostgreSQL. Remote actors are stored the way resolving or an Update stores them (RemoteActors.store)."""

from __future__ import annotations

import json

import pytest
from pytest import Subtests
from sqlalchemy import func, select, update

from actors import documents, local, suspensions
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from actors.urls import Urls
from inbox_outbox.services import post_edits, posts
from inbox_outbox.services import profiles as profile_services
from madeopen.app import Services
from people import documents as people_documents
from people import finder, index, matching, profiles
from people.profiles import ProfileChange
from storage.models import Account, Activity, Delivery, Follow, LocalActor, Membership, Object, Profile, RemoteActor
from tests.people.conftest import (
    BERLIN, PARIS, POTSDAM, actor, find, group, mastodon_actor, member, names, search_all, store_remote,
)

HOST = "node.test"


def at(point: tuple[float, float], precision: str, place: str = "") -> dict[str, object]:
    return {"latitude": point[0], "longitude": point[1], "location_precision": precision, "location_name": place}


@pytest.fixture
async def town(services: Services) -> Services:
    """Five people: ann (Berlin, city), bob (Potsdam, exact), cara (Paris), dan (not discoverable),
    eve (Berlin, hidden)."""
    await member(services, "ann", headline="Carpenter and maker", skills="Python, carpentry",
                 interests=["gardening"], **at(BERLIN, "city", "Berlin"))
    await member(services, "bob", skills=["python"], soft_skills="active listening", **at(POTSDAM, "exact", "Potsdam"))
    await member(services, "cara", interests="Gardening, beekeeping", **at(PARIS, "exact", "Paris"))
    await member(services, "dan", skills="python, carpentry", interests="gardening", discoverable=False,
                 **at(BERLIN, "exact", "Berlin"))
    await member(services, "eve", skills="python", headline="Quiet coder", **at(BERLIN, "hidden", "Berlin"))
    return services


def h(name: str) -> str:
    return f"{name}@{HOST}"


async def test_find_by_skill_interest_words_and_place(town: Services) -> None:
    assert await names(town, skill="python") == [h("ann"), h("bob"), h("eve")]  # dan chose not to be found
    assert await names(town, skill=["PYTHON", "Carpentry"]) == [h("ann"), h("bob"), h("eve")]  # ann: 2 matches
    result = await find(town, skill="python, carpentry")
    assert result.people[0].matched == ["python", "carpentry"] and result.total == 3
    assert await names(town, interest="gardening") == [h("ann"), h("cara")]
    assert await names(town, soft_skill="Active-Listening") == [h("bob")]
    assert await names(town, tag="beekeeping") == [h("cara")]
    assert await names(town, q="carpenter maker") == [h("ann")]  # stemmed words of the headline
    assert await names(town, q="paris") == [h("cara")]

    # Near Berlin: ranked by match, then distance; eve's hidden location never matches a place.
    near = await find(town, skill="python", near=f"{BERLIN[0]},{BERLIN[1]}", radius_km=50)
    assert [(p.handle, p.distance_km is not None and p.distance_km < 30) for p in near.people] == [
        (h("ann"), True), (h("bob"), True)
    ]
    assert near.people[0].distance_km < near.people[1].distance_km
    assert await names(town, interest="gardening", near="52.52,13.40", radius_km=50) == [h("ann")]
    assert await names(town, interest="gardening", near="52.52,13.40", radius_km=1000) == [h("ann"), h("cara")]
    assert await names(town, near="Berlin", radius_km=5) == [h("ann")]  # a place name people here published
    assert await names(town, skill=["python", "carpentry"], near="52.52,13.40", radius_km=100) == [h("ann"), h("bob")]


async def test_paging_and_ordering(town: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await find(town, skill="python", per_page=2)
    second = await find(town, skill="python", per_page=2, page=2)
    assert [p.handle for p in first.people + second.people] == [h("ann"), h("bob"), h("eve")]
    assert first.has_next and not second.has_next and first.total == second.total == 3 and first.exact
    monkeypatch.setattr(finder, "COUNT_LIMIT", 1)  # beyond the limit, totals say "1+"
    for params in ({"skill": "python"}, {"skill": "python", "near": "52.5,13.4", "radius_km": 100}):
        capped = await find(town, per_page=1, **params)
        assert (capped.total, capped.exact, capped.has_next) == (1, False, True), params
        assert capped.as_json()["total_exact"] is False


async def test_hidden_and_city_locations_do_not_leak(town: Services) -> None:
    [eve] = (await find(town, q="quiet coder")).people
    assert eve.location == "" and eve.latitude is None and eve.longitude is None
    assert await names(town, q="berlin") == [h("ann")]  # eve's hidden place name is not searchable either
    [ann] = (await find(town, q="berlin")).people
    assert (ann.latitude, ann.longitude, ann.approximate) == (52.5, 13.4, True)  # city precision, not exact

    eve_actor, ann_actor = await actor(town, "eve"), await actor(town, "ann")
    eve_doc = json.dumps(documents.actor_document(eve_actor, town.urls))
    assert "Berlin" not in eve_doc and "52.52" not in eve_doc and '"location"' not in eve_doc
    ann_doc = documents.actor_document(ann_actor, town.urls)
    assert ann_doc["location"] == {"type": "Place", "name": "Berlin", "latitude": 52.5, "longitude": 13.4,
                                   "radius": 10.0, "units": "km"}
    assert "52.520008" not in json.dumps(ann_doc)
    # The owner still sees what they entered.
    async with town.sessions() as session:
        own = await profiles.own_profile(session, town.urls, eve_actor.id)
    assert (own.latitude, own.location_name, own.location_precision) == (BERLIN[0], "Berlin", "hidden")


async def test_a_first_place_without_a_precision_is_shown_coarsely(services: Services) -> None:
    await member(services, "ida", skills="rust", latitude=BERLIN[0], longitude=BERLIN[1])
    [ida] = (await find(services, skill="rust")).people
    assert (ida.latitude, ida.longitude, ida.approximate) == (52.5, 13.4, True)
    await member(services, "jon", skills="go", location_precision="hidden", location_name="Bonn")
    [jon] = (await find(services, skill="go")).people
    assert jon.location == "" and (await names(services, q="bonn")) == []


async def test_people_who_stop_being_findable_disappear(town: Services) -> None:
    ann = await actor(town, "ann")
    async with town.sessions.begin() as session:
        await session.execute(update(Account).where(Account.actor_id == ann.id).values(suspended=True))
    assert h("ann") not in await names(town, skill="python")  # a suspended account (queued by a trigger)
    async with town.sessions.begin() as session:
        await session.execute(update(Account).where(Account.actor_id == ann.id).values(suspended=False))
        await profile_services.save_profile(session, town.urls, ann.id, ProfileChange(discoverable=False))
    assert h("ann") not in await names(town, skill="python")
    async with town.sessions.begin() as session:  # a name changed elsewhere (the account page) is found
        await session.execute(update(LocalActor).where(LocalActor.id == ann.id).values(discoverable=True,
                                                                                      display_name="Annika"))
    assert await names(town, q="annika") == [h("ann")]


BAD_CHANGES = [
    ({"latitude": "91", "longitude": "13"}, "latitude", "between -90 and 90"),
    ({"latitude": "52", "longitude": "east"}, "longitude", "must be a number"),
    ({"latitude": "52"}, "latitude", "both latitude and longitude"),
    ({"skills": [f"skill {i}" for i in range(31)]}, "skills", "too many tags"),
    ({"interests": "x" * 41}, "interests", "too long"),
    ({"location_precision": "street"}, "location_precision", "exact, city, hidden"),
    ({"links": "javascript:alert(1)"}, "links", "not a web address"),
    ({"headline": "h" * 151}, "headline", "too long"),
]


async def test_bad_input_changes_nothing(town: Services, subtests: Subtests) -> None:
    bob = await actor(town, "bob")
    async with town.sessions() as session:
        before = await profiles.own_profile(session, town.urls, bob.id)
        updates = await session.scalar(select(func.count()).select_from(Activity).where(Activity.type == "Update"))
    for change, field, reason in BAD_CHANGES:
        with subtests.test(field=field, reason=reason):
            with pytest.raises(InvalidFields) as caught:
                async with town.sessions.begin() as session:
                    await profile_services.save_profile(
                        session, town.urls, bob.id,
                        ProfileChange(**{"headline": "changed", "soft_skills": "patience", **change}),
                    )
            assert reason in caught.value.errors[field]
            async with town.sessions() as session:
                assert await profiles.own_profile(session, town.urls, bob.id) == before
                assert await session.scalar(
                    select(func.count()).select_from(Activity).where(Activity.type == "Update")
                ) == updates  # nothing sent either


BAD_QUERIES = [
    ({"near": "95,10"}, "latitude must be between"),
    ({"near": "52,10", "radius_km": "0"}, r"Within \(km\) must be more than 0"),
    ({"near": "52,10", "radius_km": "50000"}, "at most 20,000"),
    ({"radius_km": "10"}, "say near which place, in the Place box"),
    ({"skill": ",".join(f"s{i}" for i in range(11))}, "too many tags"),
    ({"skill": "y" * 41}, "too long"),
    ({"q": "!!!"}, "type at least one word"),
    ({"near": "Nowhereville"}, "could not find a town or city called “Nowhereville”"),
    ({"near": "Berlin", "radius_km": "5", "interest": "hidden places"}, None),  # fine: an empty result
    ({"page": "0"}, "The page number must be"),
]


async def test_bad_queries_say_why(town: Services, subtests: Subtests) -> None:
    for params, reason in BAD_QUERIES:
        with subtests.test(**params):
            if reason is None:
                assert (await find(town, **params)).people == []
                continue
            with pytest.raises(InvalidInput, match=reason):
                await find(town, **params)


async def test_remote_mastodon_actor_is_indexed_and_updated(town: Services) -> None:
    await store_remote(town, mastodon_actor())
    [rosa] = (await find(town, skill="python", q="rosa")).people
    assert (rosa.handle, rosa.server, rosa.local, rosa.url) == (
        "rosa@mastodon.example", "mastodon.example", False, "https://mastodon.example/@rosa"
    )
    assert rosa.skills == ["python", "beekeeping", "raised beds"] and rosa.location == "Leipzig"
    assert await names(town, interest="permaculture") == ["rosa@mastodon.example"]
    assert await names(town, tag="Open Source") == ["rosa@mastodon.example"]  # #OpenSource
    assert "rosa@mastodon.example" in await names(town, tag="beekeeping")
    assert await names(town, q="leipzig gardener") == ["rosa@mastodon.example"]

    # An Update (re-fetch) that turns discoverability off, or a server that never says it: not found.
    await store_remote(town, mastodon_actor(discoverable=False))
    assert await names(town, q="rosa") == []
    document = mastodon_actor()
    del document["discoverable"]
    await store_remote(town, document)
    assert await names(town, q="rosa") == []
    await store_remote(town, mastodon_actor(attachment=[]))
    assert await names(town, skill="beekeeping") == [] and await names(town, q="rosa") != []


async def test_a_suspended_remote_account_is_not_offered_until_lifted(town: Services) -> None:
    remote = await store_remote(town, mastodon_actor())
    assert await names(town, q="rosa") == ["rosa@mastodon.example"]
    async with town.sessions.begin() as session:
        await suspensions.suspend(session, remote, reason="spam", actor_uri=None)
    assert await names(town, q="rosa") == [] and await names(town, skill="beekeeping") == []
    async with town.sessions.begin() as session:
        await suspensions.unsuspend(session, remote.uri, actor_uri=None)
    assert await names(town, q="rosa") == ["rosa@mastodon.example"]


async def test_another_made_open_nodes_profile_reads_back_exactly(town: Services) -> None:
    ann = await actor(town, "ann")
    elsewhere = documents.actor_document(ann, Urls("https://b.example"))  # ann as node b.example serves her
    await store_remote(town, json.loads(json.dumps(elsewhere)))
    hits = {p.handle: p for p in (await find(town, skill="carpentry")).people}
    assert set(hits) == {h("ann"), "ann@b.example"}
    local_ann, remote_ann = hits[h("ann")], hits["ann@b.example"]
    for name in ("headline", "skills", "soft_skills", "interests", "location", "latitude", "longitude"):
        assert getattr(remote_ann, name) == getattr(local_ann, name), name


async def test_group_members_filter_and_private_groups(town: Services) -> None:
    await group(town, "makers", owner="ann", members=["bob", "dan"])
    await group(town, "board", owner="cara", members=["eve"], private=True)
    assert await names(town, group="makers") == [h("ann"), h("bob")]  # dan is a member, not findable
    assert await names(town, group=f"!makers@{HOST}", skill="python") == [h("ann"), h("bob")]
    with pytest.raises(Forbidden, match="private group"):
        await find(town, group="board")
    with pytest.raises(Forbidden):
        await find(town, f"https://{HOST}/users/ann", group="board")
    assert await names(town, f"https://{HOST}/users/eve", group="board") == [h("cara"), h("eve")]
    with pytest.raises(NotFound):
        await find(town, group="nobody@far.example")


async def test_group_needs_members_and_who_could_help(town: Services) -> None:
    await group(town, "makers", owner="ann", members=["bob", "dan"])
    async with town.sessions.begin() as session:
        with pytest.raises(Forbidden):
            await profile_services.set_group_needs(session, town.urls, "makers", "welding", by="bob")
    with pytest.raises(InvalidFields) as caught:
        async with town.sessions.begin() as session:
            await profile_services.set_group_needs(session, town.urls, "makers", ["<b>"], by="ann")
    assert "skills wanted" in caught.value.errors["skills_wanted"]
    async with town.sessions.begin() as session:
        makers = await profile_services.set_group_needs(session, town.urls, "makers", "Python, Carpentry", by="ann")
        assert profiles.skills_wanted(makers) == ["python", "carpentry"]
    await member(town, "finn", skills="carpentry")  # not a member, but known here
    await index.sync(town.sessions, town.urls)
    async with town.sessions() as session:
        group_actor = await local.find_group(session, "makers")
        members = await matching.group_members(session, town.urls, group_actor, None)
        helpers = await matching.group_matches(session, town.urls, group_actor, None)
        document = documents.actor_document(group_actor, town.urls)
    assert members.total == 3 and [p.handle for p in members.people] == [h("ann"), h("bob")]
    assert [(p.handle, p.member) for p in helpers.people] == [
        (h("ann"), True), (h("bob"), True), (h("eve"), False), (h("finn"), False)
    ]
    assert document["skillsWanted"] == ["python", "carpentry"]
    assert {"type": "PropertyValue", "name": "Skills wanted", "value": "python, carpentry"} in document["attachment"]


async def test_a_post_in_a_group_suggests_people_who_could_help(town: Services) -> None:
    await group(town, "makers", owner="cara", members=["eve"])
    await member(town, "gus", skills="raised beds, carpentry")
    async with town.sessions.begin() as session:
        author = await local.find_person(session, "cara")
        makers = await local.find_group(session, "makers")
        post = await posts.create_post(session, town.urls, author, makers, "Shed roof",
                                       "Who knows **carpentry**? Also our Raised Beds need python scripts.")
        post.document = {**post.document, "tag": [{"type": "Hashtag", "name": "#ActiveListening"}]}
    await index.sync(town.sessions, town.urls)
    async with town.sessions() as session:
        obj = await session.scalar(select(Object).where(Object.uri == post.uri))
        helpers = await matching.post_helpers(session, town.urls, obj, None)
    assert set(helpers.tags) == {"active listening", "carpentry", "raised beds", "python"}
    handles = [(p.handle, p.member) for p in helpers.people]
    assert handles[0] == (h("eve"), True)  # the member first (python)
    assert set(handles[1:]) == {(h("ann"), False), (h("bob"), False), (h("gus"), False)}
    assert (h("cara"), False) not in handles and all(p.handle != h("dan") for p in helpers.people)
    gus = next(p for p in helpers.people if p.handle == h("gus"))
    assert gus.matched == ["carpentry", "raised beds"] or set(gus.matched) == {"carpentry", "raised beds"}


async def test_full_text_search_respects_visibility(town: Services) -> None:
    await group(town, "makers", owner="ann", members=["bob"])
    await group(town, "board", owner="cara", members=["eve"], private=True)
    async with town.sessions.begin() as session:
        ann, cara = await local.find_person(session, "ann"), await local.find_person(session, "cara")
        makers, board = await local.find_group(session, "makers"), await local.find_group(session, "board")
        public = await posts.create_post(session, town.urls, ann, makers, "Compost heaps", "Turning the compost weekly")
        secret = await posts.create_post(session, town.urls, cara, board, "Budget", "The compost budget is tight")
        profile_post = await posts.create_post(session, town.urls, cara, None, "", "Composting in Paris")
        gone = await posts.create_post(session, town.urls, ann, makers, "Old compost", "deleted soon")
        await post_edits.delete_post(session, town.urls, ann, gone.uri)

    anonymous = await search_all(town, "compost")
    assert [p.id for p in anonymous.posts.items] == [public.uri, profile_post.uri] or \
        {p.id for p in anonymous.posts.items} == {public.uri, profile_post.uri}
    assert anonymous.posts.items[0].id == public.uri  # the title counts more than the body
    member_view = await search_all(town, "compost", f"https://{HOST}/users/eve")
    assert {p.id for p in member_view.posts.items} == {public.uri, secret.uri, profile_post.uri}
    assert [g.handle for g in (await search_all(town, "board")).groups.items] == []  # private group
    assert [g.handle for g in (await search_all(town, "board", f"https://{HOST}/users/eve")).groups.items] == [
        f"board@{HOST}"
    ]
    assert [g.handle for g in anonymous.groups.items] == []
    assert [g.handle for g in (await search_all(town, "makers")).groups.items] == [f"makers@{HOST}"]

    async with town.sessions.begin() as session:
        await post_edits.update_post(session, town.urls, ann, public.uri, "Now about mulch")
    assert {p.id for p in (await search_all(town, "mulch")).posts.items} == {public.uri}
    assert public.uri not in {p.id for p in (await search_all(town, "weekly")).posts.items}
    people = await search_all(town, "python carpentry")
    assert [p.handle for p in people.people.items] == [h("ann")]


async def test_profile_changes_are_sent_where_the_person_is_known(services: Services) -> None:
    async with services.sessions.begin() as session:
        def remote(name: str, host: str, kind: str = "Person", shared: bool = True) -> RemoteActor:
            return RemoteActor(uri=f"https://{host}/u/{name}", actor_type=kind, username=name, domain=host,
                               inbox=f"https://{host}/u/{name}/inbox",
                               shared_inbox=f"https://{host}/inbox" if shared else None)
        follower, lemmy_group, other_member = remote("f", "a.example"), remote("g", "l.example", "Group"), \
            remote("m", "c.example", shared=False)
        session.add_all([follower, lemmy_group, other_member])
        await session.flush()
        ann = await local.create_person(session, local.NewPerson("ann", "a long enough password"))
        makers = await local.create_group(session, local.NewGroup("makers", owner="ann"))
        session.add(Membership(group_id=makers.id, remote_actor_id=other_member.id, role="member"))
        session.add(Follow(follower_uri=follower.uri, followee_uri=services.urls.person("ann"), state="accepted"))
        session.add(Follow(follower_uri=services.urls.person("ann"), followee_uri=lemmy_group.uri, state="accepted"))
    async with services.sessions.begin() as session:
        activity = await profile_services.save_profile(
            session, services.urls, ann.id, ProfileChange(skills="welding", **at(PARIS, "city", "Paris"))
        )
    async with services.sessions() as session:
        update_row = await session.scalar(select(Activity).where(Activity.type == "Update"))
        inboxes = set(await session.scalars(select(Delivery.inbox).where(Delivery.activity_id == update_row.id)))
    assert activity is not None
    assert inboxes == {"https://a.example/inbox", "https://l.example/inbox", "https://c.example/u/m/inbox"}
    sent = update_row.document
    assert sent["object"]["id"] == services.urls.person("ann") and sent["object"]["skills"] == ["welding"]
    assert sent["object"]["location"]["latitude"] == 48.9 and "@context" in sent


async def test_profile_rows_follow_the_actor(services: Services) -> None:
    await member(services, "ann", skills="python")
    await store_remote(services, mastodon_actor())
    await index.sync(services.sessions, services.urls)
    async with services.sessions.begin() as session:
        assert await session.scalar(select(Profile.id).where(Profile.username == "ann")) is not None
        await session.execute(RemoteActor.__table__.delete())
        await session.execute(LocalActor.__table__.delete().where(LocalActor.username == "ann"))
    await index.sync(services.sessions, services.urls)
    async with services.sessions() as session:
        assert list(await session.scalars(select(Profile.actor_uri))) == []
    assert await names(services, skill="python") == []
    assert people_documents.profile_page(None).empty
