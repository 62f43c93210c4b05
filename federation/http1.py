"""A small HTTP/1.1 client connection pool: the transport under ``federation.http.FederationClient``.

Why not aiohttp's client (issue #13)? A group's post is one signed POST per follower inbox, and aiohttp's
``ClientSession.request`` spends ~150-190 µs of CPU per request on loopback (a ``ClientRequest`` and a
``ClientResponse`` with their URL, header, cookie, payload, timer and tracing machinery), more than half
of an RSA-2048 signature: the fan-out bench spent as much in the client as in signing. Server-to-server
ActivityPub needs a small part of HTTP: one request with a known body and ``Content-Length``, no cookies,
no proxies, no redirects followed by the transport (``FederationClient`` follows and re-checks them
itself), a capped answer. This module does exactly that over an ``asyncio.Protocol`` for ~30-40 µs.

What it does, and keeps:

- keep-alive pooling per (scheme, host, port), at most ``limit`` connections in use and
  ``limit_per_host`` per host (callers beyond wait), idle connections closed after ``keepalive``
  seconds; a request on a reused connection that the peer had already closed is sent once more on a new
  connection (nothing of the answer had arrived, so the peer never took it);
- TLS through an ``ssl.SSLContext`` (the system's verified default unless given), SNI with the URL's
  host;
- the address guard (``federation.http_guard``): names are resolved through the ``GuardedResolver``
  (every answer vetted), and each address is checked again right before ``connect()``;
- answers framed by ``Content-Length``, ``Transfer-Encoding: chunked`` or the connection's end;
  ``Connection: close`` and HTTP/1.0 honoured; 1xx interim answers skipped; bodies capped while they
  arrive (a larger answer is cut off and its connection dropped), ``gzip``/``deflate`` decoded with
  the cap applied after decoding;
- errors: ``TimeoutError`` from the caller's ``asyncio.timeout``, ``BlockedAddress``, or
  ``FetchConnectionError`` (DNS, connect, reset, malformed answer) naming the URL.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import asyncio
import collections
import ipaddress
import ssl
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from federation.http_errors import FetchConnectionError, ResponseTooLarge
from federation.http_guard import BlockedAddress, check_ip

__all__ = ["Http1Pool", "Response"]

_MAX_HEAD_BYTES = 64 * 1024  # status line and header fields of one answer
_KEEPALIVE_SECONDS = 15.0  # aiohttp's default; well under what common servers keep (nginx 75 s)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_NO_BODY_STATUSES = frozenset({204, 304})
_Key = tuple[str, str, int]  # scheme, host as sent (IDNA), port


@dataclass(frozen=True)
class Response:
    """One complete answer. ``body`` is None when it passed ``max_body`` (the connection was dropped);
    ``declared`` is its Content-Length if it named one."""

    status: int
    reason: str
    headers: CIMultiDict[str]
    body: bytes | None
    declared: int | None

    def too_large(self, url: str, limit: int) -> ResponseTooLarge:
        if self.declared is not None and self.declared > limit:
            return ResponseTooLarge(url, f"body of {self.declared} bytes exceeds the limit of {limit} bytes")
        return ResponseTooLarge(url, f"body exceeds the limit of {limit} bytes")


class _Broken(Exception):
    """The peer sent something that is not an HTTP/1.x answer."""


class _Connection(asyncio.Protocol):
    """One connection and the parser of the answer currently awaited on it."""

    def __init__(self, pool: Http1Pool, key: _Key) -> None:
        self.pool, self.key = pool, key
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._max_body = 0
        self._buffer = bytearray()
        self._received_any = False
        # The answer being parsed: head fields, then the body by its framing.
        self._head: tuple[int, str, CIMultiDict[str], bool] | None = None  # status, reason, headers, keep-alive
        self._framing = ""  # "length", "chunked", "close"
        self._remaining = 0  # of a Content-Length body, or of the current chunk
        self._chunk_state = "size"  # size | data | crlf | trailer
        self._declared: int | None = None
        self._body = bytearray()

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._received_any = True
        if self._waiter is None or self._waiter.done():
            self.close()  # bytes nobody asked for: the connection cannot be trusted for another request
            return
        self._buffer += data
        try:
            self._parse()
        except _Broken as exc:
            self._fail(FetchConnectionError("", f"malformed HTTP answer: {exc}"))
            self.close()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.transport = None
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self.pool._forget(self)
        if self._waiter is not None and not self._waiter.done():
            if self._head is not None and self._framing == "close":
                self._finish(keep_alive=False)  # the answer ran until the connection's end
            else:
                reason = f"connection lost: {exc}" if exc else "the server closed the connection"
                self._fail(FetchConnectionError("", reason))

    # -- one exchange -------------------------------------------------------------------------------

    def send(self, data: bytes, max_body: int) -> asyncio.Future[Response]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self._max_body = max_body
        self._received_any = False
        self._buffer.clear()
        self._head = None
        self.transport.write(data)
        return self._waiter

    @property
    def received_any(self) -> bool:
        return self._received_any

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _parse(self) -> None:
        while self._head is None:
            if self._waiter is None or self._waiter.done() or not self._parse_head():
                return  # answered (or cut off), or the head is not complete yet
        if self._framing == "length":
            self._take(min(self._remaining, len(self._buffer)))
            if self._head is not None and self._remaining == 0:
                self._finish(keep_alive=self._head[3])
        elif self._framing == "chunked":
            self._parse_chunks()
        else:  # until the connection closes
            self._take(len(self._buffer))

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEAD_BYTES:
                raise _Broken("header section too large")
            return False
        if end > _MAX_HEAD_BYTES:
            raise _Broken("header section too large")
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        version, _, rest = lines[0].partition(" ")
        code, _, reason = rest.partition(" ")
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise _Broken(f"bad status line {lines[0][:80]!r}")
        status = int(code)
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise _Broken(f"bad header line {line[:80]!r}")
            headers.add(name, value.strip())
        if status == 101:
            raise _Broken("unexpected protocol switch")
        if status < 200:
            return True  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        connection = headers.get("Connection", "").lower()
        keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        self._head = (status, reason, headers, keep_alive)
        self._body = bytearray()
        self._declared = None
        encoding = headers.get("Transfer-Encoding", "").lower()
        length = headers.get("Content-Length")
        if status in _NO_BODY_STATUSES:  # never HEAD: we do not send it (RFC 9112 §6.3)
            self._framing, self._remaining = "length", 0
        elif encoding:
            if encoding.rsplit(",", 1)[-1].strip() != "chunked":
                raise _Broken(f"unsupported transfer coding {encoding!r}")
            self._framing, self._chunk_state = "chunked", "size"
        elif length is not None:
            if not length.isdigit():
                raise _Broken(f"bad Content-Length {length[:40]!r}")
            self._framing, self._remaining = "length", int(length)
            self._declared = self._remaining
            if self._remaining > self._max_body:
                self._too_large()
        else:
            self._framing = "close"
        return True

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._chunk_state == "size":
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > 1024:
                        raise _Broken("chunk size line too long")
                    return
                size_text = bytes(buffer[:end]).split(b";", 1)[0].strip()
                del buffer[: end + 2]
                try:
                    self._remaining = int(size_text, 16)
                except ValueError:
                    raise _Broken(f"bad chunk size {size_text[:20]!r}") from None
                self._chunk_state = "data" if self._remaining else "trailer"
            elif self._chunk_state == "data":
                taken = min(self._remaining, len(buffer))
                if not taken:
                    return
                self._take(taken)
                if self._head is None or self._waiter is None or self._waiter.done():
                    return  # cut off: too large
                if self._remaining == 0:
                    self._chunk_state = "crlf"
            elif self._chunk_state == "crlf":
                if len(buffer) < 2:
                    return
                if buffer[:2] != b"\r\n":
                    raise _Broken("chunk not followed by CRLF")
                del buffer[:2]
                self._chunk_state = "size"
            else:  # trailer fields, up to an empty line
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > _MAX_HEAD_BYTES:
                        raise _Broken("trailer section too large")
                    return
                del buffer[: end + 2]
                if end == 0:
                    assert self._head is not None
                    self._finish(keep_alive=self._head[3])
                    return

    def _take(self, count: int) -> None:
        """Move ``count`` bytes of body from the buffer, cutting the answer off past the cap."""
        self._body += self._buffer[:count]
        del self._buffer[:count]
        self._remaining -= count
        if len(self._body) > self._max_body:
            self._too_large()

    def _too_large(self) -> None:
        assert self._head is not None
        status, reason, headers, _ = self._head
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(Response(status, reason, headers, None, self._declared))
        self._head = None
        self.close()

    def _finish(self, *, keep_alive: bool) -> None:
        assert self._head is not None
        status, reason, headers, _ = self._head
        self._head = None
        body = bytes(self._body)
        waiter, self._waiter = self._waiter, None
        if keep_alive and not self._buffer:
            self.pool._release(self)
        else:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(Response(status, reason, headers, body, self._declared))


class _Limits:
    """At most ``total`` connections in use, ``per_host`` per host; callers beyond wait in order.

    Counters with a fast path (no waiter is created while under both limits): a fan-out's caller bounds
    its own concurrency below these, and two ``asyncio.Semaphore`` per request cost more than the rest
    of the bookkeeping."""

    def __init__(self, total: int, per_host: int) -> None:
        self._total, self._per_host = total, per_host
        self._used = 0
        self._by_key: dict[_Key, int] = {}
        self._waiting: collections.deque[tuple[_Key, asyncio.Future[None]]] = collections.deque()

    def _free(self, key: _Key) -> bool:
        return self._used < self._total and self._by_key.get(key, 0) < self._per_host

    async def acquire(self, key: _Key) -> None:
        if not self._waiting and self._free(key):
            self._take(key)
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (key, waiter)
        self._waiting.append(entry)
        try:
            await waiter  # _wake took the slot for us
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release(key)  # granted, then cancelled before we could use it
            else:
                self._waiting.remove(entry)
            raise

    def release(self, key: _Key) -> None:
        self._used -= 1
        left = self._by_key[key] - 1
        if left:
            self._by_key[key] = left
        else:
            del self._by_key[key]
        self._wake()

    def _take(self, key: _Key) -> None:
        self._used += 1
        self._by_key[key] = self._by_key.get(key, 0) + 1

    def _wake(self) -> None:
        for entry in list(self._waiting):
            if self._used >= self._total:
                return
            key, waiter = entry
            if waiter.done():
                continue
            if self._by_key.get(key, 0) < self._per_host:
                self._waiting.remove(entry)
                self._take(key)
                waiter.set_result(None)


class Http1Pool:
    """Keep-alive HTTP/1.1 connections to many hosts; see the module docstring."""

    def __init__(
        self,
        resolver: AbstractResolver,
        *,
        allow_private: bool,
        limit: int = 100,
        limit_per_host: int = 6,
        keepalive: float = _KEEPALIVE_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._resolver = resolver  # a GuardedResolver: it vets every answer unless private is allowed
        self._allow_private = allow_private
        self._limit_per_host = limit_per_host
        self._keepalive = keepalive
        self._ssl_context = ssl_context
        self._limits = _Limits(limit, limit_per_host)
        self._idle: dict[_Key, list[_Connection]] = {}
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        for connections in list(self._idle.values()):
            for connection in list(connections):
                connection.close()
        self._idle.clear()

    async def request(
        self,
        method: str,
        url: URL,
        headers: Iterable[tuple[str, str]],
        body: bytes | None,
        *,
        max_body: int,
        connect_timeout: float,
    ) -> Response:
        """Send one request (no redirects followed) and return its whole answer, its body capped at
        ``max_body`` bytes. The caller bounds the total time (``asyncio.timeout``)."""
        if self._closed:
            raise RuntimeError("the connection pool is closed")
        scheme, host = url.scheme, url.raw_host or ""
        port = url.port or _DEFAULT_PORTS[scheme]
        key = (scheme, host, port)
        lines = [f"{method} {url.raw_path_qs} HTTP/1.1"]
        for name, value in headers:
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"header {name!r} cannot be sent")
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        data = head + body if body else head
        await self._limits.acquire(key)
        try:
            return await self._exchange(key, url, data, max_body, connect_timeout)
        finally:
            self._limits.release(key)

    async def _exchange(self, key: _Key, url: URL, data: bytes, max_body: int, connect_timeout: float) -> Response:
        while True:
            connection = self._take_idle(key)
            reused = connection is not None
            if connection is None:
                connection = await self._connect(key, url, connect_timeout)
            try:
                return await connection.send(data, max_body)
            except FetchConnectionError as exc:
                connection.close()
                if reused and not connection.received_any:
                    continue  # the peer had closed the idle connection: it never saw this request
                raise FetchConnectionError(str(url), exc.reason) from None
            except BaseException:  # a timeout or cancellation mid-answer: the connection is unusable
                connection.close()
                raise

    def _take_idle(self, key: _Key) -> _Connection | None:
        connections = self._idle.get(key)
        while connections:
            connection = connections.pop()
            if connection.idle_timer is not None:
                connection.idle_timer.cancel()
                connection.idle_timer = None
            if not connection.closed and connection.transport is not None and not connection.transport.is_closing():
                return connection
        return None

    async def _connect(self, key: _Key, url: URL, connect_timeout: float) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        tls = self._tls() if scheme == "https" else None
        async with asyncio.timeout(connect_timeout):
            addresses = await self._addresses(url, host, port)
            failures = []
            for address, family in addresses:
                if not self._allow_private:
                    check_ip(address, host=host if address != host.strip("[]") else None)  # the last net
                try:
                    _, protocol = await loop.create_connection(
                        lambda: _Connection(self, key), address, port, family=family, ssl=tls,
                        server_hostname=host.strip("[]") if tls is not None else None,
                    )
                except OSError as exc:
                    failures.append(exc.strerror or str(exc) or type(exc).__name__)
                    continue
                return protocol
        raise FetchConnectionError(str(url), f"cannot connect to {host}:{port}: {'; '.join(failures)}")

    async def _addresses(self, url: URL, host: str, port: int) -> list[tuple[str, int]]:
        bare = host.strip("[]")
        if _is_ip(bare):
            return [(bare, 0)]  # a literal address: nothing to resolve (checked above, and by the URL layer)
        try:
            results = await self._resolver.resolve(host, port, family=0)  # type: ignore[arg-type]
        except OSError as exc:
            if isinstance(exc, BlockedAddress):
                raise  # the guard refused the name's addresses
            cause = exc.strerror or str(exc) or type(exc).__name__
            raise FetchConnectionError(str(url), f"cannot resolve {host}: {cause}") from None
        return [(result["host"], result["family"]) for result in results]

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()
        return self._ssl_context

    def _release(self, connection: _Connection) -> None:
        """Back to the idle list after a complete answer (keep-alive)."""
        idle = self._idle.setdefault(connection.key, [])
        if self._closed or len(idle) >= self._limit_per_host:
            connection.close()
            return
        idle.append(connection)
        connection.idle_timer = asyncio.get_running_loop().call_later(self._keepalive, connection.close)

    def _forget(self, connection: _Connection) -> None:
        idle = self._idle.get(connection.key)
        if idle and connection in idle:
            idle.remove(connection)
            if not idle:
                del self._idle[connection.key]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def decode_body(body: bytes, encoding: str, limit: int, url: str) -> bytes:
    """Undo a ``gzip``/``deflate`` Content-Encoding, refusing more than ``limit`` bytes decoded
    (a small compressed body can expand enormously)."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif coding == "deflate":  # zlib-wrapped per RFC 9110 §8.4.1.2; some servers send it raw
        decoder = zlib.decompressobj(zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS)
    else:
        raise FetchConnectionError(url, f"unsupported content coding {encoding!r}")
    try:
        decoded = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise FetchConnectionError(url, f"bad {coding} body: {exc}") from None
    if len(decoded) > limit:
        raise ResponseTooLarge(url, f"body exceeds the limit of {limit} bytes")
    return decoded
