"""Several real `madeopen run` processes federating over loopback, plus in-test access to each node's
database through the same service layer the web UI uses (no mocks of our own server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, TypeVar

import aiohttp
from sqlalchemy import func, select

from actors import local
from actors.signing import signer_for
from federation.signatures import CavageSigner
from inbox_outbox.federation import Federation
from inbox_outbox.services import membership, posts, votes
from madeopen.app import Services, build_services, prepare
from madeopen.settings import Settings
from storage.models import Activity, Delivery, Fanout, Follow, LocalActor, Membership, Object, RemoteActor
from tests.support.servers import MADEOPEN, Node

T = TypeVar("T")
PASSWORD = "a long enough password"
AS2 = "application/activity+json"


@dataclass
class RunningNode:
    node: Node
    services: Services
    workers: list[WorkerProcess] = field(default_factory=list)  # separate `madeopen worker` processes

    @property
    def base_url(self) -> str:
        return self.node.base_url

    @property
    def domain(self) -> str:
        return self.node.domain

    @property
    def fed(self) -> Federation:
        assert self.services.fed is not None
        return self.services.fed

    def user(self, name: str) -> str:
        return f"{self.base_url}/users/{name}"

    def group(self, name: str) -> str:
        return f"{self.base_url}/groups/{name}"

    def handle(self, name: str) -> str:
        return f"{name}@{self.domain}"

    # -- reading the node's database (a fresh session: what the node has committed) -------------------

    async def scalar(self, query: Any) -> Any:
        async with self.services.sessions() as session:
            return await session.scalar(query)

    async def scalars(self, query: Any) -> list[Any]:
        async with self.services.sessions() as session:
            return list(await session.scalars(query))

    async def rows(self, query: Any) -> set[tuple[Any, ...]]:
        async with self.services.sessions() as session:
            return {tuple(row) for row in (await session.execute(query)).all()}

    async def post(self, uri: str) -> Object | None:
        """The node's copy of a post (its own or another node's), or None."""
        return await self.scalar(select(Object).where(Object.uri == uri))

    async def follow_state(self, person: str, followee: str) -> str | None:
        """The state of a local person's Follow of a remote actor: pending, accepted, banned; None."""
        return await self.scalar(
            select(Follow.state).where(Follow.follower_uri == self.user(person), Follow.followee_uri == followee)
        )

    async def member_state(self, group: str, actor_uri: str) -> str | None:
        """The membership state of a remote actor in one of the node's groups: pending, accepted, banned."""
        return await self.scalar(
            select(Membership.state)
            .join(LocalActor, LocalActor.id == Membership.group_id)
            .join(RemoteActor, RemoteActor.id == Membership.remote_actor_id)
            .where(LocalActor.username == group, RemoteActor.uri == actor_uri)
        )

    async def announces(self, group: str, about: str) -> list[dict[str, Any]]:
        """The node's group's Announces of ``about``: announced as the object, or as the object of the
        announced activity (``Announce{Create{post}}``, ``Announce{Like{post}}``, ``Announce{post}``)."""
        documents = await self.scalars(
            select(Activity.document).where(Activity.actor_uri == self.group(group), Activity.type == "Announce")
        )
        found = []
        for document in documents:
            inner = document.get("object")
            ids = {inner} if isinstance(inner, str) else {inner.get("id"), _id(inner.get("object"))}
            if about in ids:
                found.append(document)
        return found

    async def announce_hosts(self, group: str, about: str) -> set[str]:
        """The hosts the node's group sent its Announces of ``about`` to."""
        ids = [document["id"] for document in await self.announces(group, about)]
        assert ids, f"{group} never announced {about}"
        # The Announces are queued as fan-out rows, which the node's delivery worker expands into deliveries
        # moments later (inbox_outbox.outbox.expand_fanouts): their hosts are known once it has.
        unexpanded = (select(func.count()).select_from(Fanout).join(Activity, Activity.id == Fanout.activity_id)
                      .where(Activity.uri.in_(ids)))
        await eventually(lambda: self.scalar(unexpanded), equals=0, what=f"{group}'s fan-out of {about} expanded")
        query = select(Delivery.host).join(Activity, Activity.id == Delivery.activity_id).where(Activity.uri.in_(ids))
        return set(await self.scalars(query))

    async def create_of(self, post: str) -> str:
        """The id of the Create that published one of the node's posts."""
        uri = await self.scalar(select(Activity.uri).where(Activity.type == "Create", Activity.object_uri == post))
        assert uri is not None, f"no Create of {post} on {self.domain}"
        return uri

    # -- acting as a person of the node, through the functions the CLI and the web UI call -----------

    async def create_person(self, name: str) -> LocalActor:
        async with self.services.sessions.begin() as session:
            return await local.create_person(session, local.NewPerson(name, PASSWORD))

    async def create_group(self, name: str, *, owner: str, private: bool = False) -> LocalActor:
        async with self.services.sessions.begin() as session:
            return await local.create_group(session, local.NewGroup(name, private=private, owner=owner))

    async def join(self, person: str, group_handle: str) -> None:
        """Join a group on another node: our Follow waits for the group's answer."""
        assert await membership.join_group(self.fed, person, group_handle) == "pending"

    async def write_post(self, author: str, group_uri: str, title: str, body: str) -> str:
        """A new thread in a group: one of the node's own, or one elsewhere it knows."""
        async with self.services.sessions.begin() as session:
            person = await local.find_person(session, author)
            group: LocalActor | RemoteActor | None
            if group_uri.startswith(self.base_url + "/"):
                group = await local.find_group(session, group_uri.rsplit("/", 1)[1])
            else:
                group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group_uri))
            assert group is not None, f"{self.domain} does not know {group_uri}"
            return (await posts.create_post(session, self.services.urls, person, group, title, body)).uri

    async def reply(self, author: str, parent: str, body: str) -> str:
        async with self.services.sessions.begin() as session:
            person = await local.find_person(session, author)
            return (await posts.reply(session, self.services.urls, person, parent, body)).uri

    async def like(self, voter: str, target: str) -> str:
        async with self.services.sessions.begin() as session:
            person = await local.find_person(session, voter)
            vote = await votes.like(session, self.services.urls, person, target)
        assert vote is not None
        return vote.uri

    async def signer(self, name: str) -> CavageSigner:
        """What signs the node's requests for a local actor (``actor``: the instance actor)."""
        async with self.services.sessions() as session:
            actor = await local.find_actor(session, name)
        return signer_for(actor, self.services.urls)


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


