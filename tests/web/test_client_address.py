"""The client address behind a reverse proxy (web/client_address.py, MADEOPEN_TRUSTED_PROXIES): a forged
X-Forwarded-For never picks the address a limit counts, and two visitors behind the nginx site are two
addresses to the log-in limit, each still held to it."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientResponse
from sqlalchemy import select

from actors import login_limits
from madeopen.app import Services
from storage.models import LoginAttempt, utcnow
from tests.support.web_ui import HTML, PASSWORD, UI, create_person, make_ui
from web.client_address import forwarded_client

NGINX = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128"))
CHAIN = (*NGINX, ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48"))


@pytest.mark.parametrize(
    ("peer", "header", "trusted", "client"),
    [
        # No trusted proxies (the default): the header is never read.
        ("127.0.0.1", ["203.0.113.5"], (), "127.0.0.1"),
        # A header from a peer that is no trusted proxy is the sender's own invention.
        ("198.51.100.9", ["203.0.113.5"], NGINX, "198.51.100.9"),
        ("198.51.100.9", ["127.0.0.1"], NGINX, "198.51.100.9"),
        # Behind nginx: the entry nginx appended, not the one the visitor put in front of it.
        ("127.0.0.1", ["203.0.113.5"], NGINX, "203.0.113.5"),
        ("127.0.0.1", ["1.2.3.4, 203.0.113.5"], NGINX, "203.0.113.5"),
        ("127.0.0.1", ["127.0.0.1, 203.0.113.5"], NGINX, "203.0.113.5"),
        # A chain of proxies: trusted hops skipped from the right, the first untrusted one is the client.
        ("127.0.0.1", ["1.2.3.4, 203.0.113.5, 10.1.2.3, 10.0.0.1"], CHAIN, "203.0.113.5"),
        ("10.0.0.7", ["203.0.113.5,10.0.0.1"], CHAIN, "203.0.113.5"),
        ("127.0.0.1", ["1.2.3.4", "203.0.113.5", "10.0.0.1"], CHAIN, "203.0.113.5"),  # several header lines
        ("127.0.0.1", ["10.0.0.2, 10.0.0.1"], CHAIN, "10.0.0.2"),  # all trusted: the left-most hop
        # IPv6: peers, entries, trusted blocks; IPv4-mapped addresses are their IPv4 address.
        ("::1", ["2001:db8:1:2::7"], NGINX, "2001:db8:1:2::7"),
        ("::1", ["2001:db8:1:2::7, 2001:db8:ffff:1::1"], CHAIN, "2001:db8:1:2::7"),
        ("::ffff:127.0.0.1", ["203.0.113.5"], NGINX, "203.0.113.5"),
        ("127.0.0.1", ["::ffff:203.0.113.5"], NGINX, "203.0.113.5"),
        ("2001:db8::9", ["203.0.113.5"], NGINX, "2001:db8::9"),
        # No header, or one that cannot be believed: the socket peer.
        ("127.0.0.1", [], NGINX, "127.0.0.1"),
        ("127.0.0.1", [""], NGINX, "127.0.0.1"),
        ("127.0.0.1", ["unknown"], NGINX, "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.5:4711"], NGINX, "127.0.0.1"),
        ("127.0.0.1", ["[2001:db8::7]"], NGINX, "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.5, "], NGINX, "127.0.0.1"),
        ("127.0.0.1", ["203.0.113.5, not-an-address, 10.0.0.1"], CHAIN, "127.0.0.1"),
        ("127.0.0.1", ["999.1.1.1"], NGINX, "127.0.0.1"),
        # Garbage the visitor wrote left of nginx's entry is never reached.
        ("127.0.0.1", ["<script>, 203.0.113.5"], NGINX, "203.0.113.5"),
        # A peer that is no IP address (a Unix socket) or none at all.
        ("", ["203.0.113.5"], NGINX, ""),
        (None, ["203.0.113.5"], NGINX, None),
    ],
)
def test_forwarded_client(peer: str | None, header: list[str], trusted: tuple, client: str | None) -> None:
    assert forwarded_client(peer, header, trusted) == client


# --- through the log-in form ---------------------------------------------------------------------------------

VISITOR_A, VISITOR_B = "203.0.113.5", "198.51.100.7"


async def _seed_failures(services: Services, address: str, count: int) -> None:
    async with services.sessions.begin() as session:
        session.add_all(
            LoginAttempt(account_key=login_limits.account_key(f"guess{n}"), address=address, attempted_at=utcnow())
            for n in range(count)
        )


async def _log_in_via_proxy(ui: UI, forwarded_for: str, password: str = PASSWORD) -> ClientResponse:
    """The form posted as nginx passes it on: the test client (127.0.0.1) is the proxy."""
    fields = {"username": "cleo", "password": password, "csrf_token": await ui.token()}
    headers = {"Accept": HTML, "X-Forwarded-For": f"192.0.2.66, {forwarded_for}"}  # the left one is forged
    return await ui.client.post("/login", data=fields, headers=headers, allow_redirects=False)


@contextlib.asynccontextmanager
async def _ui_behind(services: Services, trusted: str) -> AsyncIterator[UI]:
    """A visitor on a node whose MADEOPEN_TRUSTED_PROXIES is ``trusted``."""
    services.settings = dataclasses.replace(services.settings, trusted_proxies=(ipaddress.ip_network(trusted),))
    async for ui in make_ui(services):
        yield ui


async def test_visitors_behind_the_proxy_are_limited_separately(services: Services) -> None:
    await create_person(services, "cleo")
    async with _ui_behind(services, "127.0.0.1") as ui:
        # Visitor A has used up the per-address limit: A is held back ...
        await _seed_failures(services, VISITOR_A, login_limits.LIMITS.per_address)
        assert (await _log_in_via_proxy(ui, VISITOR_A)).status == 429
        # ... and B, through the same proxy, is not: the password is checked (and is wrong).
        await _seed_failures(services, VISITOR_B, login_limits.LIMITS.per_address - 1)
        assert (await _log_in_via_proxy(ui, VISITOR_B, "wrong password")).status == 400
        # That failure counted for B, which is now at the limit too: even the right password waits.
        assert (await _log_in_via_proxy(ui, VISITOR_B)).status == 429
        async with services.sessions() as session:
            addresses = set(await session.scalars(select(LoginAttempt.address)))
        assert addresses == {VISITOR_A, VISITOR_B}  # neither the proxy nor the forged entry


async def test_the_header_is_ignored_when_the_peer_is_no_trusted_proxy(services: Services) -> None:
    await create_person(services, "cleo")
    async with _ui_behind(services, "10.0.0.1") as ui:  # some other proxy; the test client is not it
        await _seed_failures(services, "127.0.0.1", login_limits.LIMITS.per_address)
        assert (await _log_in_via_proxy(ui, VISITOR_A)).status == 429  # counted as 127.0.0.1, not as A
