"""A node's workers start on what was just queued, not at their next poll (issue #13: latency).

Each node here polls its queues once an hour (``MADEOPEN_QUEUE_POLL_SECONDS``), after a first look at
start-up, so everything that reaches the peer below got there because queueing woke a worker
(storage/queue_signal.py): an inbox POST wakes the inbound worker, whose ``Accept`` wakes the delivery
worker; a profile saved through the web form wakes the delivery worker for its ``Update{Person}``. In
one `madeopen run` process (SQLite and PostgreSQL), and with the web role and a `madeopen worker` in
separate processes (PostgreSQL: LISTEN/NOTIFY).
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.multinode.conftest import Databases
from tests.support.cluster import PASSWORD, RunningNode, eventually, running_nodes, split_node
from tests.support.peer import Peer
from tests.support.peer_actor import AS2_CONTEXT

HOURLY = {"MADEOPEN_QUEUE_POLL_SECONDS": "3600"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@asynccontextmanager
async def hourly_node(databases: Databases, root: Path, roles: str) -> AsyncIterator[RunningNode]:
    if roles == "run on SQLite":
        async with running_nodes([await databases.sqlite()], root, env=HOURLY) as (node,):
            yield node
        return
    if not databases.has_postgres:
        pytest.skip("needs PostgreSQL (MADEOPEN_TEST_DATABASE_URL)")
    url = await databases.postgresql_or_sqlite()
    if roles == "run on PostgreSQL":
        async with running_nodes([url], root, env=HOURLY) as (node,):
            yield node
    else:
        async with split_node(url, root, env=HOURLY) as node:
            yield node


async def save_display_name(node: RunningNode, username: str, display_name: str) -> None:
    """Log in and save the profile form, as a person in a browser does."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address
    async with aiohttp.ClientSession(base_url=node.base_url, cookie_jar=jar) as browser:

        async def token(path: str) -> str:
            async with browser.get(path) as response:
                found = TOKEN.search(await response.text())
            assert found, f"no form on {path}"
            return html.unescape(found.group(1))

        login = {"username": username, "password": PASSWORD, "csrf_token": await token("/login")}
        async with browser.post("/login", data=login, allow_redirects=False) as response:
            assert response.status == 303, await response.text()
        form = {"display_name": display_name, "bio": "", "csrf_token": await token("/settings/profile")}
        async with browser.post("/settings/profile", data=form, allow_redirects=False) as response:
            assert response.status == 303, await response.text()


@pytest.mark.parametrize("roles", ["run on SQLite", "run on PostgreSQL", "web and worker on PostgreSQL"])
async def test_what_is_queued_goes_out_without_waiting_for_the_poll(
    databases: Databases, tmp_path: Path, roles: str
) -> None:
    async with Peer() as peer, hourly_node(databases, tmp_path, roles) as node:
        await node.create_person("ann")
        ann = node.user("ann")
        bob = peer.add_actor("bob")

        # An inbox POST (the web role queues it) -> the inbound worker -> an Accept queued -> the peer.
        follow = {"@context": AS2_CONTEXT, "id": f"{bob.id}#follow", "type": "Follow", "actor": bob.id, "object": ann}
        status, text = await peer.deliver(bob, f"{node.base_url}/users/ann/inbox", follow)
        assert status == 202, text

        async def accepted() -> bool:
            return any(d.activity.get("type") == "Accept" and d.activity.get("actor") == ann for d in peer.inbox)

        await eventually(accepted, what="the Accept of bob's Follow at the peer")

        # A web form (the web role queues the Update) -> the delivery worker -> the peer.
        await save_display_name(node, "ann", "Ann Awake")

        async def updated() -> bool:
            return any(
                d.activity.get("type") == "Update" and (d.activity.get("object") or {}).get("name") == "Ann Awake"
                for d in peer.inbox
            )

        await eventually(updated, what="ann's Update{Person} at the peer")
