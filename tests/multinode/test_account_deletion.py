"""Two real nodes: a member of B who is known on A (followed by one of A's people, a member of one of A's
groups, with a post there and a findable profile) deletes their account on B. B's own `madeopen run`
delivers ``Delete{Person}``, signed by the member; A verifies it with the key it cached (B answers 410 for
the actor by then), and drops everything of the person: the follow, the membership, the post, and the
profile from its people finder and search.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from sqlalchemy import select

from actors import local
from actors.account_deletion import OwnDeletion
from actors.node_settings import InvalidFields
from inbox_outbox.services import account_deletion, membership
from inbox_outbox.services import profiles as profile_services
from inbox_outbox.services.account_deletion import DeletedContent
from people.profiles import ProfileChange
from storage.models import Follow, Membership, Profile, RemoteActor
from tests.multinode.conftest import Databases, no_tracebacks, removed_on
from tests.support.cluster import PASSWORD, RunningNode, eventually, http_get, running_nodes


async def _api(node: RunningNode, path: str, **params: Any) -> Any:
    async with aiohttp.ClientSession() as session, session.get(f"{node.base_url}{path}?{urlencode(params)}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _known_on(node: RunningNode, handle: str) -> list[str]:
    """Where ``node`` still shows ``handle``: its people finder, and its search (people and posts)."""
    found = []
    people = await _api(node, "/api/people", skill="shipwright")
    if handle in [p["handle"] for p in people["people"]]:
        found.append("finder")
    search = await _api(node, "/api/search", q="shipwright")
    if search["people"]["items"]:
        found.append("search: people")
    if (await _api(node, "/api/search", q="schooners"))["posts"]["items"]:
        found.append("search: posts")
    return found


async def test_a_deleted_member_vanishes_from_the_node_that_knew_them(databases: Databases, tmp_path) -> None:
    a_url, b_url = await databases.postgresql_or_sqlite(), await databases.sqlite()
    async with running_nodes([a_url, b_url], tmp_path) as (a, b):
        await a.create_person("alex")
        await a.create_group("harbour", owner="alex")
        await b.create_person("mira")
        async with b.services.sessions.begin() as session:
            mira = await local.find_person(session, "mira")
            await profile_services.save_profile(
                session, b.services.urls, mira.id, ProfileChange(headline="Shipwright", skills="shipwright")
            )
        mira_uri, handle = b.user("mira"), b.handle("mira")

        # A comes to know mira: alex follows her, she joins A's group and writes there.
        await membership.follow_actor(a.fed, "alex", handle)
        await eventually(lambda: a.follow_state("alex", mira_uri), equals="accepted", what="B accepting alex")
        await b.join("mira", a.handle("harbour"))
        await eventually(lambda: b.follow_state("mira", a.group("harbour")), equals="accepted", what="mira joining")
        post = await b.write_post("mira", a.group("harbour"), "Schooners", "Who restores schooners?")
        await eventually(lambda: a.post(post), what="mira's post reaching A")
        await eventually(lambda: _known_on(a, handle), equals=["finder", "search: people", "search: posts"],
                         what="A indexing mira")

        # A wrong password changes nothing anywhere.
        async with b.services.sessions() as session:
            mira_id = (await local.find_person(session, "mira")).id
        with pytest.raises(InvalidFields, match="not your password"):
            async with b.services.sessions.begin() as session:
                await account_deletion.delete_own_account(
                    session, b.services.urls, mira_id, OwnDeletion("wrong password", True), DeletedContent.REMOVE
                )
        assert (await http_get(mira_uri))[0] == 200

        async with b.services.sessions.begin() as session:
            await account_deletion.delete_own_account(
                session, b.services.urls, mira_id, OwnDeletion(PASSWORD, True), DeletedContent.REMOVE
            )
        status, tombstone = await http_get(mira_uri)
        assert status == 410 and tombstone["type"] == "Tombstone"

        await eventually(lambda: _known_on(a, handle), equals=[], what="A dropping mira from its finder and search")
        assert await a.follow_state("alex", mira_uri) is None
        remote = await a.scalar(select(RemoteActor).where(RemoteActor.uri == mira_uri))
        assert remote is not None  # A still knows the id (and refuses it a second life)...
        assert await a.scalar(select(Membership).where(Membership.remote_actor_id == remote.id)) is None
        assert await a.scalar(select(Profile).where(Profile.actor_uri == mira_uri)) is None
        assert await a.scalar(select(Follow).where(Follow.follower_uri == mira_uri)) is None
        assert await removed_on(a, post) is not None  # ...and her post there is a tombstone
        no_tracebacks(tmp_path)
