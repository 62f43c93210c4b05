"""Fixtures for the delivery tests: a node whose client may reach loopback, remote inboxes, a steppable clock.

Imported by name into the delivery test modules (not a conftest: sibling test packages here keep their
own fixtures, and these stay out of their way).

Remote inboxes are small real aiohttp servers on 127.0.0.1 (each port is its own "host" to the delivery
worker, which keys hosts by netloc). They verify every request's HTTP signature with our
``federation.signatures.verify_request`` against the public keys of our local actors, and answer what the
test scripts: 202 by default, any status (with headers such as Retry-After), or nothing at all when
stopped (the port closed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select, update

from actors import local
from actors.urls import Urls
from federation.keys import load_public_pem
from federation.signatures import PublicKeyRecord, SignatureError, verify_request
from inbox_outbox.delivery import DeliveryWorker
from inbox_outbox.outbox import publish
from madeopen.app import Services
from madeopen.settings import Settings
from storage.models import Activity, Delivery, LocalActor
from tests.support.fanouts import expanded

AS2 = "https://www.w3.org/ns/activitystreams"
PUBLIC = f"{AS2}#Public"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The remote inboxes listen on 127.0.0.1: our federation client must be allowed to reach them.
    return dataclasses.replace(settings, allow_private_addresses=True)


# --------------------------------------------------------------------------------------------------
# Time


class FakeClock:
    """An aware UTC clock that only moves when told (workers take ``clock=``)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self.now += delta or timedelta(**kwargs)
        return self.now

    def to(self, moment: datetime) -> datetime:
        self.now = max(self.now, aware(moment))
        return self.now


