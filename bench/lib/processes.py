"""The helper processes of bench/inbox.py, off the server's core: clients that POST signed requests prepared
beforehand (each latency measured), and the sinks that stand for the members' inboxes (``--deliver``).

Each is started before any event loop or thread of the bench exists (``multiprocessing`` forks) and driven
through a pipe: a job in, a result out, ``None`` to stop.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp

from bench.lib.sink import start_sinks

Request = tuple[str, dict[str, str], bytes]  # url, headers, body


@dataclass
class Posted:
    statuses: Counter[int]
    latencies: list[float]  # seconds, per request
    elapsed: float  # first request sent .. last response read

    @property
    def accepted(self) -> int:
        return self.statuses[202]


async def _post_all(requests: list[Request], clients: int) -> Posted:
    statuses: list[int] = [0] * len(requests)
    latencies: list[float] = [0.0] * len(requests)
    work = iter(enumerate(requests))  # shared by the client tasks: each takes the next request
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as http:

        async def client() -> None:
            for i, (url, headers, body) in work:
                start = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses[i] = response.status
                latencies[i] = time.perf_counter() - start

        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return Posted(Counter(statuses), latencies, elapsed)


def _clients_main(conn: multiprocessing.connection.Connection) -> None:
    while True:
        job = conn.recv()
        if job is None:
            return
        requests, clients = job
        conn.send(asyncio.run(_post_all(requests, clients)))


@dataclass
class Clients:
    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection

    @classmethod
    def start(cls) -> Clients:
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_clients_main, args=(theirs,), daemon=True)
        process.start()
        return cls(process, ours)

    async def post(self, requests: list[Request], clients: int) -> Posted:
        self.conn.send((requests, clients))
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    def stop(self) -> None:
        self.conn.send(None)
        self.process.join(timeout=10)


def _sinks_main(conn: multiprocessing.connection.Connection, count: int) -> None:
    async def serve() -> None:
        servers, ports = await start_sinks(count, latency=0.0)
        conn.send(ports)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        for server in servers:
            server.close()

    asyncio.run(serve())


@dataclass
class Sinks:
    """The members' inboxes for ``--deliver``: sinks in a process of their own, off the server's core."""

    process: multiprocessing.Process
    conn: multiprocessing.connection.Connection
    ports: list[int]

    @classmethod
    def start(cls, count: int) -> Sinks:
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.Process(target=_sinks_main, args=(theirs, count), daemon=True)
        process.start()
        return cls(process, ours, ours.recv())

    def stop(self) -> None:
        self.conn.send(None)
        self.process.join(timeout=10)
