"""Three real nodes on loopback: people on B and C take part in groups hosted on A (FEP-1b12).

Every action goes through the service functions the web UI and the CLI call, on the node where the
person lives (tests.support.cluster.RunningNode); the nodes' own `madeopen run` processes deliver,
receive and announce. Assertions read each node's database (what its pages show) or fetch over HTTP
as a peer would.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from actors.errors import Forbidden
from inbox_outbox.services import membership, moderation
from storage.models import Activity, InboundActivity, Object
from tests.multinode.conftest import Databases, no_tracebacks, removed_on
from tests.support.cluster import RunningNode, eventually, http_get, running_nodes

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def test_public_group_thread_moderation_and_ban_across_three_nodes(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite(), await databases.postgresql_or_sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b, c):
        await a.create_person("owner")
        await a.create_group("commons", owner="owner")
        await b.create_person("bea")
        await c.create_person("cai")
        commons = a.group("commons")
        bea, cai = b.user("bea"), c.user("cai")

        # B and C join A's public group: Follow -> Accept, and A lists them as members.
        await b.join("bea", a.handle("commons"))
        await c.join("cai", f"!commons@{a.domain}")  # the Lemmy-style handle works too
        for node, person in ((b, "bea"), (c, "cai")):
            await eventually(lambda: node.follow_state(person, commons), equals="accepted", what=f"{person} in")
        assert await a.member_state("commons", bea) == "accepted"
        assert await a.member_state("commons", cai) == "accepted"
        status, followers = await http_get(f"{commons}/followers?page=1")
        assert status == 200 and set(followers["orderedItems"]) == {a.user("owner"), bea, cai}

        # bea (on B) posts into the group: A takes it in and announces it; C stores it as the group's.
        post = await b.write_post("bea", commons, "Seed swap", "Who has **tomato** seeds?")
        on_c = await eventually(lambda: c.post(post), what="bea's post reaching C")
        assert on_c.audience_uri == commons and on_c.name == "Seed swap" and "<strong>tomato</strong>" in on_c.content
        on_a = await a.post(post)
        assert on_a is not None and on_a.group_id is not None and not on_a.local
        relayed = [document["id"] for document in await a.announces("commons", post)]
        assert len(relayed) == 2  # Announce{Create}, and Announce{id} for Mastodon-family members
        received = await c.scalars(select(InboundActivity.activity_id).where(InboundActivity.actor_uri == commons))
        assert set(relayed) <= set(received)

        # cai (on C) replies and likes; A relays both; B, the author's node, gets both through the group.
        reply = await c.reply("cai", post, "I do, @bea: cherry ones.")
        vote = await c.like("cai", post)
        on_b = await eventually(lambda: _with_reply_and_vote(b, post, reply), what="the reply and vote on B")
        assert on_b.like_count == 1 and on_b.reply_count == 1
        reply_on_b = await b.post(reply)
        assert reply_on_b is not None and reply_on_b.in_reply_to_uri == post and reply_on_b.audience_uri == commons

        # A's thread has all of it: the post, the reply, the vote, and the group's announces of each.
        await eventually(lambda: _with_reply_and_vote(a, post, reply), what="the reply and vote on A")
        thread = await a.scalars(select(Object.uri).where(Object.context_uri == post).order_by(Object.id))
        assert thread == [post, reply]
        status, outbox = await http_get(f"{commons}/outbox?page=1")
        assert status == 200
        announced = {_id(item["object"]) for item in outbox["orderedItems"]}
        assert {post, await b.create_of(post), await c.create_of(reply), vote} <= announced
        # ...and so does the post's context collection on B, where the post lives.
        status, context = await http_get(f"{post}/context?page=1")
        assert status == 200 and context["orderedItems"] == [post, reply]

        # A moderator on A removes bea's post: a tombstone on A, on C, and on B where it was written.
        await moderation.remove_group_post(a.fed, "commons", post, moderator="owner", reason="off topic")
        for node in (a, b, c):
            gone = await eventually(lambda: removed_on(node, post), what=f"the removal reaching {node.domain}")
            assert gone.content == "" and gone.name == ""
        status, _ = await http_get(post)
        assert status == 410  # B answers for the post with a Tombstone from now on

        # ...and bans bea: B learns it (her follow of the group is marked banned)...
        await membership.ban(a.fed, "commons", b.handle("bea"), moderator="owner")
        await eventually(lambda: b.follow_state("bea", commons), equals="banned", what="the ban reaching B")
        assert await a.member_state("commons", bea) == "banned"

        # ...and refuses her next post: never stored in the group, never announced, never on C.
        later = await _post_despite_ban(b, "bea", commons)
        if later is not None:  # B sent it (it may also refuse at once: then there is nothing to send)
            create = await b.create_of(later)
            await eventually(lambda: _processed(a, create), equals="failed", what="A refusing bea's post")
            assert await a.post(later) is None
            assert await a.announces("commons", later) == []
            assert await c.post(later) is None

        # The group goes on for the others, and bea's node is sent none of it any more. A thread of A's
        # own shows in its context collection, with the reply from C.
        news = await a.write_post("owner", commons, "Swap day", "Saturday, 10:00.")
        await eventually(lambda: c.post(news), what="the owner's post reaching C")
        assert await a.announce_hosts("commons", news) == {c.domain}
        answer = await c.reply("cai", news, "See you there.")
        await eventually(lambda: a.post(answer), what="cai's reply reaching A")
        status, context = await http_get(f"{news}/context?page=1")
        assert status == 200 and context["orderedItems"] == [news, answer]
    no_tracebacks(tmp_path)


async def test_private_group_holds_joins_and_keeps_its_posts_among_members(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.sqlite(), await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b, c):
        await a.create_person("owner")
        await a.create_group("backroom", owner="owner", private=True)
        await b.create_person("bea")
        await c.create_person("cai")
        backroom = a.group("backroom")
        bea, cai = b.user("bea"), c.user("cai")

        # Both ask to join; A holds the requests: pending on both sides, no Accept queued.
        await b.join("bea", a.handle("backroom"))
        await c.join("cai", a.handle("backroom"))
        for person in (bea, cai):
            await eventually(lambda: a.member_state("backroom", person), equals="pending", what="a held request")
        assert await a.scalars(select(Activity.uri).where(Activity.type == "Accept")) == []
        assert await b.follow_state("bea", backroom) == "pending"
        before = await a.write_post("owner", backroom, "Before anyone", "Only the owner is here.")
        assert await a.announce_hosts("backroom", before) == set()

        # The operator approves bea with the CLI on A; B learns it from the Accept. cai stays outside.
        approved = await asyncio.to_thread(a.node.cli, "group", "approve", "backroom", b.handle("bea"))
        assert approved.returncode == 0, approved.stderr
        await eventually(lambda: b.follow_state("bea", backroom), equals="accepted", what="the Accept reaching B")
        assert await a.member_state("backroom", bea) == "accepted"
        assert await a.member_state("backroom", cai) == "pending"

        # The owner's post goes to bea's node only, addressed to the members and never to Public.
        plans = await a.write_post("owner", backroom, "Plans", "The **secret** plans.")
        on_b = await eventually(lambda: b.post(plans), what="the owner's post reaching B")
        assert on_b.audience_uri == backroom and not on_b.public
        assert await a.announce_hosts("backroom", plans) == {b.domain}
        document = (await a.post(plans)).document
        assert PUBLIC not in document["to"] + document.get("cc", [])

        # bea posts from B: A takes it into the group; on B too it is no more public than the group.
        idea = await b.write_post("bea", backroom, "Idea", "What about Tuesdays?")
        on_a = await eventually(lambda: a.post(idea), what="bea's post reaching A")
        assert on_a.group_id is not None and not on_a.public
        assert not (await b.post(idea)).public
        assert await a.announce_hosts("backroom", idea) == {b.domain}  # relayed to the members' nodes only

        # Nothing of it reached C, whose request is still pending.
        for uri in (before, plans, idea):
            assert await c.post(uri) is None

        # Reading the owner's post on A: members only. Unsigned, signed by a non-member, or by the
        # non-member's server: the same 404 as for a post that never existed.
        for signer in (None, await c.signer("cai"), await c.signer("actor")):
            for url in (plans, f"{plans}/replies?page=1", f"{plans}/context?page=1", await a.create_of(plans)):
                status, _ = await http_get(url, signer=signer)
                assert status == 404, (url, signer and signer.key_id, status)
        status, page = await http_get(plans, accept="text/html")
        assert status == 404 and "secret" not in page
        status, document = await http_get(plans, signer=await b.signer("bea"))
        assert status == 200 and "<strong>secret</strong>" in document["content"]
        status, _ = await http_get(plans, signer=await b.signer("actor"))  # a member's server
        assert status == 200
        # bea's post, on B where it lives, is hidden the same way.
        for signer in (None, await c.signer("cai")):
            status, _ = await http_get(idea, signer=signer)
            assert status == 404, (idea, signer and signer.key_id, status)

        # The member list of a private group is nobody's business: only its size.
        for url in (f"{backroom}/followers", f"{backroom}/followers?page=1"):
            status, followers = await http_get(url, signer=await c.signer("cai"))
            assert status == 200 and followers["totalItems"] == 2
            assert not {"orderedItems", "items", "first"} & followers.keys()
        status, outbox = await http_get(f"{backroom}/outbox")
        assert status == 200 and "first" not in outbox
        status, _ = await http_get(f"{backroom}/outbox?page=1")
        assert status == 403

        # Rejecting cai with the CLI ends the request on C too.
        rejected = await asyncio.to_thread(a.node.cli, "group", "reject", "backroom", cai)
        assert rejected.returncode == 0, rejected.stderr
        await eventually(lambda: c.follow_state("cai", backroom), equals=None, what="the Reject reaching C")
        assert await a.member_state("backroom", cai) is None
    no_tracebacks(tmp_path)


async def _post_despite_ban(node: RunningNode, author: str, group_uri: str) -> str | None:
    """A banned member's server may refuse at once; if it sends anyway, the group must refuse it."""
    try:
        return await node.write_post(author, group_uri, "Back again", "Let me in.")
    except Forbidden:
        return None


async def _processed(node: RunningNode, activity_id: str) -> str | None:
    """How the node's inbound worker finished with an activity it received: done or failed."""
    state = await node.scalar(select(InboundActivity.state).where(InboundActivity.activity_id == activity_id))
    return state if state in ("done", "failed") else None


async def _with_reply_and_vote(node: RunningNode, post: str, reply: str) -> Object | None:
    obj = await node.post(post)
    if obj is None or obj.like_count != 1 or obj.reply_count != 1 or await node.post(reply) is None:
        return None
    return obj


def _id(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else value
