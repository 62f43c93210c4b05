"""Change counters: in-process caches learn that a table they were built from has been written.

Every engine made by storage.engine watches the statements it sends: an INSERT, UPDATE, DELETE or
TRUNCATE naming a watched table marks the connection, and the counter of each topic whose tables it
names goes up when that connection commits and again when it is returned to the pool (after the commit
has happened: a reader that loaded the old rows between the two sees the second bump). A cache keeps the
counter it was filled under and refills when the counter has moved. This sees every write of this process,
ORM or Core, whatever module made it, so the caches need no call at each place that edits an actor.

Other processes on the same machine (a second web process, a worker, a CLI command: anything sharing
the node's data directory) learn of it through a file per topic in ``<data dir>/changes/``, whose
modification time the writing process sets at the same two moments; a reader compares it with a
``stat`` (about a microsecond). Processes on other machines (several hosts on one PostgreSQL database) see
neither: caches built on these counters also expire after a few seconds (storage/memo.py), which bounds
how long such a change can go unnoticed.

The same watch tells the queue workers of this process that rows were queued for them (an INSERT into
``deliveries``, ``fanouts`` or ``inbound_activities``), once the connection is back in the pool: storage/queue_signal.py.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queue_signal

# What a local actor's documents (actor JSON, WebFinger) are built from.
ACTORS = "actors"
# Who belongs to which of our groups, and in what state and role (actors/memberships.py keeps remote
# members' standing in memory for the inbound pipeline, issue #13). The actors' and groups' tables too: a
# membership names its group and remote actor by row id, and a deleted actor's or group's memberships go by
# an ON DELETE CASCADE that no statement of ours names (and SQLite may give a later row the same id).
MEMBERSHIPS = "memberships"
# Who watches which group for new threads (actors/watchers.py keeps each group's watchers in memory: every
# new thread that arrives asks, issue #13); a watcher who is deleted goes by a cascade.
GROUP_WATCHES = "group_watches"
# What NodeInfo counts (people, local posts) and shows (the node settings).
NODEINFO = "nodeinfo"
# What a post's public AS2 answer at its id is built from (web/routes/objects.py): the post, its replies and
# counts, who may read it (its group's visibility, its recipients) and whether its author is suspended.
OBJECTS = "objects"
# Remote actors' public keys (the inbox's signature check).
REMOTE_KEYS = "remote_keys"
# Domain blocks, the allowlist and suspended remote accounts (the inbox's domain policy).
DOMAIN_POLICY = "domain_policy"
# What queues rows for the people finder's index (search_pending itself, and the tables whose triggers fill
# it: migration 0003).
SEARCH_PENDING = "search_pending"
# What anonymous pages show (web/page_cache.py): every table but those only a logged-in viewer, a queue or a
# log reads (PAGE_BLIND_TABLES); tests/web/test_page_cache.py checks that each table is in one of the two.
PAGES = "pages"
PAGE_BLIND_TABLES = frozenset({
    "login_attempts", "browser_sessions", "account_tokens", "feed_tokens", "mail_queue", "mail_requests",
    "mail_preferences", "mail_digests", "notifications", "thread_reads", "search_pending", "inbound_activities",
    "queue_workers", "deliveries", "fanouts", "hosts", "remote_keys",
    "actor_suspensions",  # only admins see the list; what a suspension hides is written to objects
})
PAGE_TABLES = (
    "objects", "object_recipients", "board_counts", "status_changes", "thread_followers", "follows", "reactions", "boosts",
    "featured", "flags", "moderation_log", "recognition_settings", "kudos", "badge_awards", "received_badges",
    "rewards", "redemptions", "recognition_optouts", "profiles", "profile_tags", "local_actors", "accounts",
    "groups", "memberships", "remote_actors", "node_settings", "post_attachments", "post_hashtags", "activities",
    "domain_blocks", "domain_allows", "projects", "project_tasks", "task_assignees", "task_comments",
    "project_invites", "doc_settings", "docs", "doc_revisions", "doc_proposals", "doc_comment_marks",
    "group_watches", "person_blocks",  # person_blocks: a member's kept thread page folds whom they block
)
_ACTOR_TABLES = ("local_actors", "accounts", "groups", "profiles", "profile_tags", "node_settings")
_TOPICS: dict[str, tuple[str, ...]] = {
    ACTORS: _ACTOR_TABLES,
    MEMBERSHIPS: ("memberships", "remote_actors", "local_actors", "groups"),
    GROUP_WATCHES: ("group_watches", "local_actors"),
    NODEINFO: (*_ACTOR_TABLES, "objects"),
    OBJECTS: ("objects", "object_recipients", "groups", "local_actors", "accounts"),
    REMOTE_KEYS: ("remote_keys", "remote_actors"),
    DOMAIN_POLICY: ("domain_blocks", "domain_allows", "actor_suspensions"),
    PAGES: PAGE_TABLES,
    SEARCH_PENDING: ("search_pending", "objects", "local_actors", "groups", "accounts"),
}
# Whole names: "activities" is not "inbound_activities" (an inbox POST changes no page), nor "objects" "objects_fts".
_NAMES = {topic: re.compile(r"\b(?:" + "|".join(tables) + r")\b") for topic, tables in _TOPICS.items()}
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "WITH")  # WITH: a CTE may write (PostgreSQL)
# The one table an INSERT, UPDATE or DELETE writes (optionally schema-qualified and quoted). Only that name
# counts: an ``INSERT INTO deliveries … SELECT … FROM remote_actors`` reads the actors and changes none
# (issue #13: a group's fan-out named them, and every inbound batch emptied the remote actors' memo).
# TRUNCATE may name several tables and WITH may write in any of its parts: the whole statement counts.
_TARGET = re.compile(
    r'\s*(?:insert\s+(?:or\s+\w+\s+)?into|update(?:\s+or\s+\w+)?(?:\s+only)?|delete\s+from(?:\s+only)?)'
    r'\s+(?:"?\w+"?\.)?"?(\w+)"?',
    re.IGNORECASE,
)
# In a WITH statement (PostgreSQL: an INSERT … RETURNING in a CTE, issue #13), the tables its INSERTs,
# UPDATEs and DELETEs name, wherever they stand: the SELECTs around them (a ``WHERE EXISTS`` on the
# memberships) read and change nothing. An UPDATE that is no statement (``FOR UPDATE``, ``DO UPDATE SET``)
# yields a name no topic has.
_TARGETS = re.compile(
    r'\b(?:insert\s+(?:or\s+\w+\s+)?into|update(?:\s+or\s+\w+)?(?:\s+only)?|delete\s+from(?:\s+only)?)'
    r'\s+(?:"?\w+"?\.)?"?(\w+)"?',
    re.IGNORECASE,
)
_PENDING = "madeopen_changed_topics"
# Rows queued for a worker: woken once the connection is back in the pool (storage/queue_signal.py). Only
# INSERTs, so that a worker's own claims and outcomes (UPDATEs) do not wake it again.
_QUEUED = "madeopen_queued_tables"
_INSERT_INTO_QUEUE = re.compile(
    r"\s*INSERT\s+INTO\s+(" + "|".join(queue_signal.TABLES) + r")\b", re.IGNORECASE
)
_INSERTS_INTO_QUEUE = re.compile(r"\bINSERT\s+INTO\s+(" + "|".join(queue_signal.TABLES) + r")\b", re.IGNORECASE)
_counters: dict[str, int] = dict.fromkeys(_TOPICS, 0)
# Engines of two threads count (`madeopen run`'s workers have their own: madeopen/worker_thread.py), and
# `+=` on a dict item is not atomic: a lost count could leave a cache filled between two writes unrefreshed.
_counting = threading.Lock()
# sync engine -> its change files by topic (as str: building a Path on each lookup cost more than the stat)
_shared: weakref.WeakKeyDictionary[Any, dict[str, str]] = weakref.WeakKeyDictionary()


def counter(topic: str, engine: AsyncEngine | None = None) -> tuple[int, int]:
    """What a cache compares: the committed writes to ``topic``'s tables this process has seen, and when
    another process sharing ``engine``'s change files last wrote them (both only go up)."""
    files = _shared.get(engine.sync_engine) if engine is not None else None
    if files is None:
        return _counters[topic], 0
    try:
        return _counters[topic], os.stat(files[topic]).st_mtime_ns
    except OSError:
        return _counters[topic], -1  # the file is gone: count it as a change when it comes back


