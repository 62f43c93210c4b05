"""Backfill: a remote group's recent threads, read from its outbox (issue #10 item 8).

A group only sends its members what happens after they join, so a new member would face "No threads
have reached us yet". Lemmy fetches a community's outbox when it first sees the community; so do we,
when the group accepts one of our people (the Accept handler, in the inbound worker) and when someone
opens the page of a remote group we hold no threads of (web.routes.groups: in the background, never
holding the page).

Bounded: the outbox's first page only, at most :data:`MAX_ITEMS` items, every fetch signed (the
federation client) and counted against one FetchBudget. Each item must be trusted exactly as if the
group had delivered it (PROTOCOL.md "Validation"): the page is fetched from the group's own origin; an
item is taken embedded only when it is on that origin (or carries a proof that holds), otherwise
fetched from its own origin; an announced ``Create`` must be on its actor's host and its post by that
actor, re-fetched from its origin when embedded from elsewhere. Accepted shapes:

- ``Announce{Create{Page|Note|...}}`` (Lemmy, PieFed, Made Open) and ``Announce{<post>}``;
- a plain ``Create{<post>}`` (outboxes that list their members' activities directly);
- the post itself.

Thread starts only, and replies whose parent we hold (items are taken oldest first, so a thread comes
before its replies); votes, edits, deletions and moderation in the outbox are skipped: they are about
the past. Posts are stored by the same code as announced ones (handlers.create.accept_post with
``via_group``), which also refuses a post that belongs to another group. Storing twice is impossible
(posts are unique by id), so a backfill may run again at any time. A bad item is dropped with a log
and the others still come in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from sqlalchemy import select

from actors.errors import DomainError
from content.store import object_by_uri
from federation import offline
from federation.activities import object_id
from federation.http_errors import FetchError
from federation.objects import ObjectData, is_post
from federation.remote_actor import origin
from inbox_outbox.dereference import FetchBudget, trusted_document
from inbox_outbox.drop import Drop
from inbox_outbox.federation import Federation
from inbox_outbox.ids import is_local
from inbox_outbox.remote_groups import collection_url
from storage.models import RemoteActor

log = logging.getLogger(__name__)
MAX_ITEMS = 20
# Opening an empty remote group's page starts a backfill at most this often per group and process.
RETRY_AFTER_S = 600.0
# A backfill gives up after this long (each fetch has its own timeouts too): posts stored by then stay.
TIMEOUT_S = 60.0


async def after_join(fed: Federation, group: RemoteActor) -> int:
    """One of our people was accepted into ``group``: fetch its recent threads, for at most
    :data:`TIMEOUT_S` (the inbound worker waits for it). Never raises."""
    try:
        return await asyncio.wait_for(backfill(fed, group), timeout=TIMEOUT_S)
    except TimeoutError:
        log.info("backfill of %s: gave up after %.0f s", group.uri, TIMEOUT_S)
    except offline.NetworkForbidden:
        raise  # inside an inbound batch: the worker runs the Accept again alone, where it may fetch
    except Exception:  # a backfill is a courtesy: the Accept it follows must still count
        log.exception("backfill of %s failed", group.uri)
    return 0


async def backfill(fed: Federation, group: RemoteActor, *, max_items: int = MAX_ITEMS) -> int:
    """Store the recent threads of ``group`` from its outbox; returns how many posts were new."""
    # Imported here: the web routes import this module, and the inbound handlers load on first use (issue #13).
    from inbox_outbox.handlers.create import accept_post

    budget = FetchBudget(fed.fetch_budget)
    items = await _first_page_items(fed, group, budget)
    stored = 0
    for item in reversed(items[:max_items]):  # newest first in the outbox; parents before replies here
        try:
            post = await _post_of(fed, group, item, budget)
            if post is not None and await _takes(fed, post) and await accept_post(fed, post, via_group=group.uri):
                stored += 1
        except Drop as exc:
            log.info("backfill of %s: dropped %s: %s", group.uri, _describe(item), exc)
    log.info("backfill of %s: %d new posts from %d outbox items", group.uri, stored, min(len(items), max_items))
    return stored


async def _first_page_items(fed: Federation, group: RemoteActor, budget: FetchBudget) -> list[Any]:
    url = collection_url(group, "outbox")
    if url is None:
        log.info("backfill of %s: it names no outbox on its own server", group.uri)
        return []
    page: object = await _fetch(fed, url, group, budget)
    if isinstance(page, dict) and not _listed(page):
        first = page.get("first")
        page = await _fetch(fed, first, group, budget) if isinstance(first, str) else first
    items = _listed(page) if isinstance(page, dict) else None
    return items or []


def _listed(page: dict[str, Any]) -> list[Any] | None:
    items = page.get("orderedItems", page.get("items"))
    return items if isinstance(items, list) else None


async def _fetch(fed: Federation, url: str, group: RemoteActor, budget: FetchBudget) -> dict[str, Any] | None:
    """A page of the outbox, from the group's own origin only (what it says there, it says itself)."""
    if origin(url) != origin(group.uri):
        log.info("backfill of %s: outbox page %s is on another server; not read", group.uri, url)
        return None
    try:
        budget.spend(url)
        return await fed.client.fetch_document(url)
    except (FetchError, Drop) as exc:
        log.info("backfill of %s: could not read %s: %s", group.uri, url, exc)
        return None


