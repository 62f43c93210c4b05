"""Driving the HTML pages like a browser does (without one): cookies, CSRF tokens, forms, images."""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse, CookieJar, FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from actors import local
from madeopen.app import Services, build_web_app
from storage.models import LocalActor, Membership

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PASSWORD = "correct horse battery"
_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


class UI:
    """One visitor: a cookie jar (Secure cookies too: the test server is treated as a secure origin)."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.client.get(path, headers={"Accept": HTML}, allow_redirects=False, **kwargs)

    async def page(self, path: str, status: int = 200) -> str:
        response = await self.get(path)
        text = await response.text()
        assert response.status == status, f"GET {path}: {response.status}\n{text[:2000]}"
        return text

    async def token(self, path: str = "/login") -> str:
        """The session's CSRF token, as found in a form on ``path``."""
        response = await self.get(path)
        if response.status == 303:  # e.g. /login for someone logged in: any page with a form will do
            response = await self.get("/settings/profile")
        found = _TOKEN_RE.search(await response.text())
        assert found, f"no csrf_token in the form on {path}"
        return html.unescape(found.group(1))

    async def post(
        self, path: str, fields: dict[str, str], *, files: dict[str, tuple[str, bytes, str]] | None = None,
        token: str | None = None, with_token: bool = True, form_page: str = "/login",
    ) -> ClientResponse:
        data: dict[str, str] | FormData
        fields = dict(fields)
        if with_token:
            fields["csrf_token"] = token if token is not None else await self.token(form_page)
        if files:
            data = FormData()
            for name, value in fields.items():
                data.add_field(name, value)
            for name, (filename, content, content_type) in files.items():
                data.add_field(name, content, filename=filename, content_type=content_type)
        else:
            data = fields
        return await self.client.post(path, data=data, headers={"Accept": HTML}, allow_redirects=False)

    async def branding(self, page: str) -> str:
        """The branding stylesheet ``page`` links (the accent colours; no inline style under the CSP)."""
        found = re.search(r'<link rel="stylesheet" href="(/branding\.css\?v=[0-9a-f]+)">', page)
        assert found, "the page links no branding stylesheet"
        response = await self.client.get(html.unescape(found.group(1)))
        assert response.status == 200 and response.content_type == "text/css"
        return await response.text()

    async def log_in(self, username: str, password: str = PASSWORD) -> ClientResponse:
        response = await self.post("/login", {"username": username, "password": password})
        assert response.status == 303, await response.text()
        return response

    async def logged_in_as(self) -> str | None:
        """Who the header says is logged in (None: nobody)."""
        response = await self.get("/settings/profile")
        if response.status == 303:
            return None
        text = await response.text()
        found = re.search(r'<a href="[^"]*/users/([a-z0-9_]+)"', text)
        return found.group(1) if found else None


async def make_ui(services: Services) -> AsyncIterator[UI]:
    server = TestServer(build_web_app(services))
    await server.start_server()
    # The node runs as https (Secure cookies); the test server is plain http on loopback.
    jar = CookieJar(unsafe=True, treat_as_secure_origin=[server.make_url("/")])
    async with TestClient(server, cookie_jar=jar) as client:
        yield UI(client)


@pytest.fixture
async def ui(services: Services) -> AsyncIterator[UI]:
    async for value in make_ui(services):
        yield value


@pytest.fixture
async def second_ui(services: Services) -> AsyncIterator[UI]:
    """Another visitor (another browser) on the same node."""
    async for value in make_ui(services):
        yield value


async def create_person(services: Services, username: str, *, admin: bool = False, password: str = PASSWORD) -> int:
    async with services.sessions.begin() as session:
        actor = await local.create_person(
            session, local.NewPerson(username=username, password=password, is_admin=admin)
        )
        return actor.id


async def person(services: Services, username: str) -> LocalActor | None:
    async with services.sessions() as session:
        return await session.scalar(select(LocalActor).where(LocalActor.username == username))


async def garden_with_member(services: Services) -> None:
    """ada and bea; the group garden ("Community Garden") owned by ada, with bea a member."""
    for name in ("ada", "bea"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="garden", owner="ada", title="Community Garden"))
        group = await local.find_group(session, "garden")
        bea = await local.find_person(session, "bea")
        session.add(Membership(group_id=group.id, local_actor_id=bea.id, role="member", state="accepted"))


async def shop_with_team(services: Services) -> None:
    """The web tests' usual cast: ada, erin and sam; the group shop ("The Shop") owned by ada, with erin a
    member and sam on its staff."""
    for name in ("ada", "erin", "sam"):
        await create_person(services, name)
    async with services.sessions.begin() as session:
        await local.create_group(session, local.NewGroup(username="shop", owner="ada", title="The Shop"))
        group = await local.find_group(session, "shop")
        for name, role in (("erin", "member"), ("sam", "staff")):
            who = await local.find_person(session, name)
            session.add(Membership(group_id=group.id, local_actor_id=who.id, role=role, state="accepted"))
