"""Composition root: build the engine, the web context and the application from Settings."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from actors import local
from actors.blocks import PolicyCache
from actors.mail import Transport
from actors.remote import RemoteActors
from actors.signing import signer_for
from actors.urls import Urls
from content.notification_mail import NotificationMailer
from federation.http import FederationClient
from federation.signing_process import SigningProcess
from inbox_outbox.federation import Federation
from inbox_outbox.services.deleted_content import DeletedContent
from madeopen import __version__
from madeopen.secrets import load_or_create_secret
from madeopen.settings import Settings
from madeopen.worker_thread import WorkerThread
from madeopen.workers import Workers
from storage import migrate
from storage.engine import SessionMaker, create_engine, is_sqlite, session_factory
from web.app import create_app
from web.context import WebContext

log = logging.getLogger("madeopen")
R = TypeVar("R")
WORKER_POOL_SQLITE = 2  # connections the workers' engine keeps between uses on SQLite (threaded_workers)


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionMaker
    urls: Urls
    secret_key: str
    client: FederationClient | None = None
    remote: RemoteActors | None = None
    fed: Federation | None = None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()
            self.client = None
        await self.engine.dispose()

    @property
    def user_agent(self) -> str:
        return f"MadeOpen/{__version__} (+{self.settings.base_url})"


def build_services(settings: Settings, *, pool_size: int | None = None) -> Services:
    """``pool_size``: connections the engine's pool keeps open between uses (SQLAlchemy's default, 5, if None)."""
    options = {} if pool_size is None else {"pool_size": pool_size}
    engine = create_engine(settings.database_url, changes_dir=settings.data_dir / "changes", **options)
    return Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        urls=Urls(settings.base_url),
        secret_key=load_or_create_secret(settings),
    )


async def migrate_database(services: Services) -> tuple[str | None, str | None]:
    """Apply migrations and make sure the instance actor exists."""
    before, after = await migrate.upgrade(services.engine)
    async with services.sessions.begin() as session:
        await local.ensure_instance_actor(session)
    return before, after


# Container objects allocated (net) before the collector looks at the young generation; CPython's default
# is 700. The delivery worker keeps a few thousand live containers in its pump (up to 384 claimed rows, each
# a task, its coroutine and frames, a job, futures), so at 700 every young collection re-walked that state:
# 60-90 of them per 2,000 deliveries, with the older generations they feed, ~10-15 µs of CPU a delivery in
# bench/fanout.py (gc.callbacks, issue #13, fan16). At 10,000, one; a young collection walks at most ~10,000
# objects (~1-2 ms), and cyclic garbage waits that much longer to be freed.
YOUNG_GENERATION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Once start-up is over (modules, mappers, templates, the federation client): move what exists now out
    of the garbage collector's sight (``gc.freeze``), and let the young generation grow to
    ``YOUNG_GENERATION_THRESHOLD`` before it is collected. Those objects live as long as the process, yet every
    full collection would walk them again; delivery allocates fast enough (thousands of requests per
    fan-out) to trigger such collections many times a second, and freezing cut the worker's CPU per
    delivery by about a tenth in bench/fanout.py (issue #13). Not for tests: what a test builds and drops
    would stay frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, *gc.get_threshold()[1:])


async def prepare(services: Services, *, auto_migrate: bool) -> None:
    """Check or bring the schema up to date, then start the federation client (needs the instance key)."""
    if auto_migrate:
        await migrate_database(services)
    else:
        await migrate.require_current(services.engine)
    await start_federation(services)


async def start_federation(services: Services) -> None:
    async with services.sessions.begin() as session:
        instance = await local.ensure_instance_actor(session)
    settings = services.settings
    services.client = FederationClient(
        user_agent=services.user_agent,
        default_signer=signer_for(instance, services.urls),
        allow_private_addresses=settings.allow_private_addresses,
        # The domain policy is asked before every outbound request: nothing reaches a refused host. From
        # memory, not a query per request (a fan-out is thousands of POSTs; issue #13).
        host_allowed=PolicyCache(services.sessions, allowlist=settings.allowlist_mode).allows,
        signing=SigningProcess() if settings.signing_process else None,
    )
    # A node on plain http is a development or test node: it discovers its peers over http too.
    services.remote = RemoteActors(
        services.sessions, services.client, services.urls, webfinger_scheme=settings.scheme
    )
    services.fed = Federation(
        services.sessions, services.urls, services.remote, services.client, allowlist=settings.allowlist_mode
    )


def build_workers(services: Services) -> Workers:
    """The workers of `madeopen run` and `madeopen worker` alike, configured from the settings."""
    assert services.fed is not None, "prepare() starts federation first"
    settings = services.settings
    return Workers(
        services.fed,
        delivery_lease=settings.delivery_lease,
        queue_poll=settings.queue_poll_seconds,
        queue_retention=settings.queue_retention,
        dead_retention=settings.dead_retention,
        mail_transport=mail_transport(settings),
        notification_mailer=NotificationMailer(services.sessions, services.urls, settings.sender,
                                               services.secret_key, settings.node_name),
        media_dir=settings.data_dir / "media",
    )


@asynccontextmanager
async def threaded_workers(settings: Settings, make: Callable[[Services], R] = build_workers) -> AsyncIterator[R]:
    """`madeopen run`'s workers (``make``'s) with services of their own, for madeopen.worker_thread: built in the
    event loop that runs them, closed when left. The web role checked (or migrated) the schema before.

    On SQLite their pool keeps two connections open between uses, not five: the workers take turns at the one
    writer, so two cover the inbound batches beside a delivery claim, and more than that are opened for a
    burst (the start, when every worker looks at once) and closed after it. Each connection kept is an
    aiosqlite thread and SQLite's caches, ~0.1-0.2 MB of an idle node (issue #13; bench/README "RSS")."""
    services = build_services(settings, pool_size=WORKER_POOL_SQLITE if is_sqlite(settings.database_url) else None)
    try:
        await start_federation(services)
        yield make(services)
    finally:
        await services.close()