async def _post_of(fed: Federation, group: RemoteActor, item: object, budget: FetchBudget) -> ObjectData | None:
    """The post an outbox item brings, trusted as PROTOCOL.md "Validation" says; None for other kinds."""
    from inbox_outbox.handlers.create import parse_post  # on first use, as in backfill()

    if is_local(fed.urls, object_id(item) or ""):
        return None  # our own post or activity: we have the original
    document = await trusted_document(fed, item, group.uri, budget)
    if document.get("type") == "Announce":
        if object_id(document.get("actor")) != group.uri:
            raise Drop(f"an Announce by {object_id(document.get('actor'))} in the outbox of {group.uri}")
        inner = document.get("object")
        if is_local(fed.urls, object_id(inner) or ""):
            return None
        document = await trusted_document(fed, inner, group.uri, budget)
    if is_post(document):
        return parse_post(document)
    if document.get("type") != "Create":
        return None  # votes, edits, deletions, moderation: about the past
    actor = object_id(document.get("actor"))
    created = object_id(document)
    if actor is None or created is None or origin(created) != origin(actor):
        raise Drop(f"Create {created} is not on its actor's host ({actor})")
    post = parse_post(await trusted_document(fed, document.get("object"), actor, budget))
    if post.author != actor:
        raise Drop(f"{actor} may not create a post attributed to {post.author}")
    await _resolve_author(fed, actor)
    return post


async def _takes(fed: Federation, post: ObjectData) -> bool:
    """Thread starts, and replies whose parent we hold; nothing we have already."""
    async with fed.sessions() as session:
        if await object_by_uri(session, post.id) is not None:
            return False
        return post.in_reply_to is None or await object_by_uri(session, post.in_reply_to) is not None


async def _resolve_author(fed: Federation, actor: str) -> None:
    """Cache the author (their name on the thread list); a server that is down just leaves the id."""
    try:
        await fed.remote.resolve(actor)
    except DomainError as exc:
        log.info("backfill: cannot resolve %s: %s", actor, exc.message)


def _describe(item: object) -> str:
    return str(object_id(item) or type(item).__name__)[:200]


# --------------------------------------------------------------------------------------------------
# Started by a page view: in the background, once in a while per group


_tasks: dict[str, asyncio.Task[int]] = {}
_started: dict[str, float] = {}


async def start_if_empty(fed: Federation, group_uri: str) -> bool:
    """The page of the remote group ``group_uri`` shows no threads: backfill it in the background
    (see :func:`start_in_background`). False when it is no group we know, or was tried lately."""
    async with fed.sessions() as session:
        group = await session.scalar(select(RemoteActor).where(RemoteActor.uri == group_uri))
    if group is None or group.actor_type != "Group":
        return False
    return start_in_background(fed, group)


def start_in_background(fed: Federation, group: RemoteActor) -> bool:
    """Begin a backfill of ``group`` without waiting for it; False when one ran for it lately."""
    now = time.monotonic()
    running = _tasks.get(group.uri)
    if (running is not None and not running.done()) or now - _started.get(group.uri, -RETRY_AFTER_S) < RETRY_AFTER_S:
        return False
    _started[group.uri] = now
    task = asyncio.create_task(after_join(fed, group), name=f"backfill {group.uri}")
    _tasks[group.uri] = task
    task.add_done_callback(lambda done: _tasks.pop(group.uri, None) if _tasks.get(group.uri) is done else None)
    return True

