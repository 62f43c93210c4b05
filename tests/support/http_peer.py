"""A peer for the outbound federation client's tests (tests/federation/test_http.py): a real aiohttp server
on loopback whose routes answer the ways peers do (documents of every content type, redirects, oversized
and malformed bodies, ids that do not match) and record what they received; a signer that names itself in a
header; a resolver from a fixed table.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from federation.http import FederationClient
from federation.responses import ACTIVITY_CONTENT_TYPE

AS = "https://www.w3.org/ns/activitystreams"
LD_AS = f'application/ld+json; profile="{AS}"'
USER_AGENT = "MadeOpen/0.1.0 (+https://node.test)"
MIB = 1024 * 1024


@dataclass
class RecordingSigner:
    """Adds a header naming the signer, method and URL, and a SHA-256 of the body."""

    name: str
    calls: list[tuple[str, str]] = field(default_factory=list)

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        self.calls.append((method, url))
        added = {"X-Test-Signature": f"{self.name} {method} {url}"}
        if body is not None:
            added["X-Test-Digest"] = hashlib.sha256(body).hexdigest()
        return added


class StaticResolver(AbstractResolver):
    """Resolves test names from a fixed table (a real resolver, just without DNS)."""

    def __init__(self, table: Mapping[str, list[str]]) -> None:
        self.table = dict(table)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.table:
            raise OSError(f"{host}: unknown test name")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.table[host]
        ]

    async def close(self) -> None:
        return None


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Peer:
    server: TestServer
    received: list[Received]

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def self_url(request: web.Request) -> str:
    return str(request.url)


def activity(document: dict[str, Any], content_type: str = ACTIVITY_CONTENT_TYPE, status: int = 200) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), status=status, headers={"Content-Type": content_type})


def note(request: web.Request, **extra: Any) -> dict[str, Any]:
    return {"@context": AS, "id": self_url(request), "type": "Note", **extra}


CONTENT_TYPES = {
    "activity": ACTIVITY_CONTENT_TYPE,
    "activity-charset": "application/activity+json; charset=utf-8",
    "ld-as": LD_AS,
    "ld-as-list": f'application/ld+json; profile="https://example.org/other {AS}"',
    "ld-bare": "application/ld+json",
    "ld-other": 'application/ld+json; profile="https://example.org/profile"',
    "json": "application/json",
    "jrd": "application/jrd+json",
    "html": "text/html; charset=utf-8",
}


def deep_json(levels: int) -> bytes:
    return ('{"a":' * levels + "1" + "}" * levels).encode()


RAW_BODIES: dict[str, bytes] = {
    "invalid": b'{"id": "x", ',
    "array": b'[{"id": "x"}]',
    "string": b'"hello"',
    "not-utf8": b'{"name": "\xff\xfe"}',
    "nan": b'{"id": NaN}',
    "deep": deep_json(40),
    "very-deep": b"[" * 200_000 + b"]" * 200_000,
}


def build_peer_app(received: list[Received]) -> web.Application:
    async def record(request: web.Request) -> None:
        body = await request.read()
        peername = request.transport.get_extra_info("peername") if request.transport else None
        port = int(peername[1]) if peername else -1
        received.append(Received(request.method, request.path_qs, dict(request.headers), body, port))

    async def doc(request: web.Request) -> web.Response:
        await record(request)
        return activity(
            note(
                request,
                seen={
                    "signature": request.headers.get("X-Test-Signature"),
                    "user_agent": request.headers.get("User-Agent"),
                    "accept": request.headers.get("Accept"),
                },
            )
        )

    async def claim(request: web.Request) -> web.Response:
        # /claim/<path>: served here, but claims to be the document at /<path>.
        await record(request)
        claimed = f"{request.scheme}://{request.host}/{request.match_info['rest']}"
        return activity({"@context": AS, "id": claimed, "type": "Note"})

    async def no_id(request: web.Request) -> web.Response:
        return activity({"@context": AS, "type": "Note"})

    async def typed(request: web.Request) -> web.Response:
        return activity(note(request), CONTENT_TYPES[request.match_info["kind"]])

    async def raw(request: web.Request) -> web.Response:
        return web.Response(
            body=RAW_BODIES[request.match_info["kind"]], headers={"Content-Type": ACTIVITY_CONTENT_TYPE}
        )

    async def padded(request: web.Request) -> web.Response:
        # A valid document of (about) the requested size, to probe the limit from below.
        size = int(request.match_info["size"])
        document = note(request, content="")
        filler = size - len(json.dumps(document).encode())
        return activity(note(request, content="x" * filler))

    async def big(request: web.Request) -> web.StreamResponse:
        payload = b" " * (2 * MIB)
        if request.match_info["kind"] == "content-length":
            return web.Response(body=payload, headers={"Content-Type": ACTIVITY_CONTENT_TYPE})
        response = web.StreamResponse(headers={"Content-Type": ACTIVITY_CONTENT_TYPE})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for offset in range(0, len(payload), 64 * 1024):
                await response.write(payload[offset : offset + 64 * 1024])
        except (ConnectionError, RuntimeError):
            pass  # the client hung up once past its limit: expected
        return response

    async def redirect(request: web.Request) -> web.Response:
        # /redirect/<n>: n redirects in all, ending at /doc/end.
        await record(request)
        remaining = int(request.match_info["n"])
        location = "/doc/end" if remaining <= 1 else f"/redirect/{remaining - 1}"
        raise web.HTTPFound(location)

    async def goto(request: web.Request) -> web.Response:
        await record(request)
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.query["to"]})

    async def loop(request: web.Request) -> web.Response:
        other = "/loop/b" if request.match_info["side"] == "a" else "/loop/a"
        raise web.HTTPFound(other)

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def inbox(request: web.Request) -> web.Response:
        await record(request)
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        if "location" in request.query:
            headers["Location"] = request.query["location"]
        code = int(request.match_info["code"])
        return web.Response(status=code, headers=headers, text="" if code < 300 else '{"error":"go away"}')

    app = web.Application()
    app.router.add_get("/doc/{name}", doc)
    app.router.add_get("/claim/{rest:.*}", claim)
    app.router.add_get("/no-id", no_id)
    app.router.add_get("/typed/{kind}", typed)
    app.router.add_get("/raw/{kind}", raw)
    app.router.add_get("/padded/{size}", padded)
    app.router.add_get("/big/{kind}", big)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/goto", goto)
    app.router.add_post("/goto", goto)
    app.router.add_get("/loop/{side}", loop)
    app.router.add_get("/status/{code}", status)
    app.router.add_post("/inbox/{code}", inbox)
    return app


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


def make_client(**overrides: Any) -> FederationClient:
    options: dict[str, Any] = {
        "user_agent": USER_AGENT,
        "default_signer": RecordingSigner("instance"),
        "allow_private_addresses": True,
        "total_timeout": 10.0,
    }
    options.update(overrides)
    return FederationClient(**options)


@asynccontextmanager
async def silent_server(first_bytes: bytes = b"") -> AsyncIterator[int]:
    """A TCP server that accepts, optionally sends ``first_bytes``, then never says anything more."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        if first_bytes:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(first_bytes)
            await writer.drain()
        await reader.read()  # until the client gives up and closes

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()
