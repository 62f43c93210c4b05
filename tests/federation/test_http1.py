"""federation.http1, the HTTP/1.1 pool under FederationClient, against real servers on loopback: an aiohttp
server over TLS, and raw asyncio servers that answer in the shapes peers use (chunked, until close,
interim 100, gzip, keep-alive dropped by the server, Connection: close) or break the protocol.
tests/federation/test_http.py covers the client's contract (signing, guard, limits, redirects,
timeouts, classification) over the same pool."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from yarl import URL

from federation.http import FederationClient
from federation.http1 import Http1Pool
from federation.http_errors import FetchConnectionError
from federation.http_guard import GuardedResolver

MIB = 1024 * 1024


class NamesResolver(AbstractResolver):
    """Every name is 127.0.0.1."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [ResolveResult(hostname=host, host="127.0.0.1", port=port, family=socket.AF_INET, proto=0,
                              flags=socket.AI_NUMERICHOST)]

    async def close(self) -> None:
        return None


def pool(**options: object) -> Http1Pool:
    return Http1Pool(GuardedResolver(NamesResolver(), allow_private=True), allow_private=True, **options)  # type: ignore[arg-type]


async def get(http: Http1Pool, url: str, max_body: int = MIB) -> tuple[int, bytes | None]:
    async with asyncio.timeout(10):
        response = await http.request("GET", URL(url), [("Host", URL(url).host_port_subcomponent or "")], None,
                                      max_body=max_body, connect_timeout=5)
    return response.status, response.body


@asynccontextmanager
async def raw_server(answer: Callable[[int], bytes], *, close_after: bool = False) -> AsyncIterator[tuple[int, list[int]]]:
    """A server that reads each request head (and a Content-Length body) and writes ``answer(n)`` for the
    n-th request of all; ``close_after`` closes the connection after every answer (without saying so).
    Yields the port and the client ports of the connections accepted."""
    count = 0
    peers: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        writers.append(writer)
        peers.append(writer.get_extra_info("peername")[1])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":")[1]))
                count += 1
                writer.write(answer(count))
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], peers
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


async def test_chunked_answer_with_extensions_and_trailer() -> None:
    body = b"6;ext=1\r\nhello \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n"
    async with raw_server(lambda n: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body) as (port, peers):
        http = pool()
        assert await get(http, f"http://127.0.0.1:{port}/a") == (200, b"hello world")
        assert await get(http, f"http://127.0.0.1:{port}/b") == (200, b"hello world")
        await http.close()
    assert len(peers) == 1  # the connection was kept for the second request


async def test_answer_until_close_without_a_length() -> None:
    async with raw_server(lambda n: b"HTTP/1.0 200 OK\r\n\r\nall of it", close_after=True) as (port, peers):
        http = pool()
        assert await get(http, f"http://127.0.0.1:{port}/") == (200, b"all of it")
        assert await get(http, f"http://127.0.0.1:{port}/") == (200, b"all of it")
        await http.close()
    assert len(peers) == 2


async def test_interim_100_is_skipped() -> None:
    answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"
    async with raw_server(lambda n: answer) as (port, _):
        http = pool()
        assert await get(http, f"http://127.0.0.1:{port}/") == (202, b"ok")
        await http.close()


async def test_connection_close_is_honoured() -> None:
    answer = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"
    async with raw_server(lambda n: answer, close_after=True) as (port, peers):
        http = pool()
        for _ in range(3):
            assert await get(http, f"http://127.0.0.1:{port}/") == (200, b"x")
        await http.close()
    assert len(peers) == 3


async def test_idle_connection_the_server_dropped_is_replaced() -> None:
    # The server closes after each answer without saying so (as at the end of its keep-alive time):
    # the next request finds the kept connection dead and goes out once more on a new one.
    answer = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
    async with raw_server(lambda n: answer, close_after=True) as (port, peers):
        http = pool()
        for _ in range(3):
            async with asyncio.timeout(10):
                response = await http.request("POST", URL(f"http://127.0.0.1:{port}/inbox"), [("Host", "x")], b"{}",
                                              max_body=MIB, connect_timeout=5)
            assert response.status == 202
            await asyncio.sleep(0.05)  # the server's close arrives while the connection is idle
        await http.close()
    assert len(peers) == 3