def uncommitted(connection_info: dict[Any, Any], topic: str) -> bool:
    """Whether the connection whose ``info`` this is (``Connection.info``) wrote ``topic``'s tables in the
    transaction it has open: a cache must not answer for them then, its counter has not moved yet (it moves
    at the commit). Conservative: a write undone by a rollback to a savepoint still counts."""
    return topic in connection_info.get(_PENDING, ())


def watch(engine: AsyncEngine, shared_dir: Path | None = None) -> None:
    """Count ``engine``'s writes; with ``shared_dir``, tell the other processes using that directory too."""
    if shared_dir is not None:
        shared_dir.mkdir(parents=True, exist_ok=True)
        for topic in _TOPICS:
            (shared_dir / topic).touch()
        _shared[engine.sync_engine] = {topic: str(shared_dir / topic) for topic in _TOPICS}

    def changed(topics: Iterable[str]) -> None:
        for topic in topics:
            with _counting:
                _counters[topic] += 1
            if shared_dir is not None:
                _touch(shared_dir / topic)

    def committing(conn: Any) -> None:
        changed(conn.info.get(_PENDING, ()))

    def returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            changed(record.info.pop(_PENDING, ()))
            tables = record.info.pop(_QUEUED, None)
            if tables:  # after the commit (or rollback: then the woken worker finds nothing)
                queue_signal.queued(engine, tables)

    event.listen(engine.sync_engine, "before_cursor_execute", _seen)
    event.listen(engine.sync_engine, "commit", committing)
    event.listen(engine.sync_engine.pool, "checkin", returned)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except FileNotFoundError:
        path.touch()


