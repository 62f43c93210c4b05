"""Remote actors: resolve by URL or ``name@host`` through the signing client, cache them, find their keys.

Keys are looked up by ``keyId`` for signature verification. A refresh (key rotation) re-fetches the key
at most a few times per host per minute, so a stream of bad signatures cannot make us hammer a host.
Concurrent lookups of the same key, and concurrent resolves of the same actor, share one fetch
(``actors.single_flight``): six signed requests from a new peer cost one ``GET`` of its key.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urldefrag, urlsplit

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import DomainError, InvalidInput, NotFound
from actors.single_flight import SingleFlight
from actors.urls import Urls
from federation import discovery
from federation.http import FederationClient
from federation.http_errors import FetchError
from federation.keys import load_public_pem, public_pem
from federation.remote_actor import InvalidActor, RemoteActorData, origin, parse_actor
from federation.signatures import PublicKeyRecord
from people import index as people_index
from storage import changes, memo
from storage.engine import SessionMaker
from storage.memo import Memo
from storage.models import RemoteActor, RemoteKey, utcnow

log = logging.getLogger(__name__)
ACTOR_TTL = timedelta(days=1)
REFRESHES_PER_HOST = 5
REFRESH_PERIOD_S = 60.0
UNKNOWN_KEYS_PER_HOST = 60  # a busy instance introduces many new actors a minute; made-up keyIds stop here


class ResolveError(DomainError):
    """A remote actor could not be fetched or is not usable (502: the other server's fault)."""

    status = 502


@dataclass
class _HostRateLimit:
    """At most ``limit`` events per host in any ``period`` seconds (a sliding window)."""

    limit: int = REFRESHES_PER_HOST
    period: float = REFRESH_PERIOD_S
    events: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, host: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        window = self.events[host]
        while window and now - window[0] > self.period:
            window.popleft()
        if len(window) >= self.limit:
            return False
        window.append(now)
        return True


class RemoteActors:
    def __init__(self, sessions: SessionMaker, client: FederationClient, urls: Urls, *, webfinger_scheme: str) -> None:
        self.sessions = sessions
        self.client = client
        self.urls = urls
        self.webfinger_scheme = webfinger_scheme
        self.refresh_limit = _HostRateLimit()
        self.unknown_key_limit = _HostRateLimit(limit=UNKNOWN_KEYS_PER_HOST)
        # Concurrent requests that need the same unknown key (or actor) share one fetch.
        self._key_fetches: SingleFlight[None] = SingleFlight()
        self._actor_fetches: SingleFlight[RemoteActor] = SingleFlight()
        self._keys: Memo[PublicKeyRecord] = Memo(changes.REMOTE_KEYS, memo.TTL_SECONDS, sessions)
        # Stored actors by URL: the inbound pipeline resolves the sender of every activity. Any write to
        # remote actors or keys, by any process of the node, drops them at once (storage/memo.py).
        self._actors: Memo[RemoteActor] = Memo(changes.REMOTE_KEYS, memo.TTL_SECONDS, sessions)

    # -- resolving --------------------------------------------------------------------------------

    async def resolve(self, ref: str, *, refresh: bool = False) -> RemoteActor:
        """By actor URL, or by ``name@host`` / ``acct:name@host`` / ``@name@host`` / ``!group@host``."""
        url = ref if ref.startswith(("http://", "https://")) else await self.webfinger(ref)
        url = urldefrag(url).url
        self._refuse_local(url)
        cached = None if refresh else await self._actors.get_or_load(url, lambda: self._stored_actor(url))
        if cached is None or refresh:
            return await self._fetch_once(url)
        if utcnow() - _aware(cached.fetched_at) < ACTOR_TTL:
            return cached
        try:
            return await self._fetch_once(url)
        except ResolveError as exc:
            # A stale copy beats none: the actor may be gone (410, a self-Delete on its way) or its
            # server briefly down; what it signed was verified with the key we hold.
            log.info("using the cached copy of %s: %s", url, exc.message)
            return cached

    async def _stored_actor(self, url: str) -> RemoteActor | None:
        async with self.sessions() as session:
            actor = await session.scalar(select(RemoteActor).where(RemoteActor.uri == url))
            if actor is not None:
                # Detached at once, loaded: the copy in memory is shared by every caller, and must not
                # be expired by a rollback of the session it came from (an inbound batch's, storage/batch.py).
                session.expunge(actor)
            return actor

    async def webfinger(self, handle: str) -> str:
        try:
            acct = discovery.parse_resource(handle, self.urls.domain)
        except discovery.BadResource as exc:
            raise InvalidInput(str(exc)) from None
        if isinstance(acct, str):
            return acct
        if acct.host == self.urls.domain:
            raise InvalidInput(f"{handle} is on this server, not a remote actor")
        query = quote(f"acct:{acct.user}@{acct.host}", safe=":@")
        url = f"{self.webfinger_scheme}://{acct.host}/.well-known/webfinger?resource={query}"
        try:
            jrd = await self.client.fetch_json(url)
        except FetchError as exc:
            raise NotFound(f"could not find {acct.user}@{acct.host}: {exc}") from None
        href = discovery.actor_link(jrd)
        if href is None:
            raise NotFound(f"{acct.user}@{acct.host} has no ActivityPub actor")
        return href

    async def _fetch_once(self, url: str) -> RemoteActor:
        return await self._actor_fetches.run(url, lambda: self._fetch_and_store(url))

    async def _fetch_and_store(self, url: str) -> RemoteActor:
        try:
            document = await self.client.fetch_document(url)
            data = parse_actor(document)
        except (FetchError, InvalidActor) as exc:
            raise ResolveError(f"could not resolve {url}: {exc}") from None
        self._refuse_local(data.id)
        return await self.store(data, document)

    def _refuse_local(self, url: str) -> None:
        # Remote content never overwrites a local object (PROTOCOL.md "Validation").
        if origin(url) == origin(self.urls.base):
            raise InvalidInput(f"{url} is on this server, not a remote actor")

    async def store(self, data: RemoteActorData, document: dict[str, Any]) -> RemoteActor:
        """Insert or update the cached actor and replace its keys, in one transaction."""
        for attempt in range(2):
            try:
                async with self.sessions.begin() as session:
                    return await _upsert(session, data, document)
            except IntegrityError:
                if attempt:  # a concurrent resolve inserted it first; the second pass updates it
                    raise
        raise AssertionError("unreachable")

    # -- keys -------------------------------------------------------------------------------------

    async def key_lookup(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        """The signature verifier's injected lookup (federation.signatures.KeyLookup)."""
        if not key_id.startswith(("http://", "https://")):
            return None
        if not refresh:
            record = await self._cached_key(key_id)
            if record is not None:
                return record  # every accepted POST asks: the URL parsing below is for fetches only
        host = urlsplit(key_id).netloc.lower()
        fetch_url = urldefrag(key_id).url
        # Joining a fetch already under way costs nothing; a new one counts against the host's budget:
        # unknown keys cost a fetch each (a flood of made-up keyIds must not turn us into a crawler of
        # one server), refreshes after a failed verification are rarer still.
        limit = self.refresh_limit if refresh else self.unknown_key_limit
        if not self._key_fetches.in_flight(fetch_url) and not limit.allow(host):
            return None
        try:
            await self._key_fetches.run(fetch_url, lambda: self._fetch_key_owner(key_id))
        except (ResolveError, InvalidInput, NotFound):
            return None
        return await self._cached_key(key_id)

    async def _cached_key(self, key_id: str) -> PublicKeyRecord | None:
        # In memory first (storage/memo.py): a write to remote keys or actors (a re-fetch after a failed
        # verification, a rotation, a Delete) by any process of this node drops it at once. A rotated key that another process stored fails verification here and is re-fetched.
        record = self._keys.get(key_id)
        if record is None:
            counter = self._keys.counter()
            record = await self._stored_key(key_id)
            if record is not None:
                self._keys.put(key_id, record, counter)
        return record

    async def _stored_key(self, key_id: str) -> PublicKeyRecord | None:
        async with self.sessions() as session:
            row = await session.execute(
                select(RemoteKey.public_key_pem, RemoteActor.uri)
                .join(RemoteActor, RemoteActor.id == RemoteKey.actor_id)
                .where(RemoteKey.key_id == key_id)
            )
            found = row.first()
        if found is None:
            return None
        return PublicKeyRecord(key_id=key_id, owner=found.uri, public_key=load_public_pem(found.public_key_pem))

    async def _fetch_key_owner(self, key_id: str) -> None:
        """Mastodon serves the key inside the actor (``actor#main-key``); GoToSocial a key document with
        an ``owner``. Either way the owner's actor document, fetched from its own origin, lists the key."""
        url = urldefrag(key_id).url
        self._refuse_local(url)
        try:
            document = await self.client.fetch_document(url)
        except FetchError as exc:
            raise ResolveError(f"could not fetch key {key_id}: {exc}") from None
        if "inbox" in document:
            data = _parse_or_fail(document)
            # fetch_document may have followed the document's own id elsewhere: never cache one of ours.
            self._refuse_local(data.id)
            await self.store(data, document)
            return
        owner = document.get("owner")
        if not isinstance(owner, str) or origin(owner) != origin(key_id):
            raise ResolveError(f"key document {key_id} names no owner on its own host")
        await self._fetch_once(urldefrag(owner).url)


def _parse_or_fail(document: dict[str, Any]) -> RemoteActorData:
    try:
        return parse_actor(document)
    except InvalidActor as exc:
        raise ResolveError(str(exc)) from None


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were written as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


async def _upsert(session: AsyncSession, data: RemoteActorData, document: dict[str, Any]) -> RemoteActor:
    row = await session.scalar(select(RemoteActor).where(RemoteActor.uri == data.id))
    if row is None:
        row = RemoteActor(uri=data.id)
        session.add(row)
    row.actor_type = data.type
    row.username = data.username
    row.domain = data.domain
    row.display_name = data.name
    row.summary = data.summary
    row.url = data.url
    row.inbox = data.inbox
    row.shared_inbox = data.shared_inbox
    row.outbox = data.outbox
    row.followers = data.followers
    row.document = document
    row.fetched_at = utcnow()
    await session.flush()
    await session.execute(delete(RemoteKey).where(RemoteKey.actor_id == row.id))
    for key in data.keys:
        pem = key.pem or public_pem(key.public_key)
        # A keyId claimed by another actor before (moved or forged) now belongs to this verified owner.
        await session.execute(delete(RemoteKey).where(RemoteKey.key_id == key.key_id))
        session.add(RemoteKey(key_id=key.key_id, actor_id=row.id, public_key_pem=pem))
    await session.flush()
    await people_index.index_remote(session, row, document)  # skills, interests, place: the people finder
    return row

