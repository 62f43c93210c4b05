"""What the web layer is handed by the composition root (madeopen/app.py). No I/O at import time."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from actors.remote import RemoteActors
from actors.urls import Urls
from inbox_outbox.federation import Federation
from inbox_outbox.services.deleted_content import DeletedContent
from storage.engine import SessionMaker


@dataclass(frozen=True)
class WebContext:
    urls: Urls
    sessions: SessionMaker
    node_name: str
    software_version: str
    authorized_fetch: bool = False
    inbox_max_bytes: int = 256 * 1024
    upload_max_bytes: int = 8 * 1024 * 1024  # MADEOPEN_UPLOAD_MAX_BYTES: an image attached to a post
    remote: RemoteActors | None = None
    secret_key: str = ""  # the node's secret: session cookies are encrypted with a key derived from it
    media_dir: Path = Path("data/media")  # uploaded images (avatars, logo), served under /media/
    # Reverse proxies whose X-Forwarded-For names the client (MADEOPEN_TRUSTED_PROXIES; web/client_address.py).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # MADEOPEN_DELETED_ACCOUNT_CONTENT: what a deleted account's posts become.
    deleted_content: DeletedContent = DeletedContent.REMOVE
    # The activity services' handle (database, URLs, remote-actor cache, signing client): one per process,
    # built by madeopen.app.start_federation; None until federation is started.
    federation: Federation | None = None
    # MADEOPEN_FEDERATION_MODE=allowlist: the inbox refuses every host not on the allowlist (actors.blocks).
    allowlist_mode: bool = False
    # The From header of mail the web queues (MADEOPEN_MAIL_FROM; madeopen.settings.Settings.sender).
    mail_sender: str = "Made Open <noreply@localhost>"

    @property
    def fed(self) -> Federation:
        """The federation handle for a handler that sends or resolves anything; 503 when it is not running."""
        if self.federation is None:
            raise web.HTTPServiceUnavailable(text="federation is not running on this node")
        return self.federation


CONTEXT_KEY = web.AppKey("madeopen_context", WebContext)
# Values every HTML page gets (branding, the logged-in person, csrf_field()); set by web/sessions.py.
PAGE_VALUES = web.RequestKey("madeopen_page_values", dict[str, Any])


def get_context(request: web.Request) -> WebContext:
    return request.app[CONTEXT_KEY]