def _topics_of(statement: str) -> frozenset[str]:
    head = statement.lstrip()[:8].upper()
    if not head.startswith(_WRITES):
        return frozenset()
    if head.startswith("WITH"):
        targets = [found.group(1).lower() for found in _TARGETS.finditer(statement)]
        written = " ".join(targets) if targets else statement.lower()
    else:
        target = _TARGET.match(statement)
        written = target.group(1).lower() if target is not None else statement.lower()
    return frozenset(topic for topic, names in _NAMES.items() if names.search(written))


@functools.lru_cache(maxsize=1024)
def _marks(statement: str) -> tuple[frozenset[str], frozenset[str]]:
    """What a statement's text tells: the topics it writes, and the queue tables it inserts into. Kept per
    text: the same statements come back all the time (SQLAlchemy caches their compiled form), and
    searching each anew was ~0.1 ms of every inbound activity (issue #13, sixth pass)."""
    if statement.lstrip()[:4].upper() == "WITH":  # its INSERTs may stand anywhere in it
        queues = frozenset(found.group(1).lower() for found in _INSERTS_INTO_QUEUE.finditer(statement))
    else:
        queue = _INSERT_INTO_QUEUE.match(statement)  # anchored: a SELECT fails at its first letter
        queues = frozenset((queue.group(1).lower(),)) if queue is not None else frozenset()
    return _topics_of(statement), queues


def _seen(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    topics, queues = _marks(statement)
    if topics:
        conn.info.setdefault(_PENDING, set()).update(topics)
    if queues:
        conn.info.setdefault(_QUEUED, set()).update(queues)

