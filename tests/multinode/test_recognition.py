"""Recognition across nodes (issue #17): bea, a member on node B of a group on node A, earns points
there (and thanks erin on A from B, with kudos) and the "First accepted answer" badge, which A publishes as ``Add{Award}`` and B shows on her
profile. A bare peer (not Made Open) gets the Award too, plus a readable mention Note only for the
member who opted in (``#BadgeNotes`` in the profile). Real `madeopen run` processes."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from sqlalchemy import select

from actors import local
from content.recognition.ledger import ledger
from inbox_outbox.services import board as board_services
from inbox_outbox.services import posts, recognition
from storage.models import BadgeAward, Membership, ReceivedBadge
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes
from tests.support.peer import Peer

AS2 = "https://www.w3.org/ns/activitystreams"


async def _page(node: RunningNode, path: str) -> str:
    async with aiohttp.ClientSession() as http, http.get(node.base_url + path, headers={"Accept": "text/html"}) as r:
        assert r.status == 200, path
        return await r.text()


async def _received(node: RunningNode) -> list[tuple[str, str]]:
    return [(row.name, row.group_uri) for row in await node.scalars(select(ReceivedBadge))]


async def test_a_remote_member_earns_points_and_a_badge_shown_on_their_node(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer() as peer:
        peer.route_origin(a.base_url, a.base_url)  # the peer checks A's signatures with A's keys
        for name in ("olga", "erin"):
            await a.create_person(name)
        await a.create_group("shop", owner="olga")
        shop = a.group("shop")
        async with a.services.sessions.begin() as session:
            group = await local.find_group(session, "shop")
            erin = await local.find_person(session, "erin")
            session.add(Membership(group_id=group.id, local_actor_id=erin.id, role="member", state="accepted"))
        await b.create_person("bea")
        await b.join("bea", a.handle("shop"))
        await eventually(lambda: b.follow_state("bea", shop), equals="accepted", what="bea in the shop")
        pat = peer.add_actor("pat", document_overrides={"tag": [{"type": "Hashtag", "name": "#BadgeNotes",
                                                                 "href": "https://example.org/tags/badgenotes"}]})
        quiet = peer.add_actor("quiet")
        for who in (pat, quiet):
            follow = {"@context": AS2, "id": f"{who.id}#follow", "type": "Follow", "actor": who.id, "object": shop}
            assert (await peer.deliver(who, f"{a.base_url}/inbox", follow))[0] == 202
            await eventually(lambda: a.member_state("shop", who.id), equals="accepted", what="a peer member")

        # erin (A) asks; bea (B) answers; erin accepts and gives kudos: bea earns 15 + 5 on A.
        async with a.services.sessions.begin() as session:
            erin = await local.find_person(session, "erin")
            group = await local.find_group(session, "shop")
            question = (await posts.create_post(session, a.services.urls, erin, group, "Opening hours?", "On Sundays?",
                                                "question")).uri
        await eventually(lambda: b.post(question), what="the question on B")
        answer = await b.reply("bea", question, "Ten to four.")
        await eventually(lambda: a.post(answer), what="bea's answer on A")
        async with a.services.sessions.begin() as session:
            erin = await local.find_person(session, "erin")
            assert await board_services.accept_answer(session, a.services.urls, erin, question, answer)
            await recognition.give_kudos(session, a.services.urls, erin, answer)
        async with a.services.sessions() as session:
            group = await local.find_group(session, "shop")
            assert (await ledger(session, a.services.urls, group.id)).total(b.user("bea")) == 20
        awarded = await a.scalars(select(BadgeAward.badge).where(BadgeAward.member_uri == b.user("bea")))
        assert awarded == ["first_answer"]
        assert "bea" in await _page(a, "/groups/shop")  # among the top helpers

        # bea thanks erin from B: a Like{kudos} to the group; A counts it as kudos, not a vote.
        async with b.services.sessions.begin() as session:
            bea = await local.find_person(session, "bea")
            assert await recognition.give_kudos(session, b.services.urls, bea, question) is None
        async def erins_points() -> int | None:
            async with a.services.sessions() as session:
                group = await local.find_group(session, "shop")
                return (await ledger(session, a.services.urls, group.id)).total(a.user("erin")) or None
        assert await eventually(erins_points, what="bea's kudos on A") == 5
        assert (await a.post(question)).like_count == 0

        # B keeps the Award A published and shows it on bea's profile.
        assert await eventually(lambda: _received(b), what="the Award on B") == [("First accepted answer", shop)]
        profile = await _page(b, "/users/bea")
        assert "First accepted answer" in profile and 'class="badge-list"' in profile

        # A manual badge for the peer members: both get the Award; only pat (opted in) a mention Note.
        async with a.services.sessions.begin() as session:
            olga = await local.find_person(session, "olga")
            group = await local.find_group(session, "shop")
            for who in (pat, quiet):
                await recognition.grant_badge(session, a.services.urls, olga, group, who.id, "Good neighbour",
                                              "Helped at the seed swap")
        def at_peer(kind: str, to: str) -> list[dict]:
            return [d.activity for d in peer.inbox if d.activity.get("type") == kind and to in d.activity.get("to", [])
                    and d.verified]
        adds = await eventually(lambda: _async(at_peer("Add", pat.id) + at_peer("Add", quiet.id)), what="the Awards")
        await eventually(lambda: _async(len(at_peer("Add", pat.id) + at_peer("Add", quiet.id)) == 2 or None),
                         what="both Awards")
        assert {add["object"]["recipient"] for add in adds} <= {pat.id, quiet.id}
        assert adds[0]["object"]["type"] == "Award" and adds[0]["object"]["achievement"]["type"] == "Achievement"
        notes = await eventually(lambda: _async(at_peer("Create", pat.id)), what="pat's mention Note")
        assert "You earned the badge “Good neighbour”" in notes[0]["object"]["content"]
        assert notes[0]["object"]["tag"][0]["href"] == pat.id
        assert at_peer("Create", quiet.id) == []  # not opted in: the Award only
    no_tracebacks(tmp_path)


async def _async(value):  # type: ignore[no-untyped-def]
    return value or None