async def test_capped_body_is_cut_off_and_the_connection_dropped() -> None:
    answer = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"
    async with raw_server(lambda n: answer) as (port, peers):
        http = pool()
        assert await get(http, f"http://127.0.0.1:{port}/", max_body=100) == (200, None)
        assert await get(http, f"http://127.0.0.1:{port}/", max_body=2000) == (200, b"x" * 1024)
        await http.close()
    assert len(peers) == 2


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/2 200\r\n\r\n", b"ICY 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
     b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"],
)
async def test_malformed_answers_are_connection_errors(answer: bytes) -> None:
    async with raw_server(lambda n: answer) as (port, _):
        http = pool()
        with pytest.raises(FetchConnectionError, match="malformed HTTP answer"):
            await get(http, f"http://127.0.0.1:{port}/")
        await http.close()


@asynccontextmanager
async def one_route(handler: Callable[[web.Request], Awaitable[web.Response]]) -> AsyncIterator[int]:
    """An aiohttp server answering GET / with ``handler``; yields its port."""
    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def test_per_host_limit_holds_callers_back() -> None:
    busy = most = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.05)
        busy -= 1
        return web.Response(text="ok")

    async with one_route(slow) as port:
        http = pool(limit_per_host=2)
        try:
            results = await asyncio.gather(*(get(http, f"http://127.0.0.1:{port}/") for _ in range(6)))
        finally:
            await http.close()
    assert results == [(200, b"ok")] * 6 and most == 2


async def test_cancelled_waiter_gives_its_turn_back() -> None:
    gate = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await gate.wait()
        return web.Response(text="ok")

    async with one_route(held) as port:
        http = pool(limit_per_host=1)
        try:
            first = asyncio.create_task(get(http, f"http://127.0.0.1:{port}/"))
            await asyncio.sleep(0.05)
            waiting = asyncio.create_task(get(http, f"http://127.0.0.1:{port}/"))
            await asyncio.sleep(0.05)
            waiting.cancel()
            third = asyncio.create_task(get(http, f"http://127.0.0.1:{port}/"))
            gate.set()
            assert await first == (200, b"ok") and await third == (200, b"ok")
            with pytest.raises(asyncio.CancelledError):
                await waiting
        finally:
            await http.close()


# --------------------------------------------------------------------------------------------------
# TLS, against an aiohttp server with a certificate for its name


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@asynccontextmanager
async def tls_peer(tmp_path: Path, name: str) -> AsyncIterator[tuple[int, ssl.SSLContext, list[bytes]]]:
    cert, key = _certificate(tmp_path, name)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    received: list[bytes] = []

    async def inbox(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=202)

    async def doc(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"id": "%s", "type": "Note"}' % str(request.url).encode())
        return web.Response(body=body, headers={"Content-Type": "application/activity+json",
                                                "Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/doc", doc)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    client_context = ssl.create_default_context(cafile=str(cert))
    try:
        yield runner.addresses[0][1], client_context, received
    finally:
        await runner.cleanup()


class Unsigned:
    def sign(self, method: str, url: str, headers: object, body: bytes | None) -> dict[str, str]:
        return {}


async def test_post_and_gzip_get_over_tls(tmp_path: Path) -> None:
    async with tls_peer(tmp_path, "peer.test") as (port, context, received):
        client = FederationClient(user_agent="t", default_signer=Unsigned(), allow_private_addresses=True,
                                  resolver=NamesResolver(), ssl_context=context)
        async with client:
            result = await client.post_activity(f"https://peer.test:{port}/inbox", b'{"type": "Like"}')
            document = await client.fetch_document(f"https://peer.test:{port}/doc")
    assert result.ok and received == [b'{"type": "Like"}']
    assert document["id"] == f"https://peer.test:{port}/doc"


async def test_tls_certificate_must_name_the_host(tmp_path: Path) -> None:
    async with tls_peer(tmp_path, "other.test") as (port, context, received):
        client = FederationClient(user_agent="t", default_signer=Unsigned(), allow_private_addresses=True,
                                  resolver=NamesResolver(), ssl_context=context)
        async with client:
            result = await client.post_activity(f"https://peer.test:{port}/inbox", b"{}")
    assert result.should_retry and result.status is None and "cannot connect" in result.detail
    assert received == []