async def http_get(url: str, *, signer: CavageSigner | None = None, accept: str = AS2) -> tuple[int, Any]:
    """GET as a peer (signed by ``signer``) or a stranger (unsigned); the status and the JSON or text."""
    headers = {"Accept": accept}
    if signer is not None:
        headers.update(signer.sign("GET", url, headers, None))
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        text = await response.text()
    try:
        return response.status, json.loads(text)
    except ValueError:
        return response.status, text


# --------------------------------------------------------------------------------------------------
# Processes


def settings_for(node: Node) -> Settings:
    return Settings(
        domain=node.domain,
        scheme="http",
        database_url=node.database_url,
        data_dir=node.data_dir,
        allow_private_addresses=True,
        node_name=f"Node {node.port}",
    )


async def node_services(node: Node) -> Services:
    """A Services handle on the node's database, as the node's own processes build it."""
    services = build_services(settings_for(node))
    await prepare(services, auto_migrate=False)
    return services


@asynccontextmanager
async def running_nodes(
    database_urls: list[str], root: Path, *, env: dict[str, str] | None = None
) -> AsyncIterator[list[RunningNode]]:
    """Start one `madeopen run` per database URL; yield them with a Services handle each. ``env``: extra
    settings for every node."""
    nodes = [Node(data_dir=root / f"node{i}", database_url=url, extra_env=dict(env or {}))
             for i, url in enumerate(database_urls)]
    started: list[RunningNode] = []
    try:
        # Start them side by side (each start is mostly Python imports), then open a handle on each.
        results = await asyncio.gather(*(asyncio.to_thread(node.start) for node in nodes), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        for node in nodes:
            started.append(RunningNode(node, await node_services(node)))
        yield started
    finally:
        await _shut_down(started, nodes)


@asynccontextmanager
async def split_node(
    database_url: str, root: Path, *, workers: int = 1, env: dict[str, str] | None = None
) -> AsyncIterator[RunningNode]:
    """One node run the scale-out way: `madeopen web` alone, beside ``workers`` `madeopen worker`
    processes on the same database (the schema must be current: the web role never migrates).
    ``env``: extra settings for all of its processes."""
    node = Node(data_dir=root / "node", database_url=database_url, extra_env=dict(env or {}))
    running: list[RunningNode] = []
    try:
        await asyncio.to_thread(node.start, "web")
        running.append(RunningNode(node, await node_services(node)))
        for _ in range(workers):
            running[0].workers.append(await WorkerProcess.start(node))
        yield running[0]
    finally:
        await _shut_down(running, [node])


async def _shut_down(running: list[RunningNode], nodes: list[Node]) -> None:
    for each in running:
        for worker in each.workers:
            worker.stop()
        await each.services.close()
    for node in nodes:
        node.stop()


class WorkerProcess:
    """A `madeopen worker` process of a node (the node's settings; its own log file)."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, node: Node, timeout: float = 30.0) -> WorkerProcess:
        node.data_dir.mkdir(parents=True, exist_ok=True)
        log = node.data_dir / f"worker-{time.monotonic_ns()}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [*MADEOPEN, "worker"], env=node.env(), stdout=out, stderr=subprocess.STDOUT, cwd=node.data_dir
            )
        worker = cls(process, log)
        deadline = time.monotonic() + timeout
        while "worker for" not in worker.log_text():  # printed once its workers run
            if process.poll() is not None or time.monotonic() > deadline:
                worker.stop()
                raise AssertionError(f"madeopen worker did not start:\n{worker.log_text()}")
            await asyncio.sleep(0.05)
        return worker

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when the machine loses power or the OOM killer strikes."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --------------------------------------------------------------------------------------------------
# Waiting

_TRUTHY = object()


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    equals: Any = _TRUTHY,
    timeout: float = 30.0,
    interval: float = 0.2,
    what: str = "",
) -> T:
    """Poll ``check`` until it returns a truthy value, or one equal to ``equals`` when given (federation
    is asynchronous); fail after ``timeout``, naming ``what`` was awaited.

    This bounds a wait, it does not assert a speed: ``timeout`` is generous on purpose.
    """
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if (bool(last) if equals is _TRUTHY else last == equals):
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what or 'condition'} not met within {timeout}s (last value: {last!r})")
