"""Edits, deletes and private posts reach members of both server families (issue #10, items 2 and 3).

Real `madeopen run` nodes: A hosts the groups, B is another Made Open node whose member reads the
group's FEP-1b12 Announces (the Lemmy family: ``Announce{Update}``/``Announce{Delete}`` understood).
Beside them a bare peer on loopback plays a Mastodon-family server (GoToSocial-like: signed GETs only):
it drops announced activities, takes an Update or Delete only when the post's author signs it, and shows
a non-public post only to the accounts it names (tests.support.peer ``mastodon_shows``/``from_author``).
A second bare peer holds a person whose request to join the private group is still pending.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import select

from actors import local
from inbox_outbox.services import membership, moderation, post_edits
from storage.models import Notification
from tests.multinode.conftest import Databases, no_tracebacks, removed_on
from tests.support.cluster import RunningNode, eventually, http_get, running_nodes
from tests.support.peer import InboxDelivery, Peer, from_author, mastodon_shows
from tests.support.peer_actor import AS2_CONTEXT, PeerActor


@asynccontextmanager
async def _mastodon_like(*nodes: RunningNode) -> AsyncIterator[Peer]:
    async with Peer(require_signed_gets=True) as peer:
        for node in nodes:
            peer.route_origin(node.base_url, node.base_url)  # it checks our signatures with our keys
        yield peer


async def _join(peer: Peer, person: PeerActor, group_uri: str) -> None:
    follow = {"@context": AS2_CONTEXT, "id": f"{person.id}/follows/{uuid.uuid4().hex}", "type": "Follow",
              "actor": person.id, "object": group_uri}
    status, text = await peer.deliver(person, f"{group_uri}/inbox", follow)
    assert status == 202, text


async def _arrived(peer: Peer, kind: str, about: str) -> list[InboxDelivery]:
    """Deliveries of ``kind`` about the post ``about`` (embedded or named), in arrival order."""
    found = []
    for delivery in peer.inbox:
        activity = delivery.activity
        inner = activity.get("object")
        if activity.get("type") == kind and about in (inner, inner.get("id") if isinstance(inner, dict) else None):
            found.append(delivery)
    return found


async def _edit(node: RunningNode, author: str, uri: str, body: str) -> None:
    async with node.services.sessions.begin() as session:
        person = await local.find_person(session, author)
        await post_edits.update_post(session, node.services.urls, person, uri, body)


async def _delete(node: RunningNode, actor: str, uri: str) -> None:
    async with node.services.sessions.begin() as session:
        person = await local.find_person(session, actor)
        await post_edits.delete_post(session, node.services.urls, person, uri)


async def _content(node: RunningNode, uri: str) -> str | None:
    obj = await node.post(uri)
    return obj.content if obj is not None else None


async def test_public_group_edits_and_deletes_reach_both_families(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), _mastodon_like(a) as mastodon:
        mona = mastodon.add_actor("mona", name="Mona")
        await a.create_person("owner")
        await a.create_person("dave")
        await a.create_group("commons", owner="owner")
        await b.create_person("bea")
        commons = a.group("commons")
        await b.join("bea", a.handle("commons"))
        await _join(mastodon, mona, commons)
        await eventually(lambda: b.follow_state("bea", commons), equals="accepted", what="bea in")
        await eventually(lambda: a.member_state("commons", mona.id), equals="accepted", what="mona in")
        assert await membership.join_group(a.fed, "dave", "commons") == "accepted"

        post = await a.write_post("owner", commons, "Swap day", "Saturday, 10:00.")
        await eventually(lambda: b.post(post), what="the post reaching B")
        [boost] = await eventually(lambda: _boosts(mastodon, post), what="the group's boost reaching mona")
        assert boost.verified and boost.activity["actor"] == commons  # a boost of a public post: shown
        status, document = await http_get(post, signer=None)
        assert status == 200 and mastodon_shows(document, mona.id)

        # The author edits: B takes the group's Announce{Update}; mona's server gets alice's own Update.
        await _edit(a, "owner", post, "Saturday, **11:00**.")
        await eventually(lambda: _content(b, post), equals="<p>Saturday, <strong>11:00</strong>.</p>",
                         what="the edit reaching B")
        [edit] = await eventually(lambda: _arrived(mastodon, "Update", post), what="the author's Update at mona's")
        assert from_author(edit, a.user("owner")) and "11:00" in edit.activity["object"]["content"]
        announced = [d for d in mastodon.inbox if d.activity.get("type") == "Announce"
                     and isinstance(d.activity.get("object"), dict) and d.activity["object"].get("type") == "Update"]
        assert announced and not from_author(announced[0], a.user("owner"))  # what Mastodon would drop

        # The author deletes: a tombstone on B; mona's server gets the author's own Delete, once.
        await _delete(a, "owner", post)
        await eventually(lambda: removed_on(b, post), what="the delete reaching B")
        [gone] = await eventually(lambda: _arrived(mastodon, "Delete", post), what="the author's Delete at mona's")
        assert from_author(gone, a.user("owner"))

        # A moderator removes dave's post: Mastodon takes a Delete only from dave, so dave's actor says it.
        spam = await a.write_post("dave", commons, "Cheap seeds", "Buy now")
        await eventually(lambda: _boosts(mastodon, spam), what="dave's post reaching mona")
        await moderation.remove_group_post(a.fed, "commons", spam, moderator="owner", reason="spam")
        await eventually(lambda: removed_on(b, spam), what="the removal reaching B")
        removals = await eventually(lambda: _arrived(mastodon, "Delete", spam), what="a Delete of dave's post")
        assert any(from_author(d, a.user("dave")) for d in removals)

        # ...and bea's (on B): only her server may delete it for mona's, but the group takes its boost back.
        offtopic = await b.write_post("bea", commons, "Off topic", "Cats!")
        [boosted] = await eventually(lambda: _boosts(mastodon, offtopic), what="bea's post boosted to mona")
        await moderation.remove_group_post(a.fed, "commons", offtopic, moderator="owner", reason="off topic")
        [undo] = await eventually(lambda: _undone(mastodon, boosted), what="the group undoing its boost")
        assert from_author(undo, commons)  # the booster itself takes it back
        assert not [d for d in await _arrived(mastodon, "Delete", offtopic) if from_author(d, b.user("bea"))]
    no_tracebacks(tmp_path)


async def test_private_group_posts_reach_mastodon_members_named_and_nobody_else(
    databases: Databases, tmp_path: Path
) -> None:
    urls = [await databases.sqlite(), await databases.postgresql_or_sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), _mastodon_like(a) as mastodon, _mastodon_like(a) as outsiders:
        mona = mastodon.add_actor("mona", name="Mona")
        nina = outsiders.add_actor("nina", name="Nina")
        await a.create_person("owner")
        await a.create_group("backroom", owner="owner", private=True)
        await b.create_person("bea")
        backroom = a.group("backroom")
        await b.join("bea", a.handle("backroom"))
        await _join(mastodon, mona, backroom)
        await _join(outsiders, nina, backroom)
        for who in (b.user("bea"), mona.id, nina.id):
            await eventually(lambda: a.member_state("backroom", who), equals="pending", what=f"{who} asking")
        for who in (b.user("bea"), mona.id):  # nina's request stays pending
            approved = await asyncio.to_thread(a.node.cli, "group", "approve", "backroom", who)
            assert approved.returncode == 0, approved.stderr
        await eventually(lambda: b.follow_state("bea", backroom), equals="accepted", what="bea approved")
        await eventually(lambda: _accepted(mastodon, mona), what="the Accept reaching mona")

        owner = a.user("owner")
        plans = await a.write_post("owner", backroom, "Plans", "The **secret** plans.")
        # B (Made Open) takes the group's relay (or the copy for bea, the same signed post): private.
        on_b = await eventually(lambda: b.post(plans), what="the post reaching B")
        assert on_b.audience_uri == backroom and not on_b.public and "<strong>secret</strong>" in on_b.content
        # A copy names bea silently (a Mention tag, no @bea in the text): no "mentioned you" on B.
        assert await b.scalars(select(Notification.kind).where(Notification.object_uri == plans)) == []
        # mona's server gets a copy from the author, naming mona, which it shows her (and her only).
        [copy] = await eventually(lambda: _arrived(mastodon, "Create", plans), what="the copy for mona")
        assert from_author(copy, owner)
        named = copy.activity["object"]
        assert mastodon_shows(named, mona.id) and not mastodon_shows(named, nina.id)
        assert not mastodon_shows(named, b.user("bea"))  # mona's server learns nothing of B's members
        # The object as the group relays it and as its URL serves it names no one Mastodon knows.
        status, served = await http_get(plans, signer=await b.signer("bea"))  # a member reads it
        assert status == 200 and not mastodon_shows(served, mona.id)

        # Edits reach her the same way; deletes come from the author.
        await _edit(a, "owner", plans, "The *new* plans.")
        await eventually(lambda: _content(b, plans), equals="<p>The <em>new</em> plans.</p>", what="edit on B")
        [edit] = await eventually(lambda: _arrived(mastodon, "Update", plans), what="the edit for mona")
        assert from_author(edit, owner) and mastodon_shows(edit.activity["object"], mona.id)
        await _delete(a, "owner", plans)
        await eventually(lambda: removed_on(b, plans), what="the delete on B")
        [gone] = await eventually(lambda: _arrived(mastodon, "Delete", plans), what="the delete for mona")
        assert from_author(gone, owner)

        # nina (pending) saw nothing: no delivery, no fetch, no search.
        news = await a.write_post("owner", backroom, "Budget", "Numbers only members see.")
        await eventually(lambda: _arrived(mastodon, "Create", news), what="the next post for mona")
        assert [d.activity["type"] for d in outsiders.inbox] == []
        for url in (news, f"{news}/replies?page=1", await a.create_of(news)):
            status, _ = await outsiders.fetch(url, actor=nina)
            assert status == 404, url
        status, found = await http_get(f"{a.base_url}/api/search?q=Numbers", accept="application/json")
        assert status == 200 and found["posts"]["total"] == 0
    no_tracebacks(tmp_path)


async def _boosts(peer: Peer, post: str) -> list[InboxDelivery]:
    return [d for d in peer.inbox if d.activity.get("type") == "Announce" and d.activity.get("object") == post]


async def _undone(peer: Peer, boost: InboxDelivery) -> list[InboxDelivery]:
    return [d for d in peer.inbox if d.activity.get("type") == "Undo"
            and isinstance(d.activity.get("object"), dict) and d.activity["object"].get("id") == boost.activity["id"]]


async def _accepted(peer: Peer, person: PeerActor) -> bool:
    return any(d.activity.get("type") == "Accept" and d.path == f"/users/{person.username}/inbox" for d in peer.inbox)
