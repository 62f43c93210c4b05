"""Several real `madeopen run` processes federating over loopback, plus in-test access to each node's
database through the same service layer the web UI uses (no mocks of our own server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, TypeVar

from madeopen.app import Services, build_services, prepare
from madeopen.settings import Settings
from tests.support.servers import Node

T = TypeVar("T")


@dataclass
class RunningNode:
    node: Node
    services: Services

    @property
    def base_url(self) -> str:
        return self.node.base_url

    @property
    def domain(self) -> str:
        return self.node.domain

    def user(self, name: str) -> str:
        return f"{self.base_url}/users/{name}"

    def group(self, name: str) -> str:
        return f"{self.base_url}/groups/{name}"


def settings_for(node: Node) -> Settings:
    return Settings(
        domain=node.domain,
        scheme="http",
        database_url=node.database_url,
        data_dir=node.data_dir,
        allow_private_addresses=True,
        node_name=f"Node {node.port}",
    )


@asynccontextmanager
async def running_nodes(database_urls: list[str], root: Path) -> AsyncIterator[list[RunningNode]]:
    """Start one `madeopen run` per database URL; yield them with a Services handle each."""
    nodes = [Node(data_dir=root / f"node{i}", database_url=url) for i, url in enumerate(database_urls)]
    started: list[RunningNode] = []
    try:
        for node in nodes:
            await asyncio.to_thread(node.start)
            services = build_services(settings_for(node))
            await prepare(services, auto_migrate=False)
            started.append(RunningNode(node, services))
        yield started
    finally:
        for running in started:
            await running.services.close()
        for node in nodes:
            node.stop()


async def eventually(check: Callable[[], Awaitable[T]], *, timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll ``check`` until it returns a truthy value (federation is asynchronous); fail after ``timeout``.

    This bounds a wait, it does not assert a speed: ``timeout`` is generous on purpose.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")
