"""Rendered federation documents (actor JSON, WebFinger, NodeInfo, public posts) kept in memory, per application.

Peers fetch the same few documents over and over (every signature they verify may mean a fetch of the
signer's actor), and rendering one means a joined ORM load, key parsing and JSON encoding: about ten
times what sending cached bytes costs. A post is fetched by every server its group's Announce reaches,
all at once, and its answer (with the replies' first page) takes several queries: tens of times more. An entry is the encoded body, kept while

- the change counter of its topic (storage/changes.py) has not moved: any write by a process of this node
  (this one, another web process, a worker, a CLI command sharing the data directory) to the tables the
  document is built from (a profile edit, a key rotation, a suspension, a deletion, the node settings)
  drops every entry of that topic at once, and
- it is younger than ``TTL_SECONDS``: the bound on how long a change made on another machine (several
  hosts on one PostgreSQL database) can go unseen.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from storage import changes
from storage.engine import SessionMaker
from storage.memo import Memo

TTL_SECONDS = 5.0  # see storage/memo.py


@dataclass(frozen=True)
class Documents:
    """The caches of one application (web/app.py)."""

    actors: Memo[object]
    webfinger: Memo[bytes]
    nodeinfo: Memo[bytes]
    objects: Memo[object]


DOCUMENTS = web.AppKey("madeopen_document_cache", Documents)


def install(app: web.Application, sessions: SessionMaker) -> None:
    app[DOCUMENTS] = Documents(
        Memo(changes.ACTORS, TTL_SECONDS, sessions), Memo(changes.ACTORS, TTL_SECONDS, sessions),
        Memo(changes.NODEINFO, TTL_SECONDS, sessions), Memo(changes.OBJECTS, TTL_SECONDS, sessions),
    )


def documents(request: web.Request) -> Documents:
    return request.app[DOCUMENTS]
