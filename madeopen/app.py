"""Composition root: build the engine, the web context and the application from Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from actors import local
from actors.urls import Urls
from madeopen import __version__
from madeopen.secrets import load_or_create_secret
from madeopen.settings import Settings
from storage import migrate
from storage.engine import SessionMaker, create_engine, session_factory
from web.app import create_app
from web.context import WebContext

log = logging.getLogger("madeopen")


@dataclass
class Services:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionMaker
    urls: Urls
    secret_key: str

    async def close(self) -> None:
        await self.engine.dispose()


def build_services(settings: Settings) -> Services:
    engine = create_engine(settings.database_url)
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


async def prepare(services: Services, *, auto_migrate: bool) -> None:
    if auto_migrate:
        await migrate_database(services)
    else:
        await migrate.require_current(services.engine)


def build_web_app(services: Services) -> web.Application:
    context = WebContext(
        urls=services.urls,
        sessions=services.sessions,
        node_name=services.settings.node_name,
        software_version=__version__,
        authorized_fetch=services.settings.authorized_fetch,
        inbox_max_bytes=services.settings.inbox_max_bytes,
    )
    app = create_app(context)

    async def _close(_app: web.Application) -> None:
        await services.close()

    app.on_cleanup.append(_close)
    return app
