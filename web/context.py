"""What the web layer is handed by the composition root (madeopen/app.py). No I/O at import time."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from actors.remote import RemoteActors
from actors.urls import Urls
from storage.engine import SessionMaker


@dataclass(frozen=True)
class WebContext:
    urls: Urls
    sessions: SessionMaker
    node_name: str
    software_version: str
    authorized_fetch: bool = False
    inbox_max_bytes: int = 256 * 1024
    open_registrations: bool = False
    remote: RemoteActors | None = None


CONTEXT_KEY = web.AppKey("madeopen_context", WebContext)


def get_context(request: web.Request) -> WebContext:
    return request.app[CONTEXT_KEY]