def aware(moment: datetime) -> datetime:
    """SQLite returns stored datetimes naive (UTC)."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


@pytest.fixture
def clock() -> FakeClock:
    # Noon UTC: a test stepping minutes or hours stays within one UTC day (host health counts days).
    today = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    return FakeClock(today)


# --------------------------------------------------------------------------------------------------
# Our side: actors, their keys, publishing


class KeyRing:
    """The remote side's key lookup: resolves our local actors' key ids to their public keys."""

    def __init__(self, urls: Urls) -> None:
        self.urls = urls
        self.records: dict[str, PublicKeyRecord] = {}

    def add(self, actor: LocalActor) -> str:
        actor_id = self.urls.actor(actor.actor_type, actor.username)
        key_id = self.urls.main_key(actor_id)
        self.records[key_id] = PublicKeyRecord(key_id, actor_id, load_public_pem(actor.rsa_public_pem))
        return actor_id

    async def __call__(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        return self.records.get(key_id)


@pytest.fixture
def keys(services: Services) -> KeyRing:
    return KeyRing(services.urls)


@pytest.fixture
async def group(services: Services, keys: KeyRing) -> LocalActor:
    async with services.sessions.begin() as session:
        actor = await local.create_group(session, local.NewGroup(username="garden", title="Gardeners"))
    keys.add(actor)
    return actor


@pytest.fixture
async def other_group(services: Services, keys: KeyRing) -> LocalActor:
    async with services.sessions.begin() as session:
        actor = await local.create_group(session, local.NewGroup(username="orchard", title="Orchard"))
    keys.add(actor)
    return actor


def note_activity(urls: Urls, actor: LocalActor, kind: str = "Create", text: str = "Hello") -> dict[str, Any]:
    actor_id = urls.actor(actor.actor_type, actor.username)
    serial = uuid.uuid4().hex
    if kind == "Follow":
        obj: Any = "https://remote.example/users/someone"
    else:
        obj = {"id": f"{urls.base}/objects/{serial}", "type": "Note", "content": f"<p>{text}</p>", "to": [PUBLIC]}
    return {"@context": AS2, "id": f"{urls.base}/activities/{serial}", "type": kind, "actor": actor_id,
            "to": [PUBLIC], "object": obj}


Queue = Callable[..., Awaitable[Activity]]


@pytest.fixture
def queue(services: Services, clock: FakeClock) -> Queue:
    """Publish an activity through the outbox, queued "now" on the test clock."""

    async def run(
        actor: LocalActor, inboxes: Iterable[str], *, kind: str = "Create", bypass_host_health: bool = False
    ) -> Activity:
        document = note_activity(services.urls, actor, kind)
        async with services.sessions.begin() as session:
            signer = await session.get(LocalActor, actor.id)
            assert signer is not None
            activity = await publish(
                session, services.urls, signer, document, inboxes, bypass_host_health=bypass_host_health
            )
            await session.execute(
                update(Delivery)
                .where(Delivery.activity_id == activity.id)
                .values(created_at=clock(), next_attempt_at=clock())
            )
        return activity

    return run


async def deliveries(services: Services) -> list[Delivery]:
    await expanded(services)
    async with services.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def delivery(services: Services, delivery_id: int | None = None) -> Delivery:
    rows = await deliveries(services)
    return rows[0] if delivery_id is None else next(r for r in rows if r.id == delivery_id)


# --------------------------------------------------------------------------------------------------
# Remote inboxes


@dataclass
class Received:
    path: str
    body: bytes
    signed_by: str | None  # the verified key owner, or None
    signature_error: str | None


@dataclass
class Gauge:
    """Requests being handled right now, and the most ever seen at once (possibly across servers)."""

    current: int = 0
    peak: int = 0

    def enter(self) -> None:
        self.current += 1
        self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        self.current -= 1


@dataclass
class Reply:
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)


class RemoteInbox:
    """One remote server: ``/inbox`` (shared) and ``/users/<name>/inbox``; any path is accepted."""

    def __init__(self, keys: KeyRing, *, latency: float = 0.0, gauges: Iterable[Gauge] = ()) -> None:
        self.keys = keys
        self.latency = latency
        self.status = 202
        self.replies: deque[Reply] = deque()  # answered first, in order; then ``status``
        self.received: list[Received] = []
        self.gauge = Gauge()
        self.gauges = [self.gauge, *gauges]
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/inbox") -> str:
        return f"http://{self.host}{path}"

    def user_inbox(self, name: str) -> str:
        return self.url(f"/users/{name}/inbox")

    def reply(self, *replies: Reply | int) -> None:
        self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    async def start(self) -> None:
        """Listen (again, on the same port after a ``stop``)."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the port: connections are refused until ``start``."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        for gauge in self.gauges:
            gauge.enter()
        try:
            body = await request.read()
            self.received.append(await self._verify(request, body))
            if self.latency:
                await asyncio.sleep(self.latency)
            reply = self.replies.popleft() if self.replies else Reply(self.status)
            return web.Response(status=reply.status, headers=reply.headers, text="")
        finally:
            for gauge in self.gauges:
                gauge.leave()

    async def _verify(self, request: web.Request, body: bytes) -> Received:
        try:
            verified = await verify_request(
                method=request.method, url=str(request.url), headers=request.headers, body=body, lookup=self.keys
            )
        except SignatureError as exc:
            return Received(request.path, body, None, str(exc))
        return Received(request.path, body, verified.owner, None)


InboxFactory = Callable[..., Awaitable[RemoteInbox]]


@pytest.fixture
async def remote(keys: KeyRing) -> AsyncIterator[InboxFactory]:
    started: list[RemoteInbox] = []

    async def make(**options: Any) -> RemoteInbox:
        inbox = RemoteInbox(keys, **options)
        await inbox.start()
        started.append(inbox)
        return inbox

    yield make
    for inbox in started:
        await inbox.stop()


Worker = Callable[..., DeliveryWorker]


@pytest.fixture
def worker(services: Services, clock: FakeClock) -> Worker:
    """A delivery worker on the test's clock, with a seeded jitter; ``options`` as DeliveryWorker takes them."""

    def make(**options: Any) -> DeliveryWorker:
        assert services.fed is not None
        options.setdefault("rng", random.Random(7))
        return DeliveryWorker(services.fed, clock=clock, **options)

    return make