def mail_transport(settings: Settings) -> Transport:
    """SMTP when MADEOPEN_SMTP_URL is set, else .eml files under the data directory."""
    return Transport(sender=settings.sender, smtp_url=settings.smtp_url, spool_dir=settings.data_dir / "mail")


def build_web_app(services: Services, *, with_workers: bool = False) -> web.Application:
    context = WebContext(
        urls=services.urls,
        sessions=services.sessions,
        node_name=services.settings.node_name,
        software_version=__version__,
        authorized_fetch=services.settings.signed_fetch_required,
        inbox_max_bytes=services.settings.inbox_max_bytes,
        upload_max_bytes=services.settings.upload_max_bytes,
        remote=services.remote,
        federation=services.fed,
        secret_key=services.secret_key,
        media_dir=services.settings.data_dir / "media",
        trusted_proxies=services.settings.trusted_proxies,
        allowlist_mode=services.settings.allowlist_mode,
        mail_sender=services.settings.sender,
        deleted_content=DeletedContent(services.settings.deleted_account_content),
    )
    app = create_app(context)

    if with_workers:
        # The embedded default (`madeopen run`): the workers live and die with the web server, on a thread
        # of their own with their own event loop and engine (madeopen/worker_thread.py says why).
        workers = WorkerThread(lambda: threaded_workers(services.settings))

        async def _start(_app: web.Application) -> None:
            workers.start()  # serving does not wait for the workers' start (an error there is logged)

        async def _stop(_app: web.Application) -> None:
            await workers.stop()

        app.on_startup.append(_start)
        app.on_shutdown.append(_stop)

    async def _close(_app: web.Application) -> None:
        await services.close()

    app.on_cleanup.append(_close)
    return app
