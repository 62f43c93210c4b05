"""Rendered federation documents (actor JSON, WebFinger, NodeInfo) kept in memory, per application.

Peers fetch the same few documents over and over (every signature they verify may mean a fetch of the
signer's actor), and rendering one means a joined ORM load, key parsing and JSON encoding: about ten
times what sending cached bytes costs. An entry is the encoded body, kept while

- the change counter of its topic (storage/changes.py) has not moved: any write of this process to the
  tables the document is built from (a profile edit, a key rotation, a suspension, a deletion, the node
  settings) drops every entry of that topic at once, and
- it is younger than ``TTL_SECONDS``: the bound on how long a change made by another process (a second
  web process on the same PostgreSQL database, a CLI command) can go unseen.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from storage import changes
from storage.memo import Memo

TTL_SECONDS = 5.0  # see storage/memo.py


@dataclass(frozen=True)
class Documents:
    """The caches of one application (web/app.py)."""

    actors: Memo[object]
    webfinger: Memo[bytes]
    nodeinfo: Memo[bytes]


DOCUMENTS = web.AppKey("madeopen_document_cache", Documents)


def install(app: web.Application) -> None:
    app[DOCUMENTS] = Documents(
        Memo(changes.ACTORS, TTL_SECONDS), Memo(changes.ACTORS, TTL_SECONDS),
        Memo(changes.NODEINFO, TTL_SECONDS),
    )


def documents(request: web.Request) -> Documents:
    return request.app[DOCUMENTS]
