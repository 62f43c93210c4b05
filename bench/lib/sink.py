"""Simulated receiving instances for the delivery benches: a minimal HTTP/1.1 sink on loopback.

bench/fanout.py and bench/scale.py measure the delivery worker, and on a 2-core machine the instances it
POSTs to share the cores it runs on. An aiohttp server spends ~0.1-0.2 ms of CPU per request (routing, a
Request object, a Response, middlewares), as much as a fifth of what the worker spends on a delivery: the
benches measured the instances as much as the worker. This sink is an ``asyncio.Protocol`` that finds the
end of each request (Content-Length only: the worker always sends one), discards the body and answers
``202 Accepted`` with an empty body after ``latency``, keeping the connection alive, a few µs a request.

It is a stand-in for the far side of the network, not an HTTP server: no chunked requests, no
pipelining guarantees beyond answering in order, no parsing beyond what finding the body's end needs.
"""

from __future__ import annotations

import asyncio

_ANSWER = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nContent-Type: text/plain\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"


class _Sink(asyncio.Protocol):
    def __init__(self, latency: float) -> None:
        self._latency = latency
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                break
            head = buffer[:head_end].lower()
            at = head.find(_LENGTH)
            length = 0
            if at >= 0:
                line_end = head.find(b"\r\n", at + 2)
                length = int(head[at + len(_LENGTH) : line_end if line_end >= 0 else len(head)])
            end = head_end + 4 + length
            if len(buffer) < end:
                break
            buffer = buffer[end:]
            if self._latency:
                self._loop.call_later(self._latency, self._answer)
            else:
                self._answer()
        self._buffer = buffer

    def _answer(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_ANSWER)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def start_sinks(count: int, latency: float) -> tuple[list[asyncio.Server], list[int]]:
    """``count`` sinks on loopback ports chosen by the system; returns the servers and their ports."""
    loop = asyncio.get_running_loop()
    servers, ports = [], []
    for _ in range(count):
        server = await loop.create_server(lambda: _Sink(latency), "127.0.0.1", 0)
        servers.append(server)
        ports.append(server.sockets[0].getsockname()[1])
    return servers, ports
