"""Change counters: in-process caches learn that a table they were built from has been written.

Every engine made by storage.engine watches the statements it sends: an INSERT, UPDATE, DELETE or
TRUNCATE naming a watched table marks the connection, and the counter of each topic whose tables it
names goes up when that connection commits and again when it is returned to the pool (after the commit
has happened: a reader that loaded the old rows between the two sees the second bump). A cache keeps the
counter it was filled under and refills when the counter has moved. This sees every write of this process,
ORM or Core, whatever module made it, so the caches need no call at each place that edits an actor.

Writes by other processes (another web process on the same PostgreSQL database, a CLI command) are not
seen here: caches built on these counters also expire after a few seconds (their TTL), which bounds
how long another process's change can go unnoticed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# What a local actor's documents (actor JSON, WebFinger) are built from.
ACTORS = "actors"
# What NodeInfo counts (people, local posts) and shows (the node settings).
NODEINFO = "nodeinfo"
# Remote actors' public keys (the inbox's signature check).
REMOTE_KEYS = "remote_keys"
# Domain blocks and the allowlist (the inbox's domain policy).
DOMAIN_POLICY = "domain_policy"
_ACTOR_TABLES = ("local_actors", "accounts", "groups", "profiles", "profile_tags", "node_settings")
_TOPICS: dict[str, tuple[str, ...]] = {
    ACTORS: _ACTOR_TABLES,
    NODEINFO: (*_ACTOR_TABLES, "objects"),
    REMOTE_KEYS: ("remote_keys", "remote_actors"),
    DOMAIN_POLICY: ("domain_blocks", "domain_allows"),
}
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "WITH")  # WITH: a CTE may write (PostgreSQL)
_PENDING = "madeopen_changed_topics"
_counters: dict[str, int] = dict.fromkeys(_TOPICS, 0)


def counter(topic: str) -> int:
    """The number of committed writes to ``topic``'s tables this process has seen (it only goes up)."""
    return _counters[topic]


def bump(topic: str) -> None:
    """Count a change made outside the watched engines (or announced by another process)."""
    _counters[topic] += 1


def watch(engine: AsyncEngine) -> None:
    event.listen(engine.sync_engine, "before_cursor_execute", _seen)
    event.listen(engine.sync_engine, "commit", _committing)
    event.listen(engine.sync_engine.pool, "checkin", _returned)


def _topics_of(statement: str) -> set[str]:
    if not statement.lstrip()[:8].upper().startswith(_WRITES):
        return set()
    lowered = statement.lower()
    return {topic for topic, tables in _TOPICS.items() if any(table in lowered for table in tables)}


def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    topics = _topics_of(statement)
    if topics:
        conn.info.setdefault(_PENDING, set()).update(topics)


def _committing(conn: Any) -> None:
    for topic in conn.info.get(_PENDING, ()):
        _counters[topic] += 1


def _returned(_dbapi_connection: Any, record: Any) -> None:
    if record is None:
        return
    for topic in record.info.pop(_PENDING, ()):
        _counters[topic] += 1
