"""Which servers this node talks to: domain blocks, silences and the allowlist (PROTOCOL.md "Domain policy").

This module owns the rules. An entry names a bare domain and covers every subdomain of it (blocking
example.org covers social.example.org too, as Mastodon's domain blocks do) on any port; an entry with a
port (``host:8443``) covers that port of that host only (several servers on one address: local set-ups
and tests).

- **block** (Mastodon's "suspend" severity): the host's POSTs are refused (403, before any key fetch),
  nothing is delivered to it and nothing fetched from it; follows and group memberships between our
  actors and its actors are severed at once (without telling it: nothing is sent to a blocked host),
  as Mastodon's ``BlockDomainService`` severs them. Lifting the block does not bring them back.
- **silence** (Mastodon's "limit"): its traffic is taken and its posts are kept, and whoever follows its
  actors (or is in a group with them) still sees their posts; but its posts are left off the local
  timeline and its people out of the people finder.
- **allowlist mode** (``MADEOPEN_FEDERATION_MODE=allowlist``, Mastodon's LIMITED_FEDERATION_MODE): only
  hosts on the allowlist are talked to at all; everyone else is refused like a blocked host. Blocks
  still win over the allowlist.

The inbox asks about one actor URL (``PolicyCache.refuses``), the delivery worker about each claimed batch
of ``Delivery.host`` netlocs (``PolicyCache.refused``), and the one outbound HTTP client about every request
(``PolicyCache.allows``), so nothing can bypass the rule; all three from memory (storage/memo.py), the hot
paths of a busy node. ``refused_hosts`` asks the database directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, delete, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import moderation_log
from actors.errors import InvalidInput, NotFound
from storage import changes, memo
from storage.engine import SessionMaker
from storage.memo import Memo
from storage.models import ActorSuspension, DomainAllow, DomainBlock, Follow, Membership, RemoteActor

SEVERITIES = ("block", "silence")
PAST = {"block": "blocked", "silence": "silenced"}
MAX_REASON = 1000
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*(:[0-9]{{1,5}})?$")


def host_of(url: str) -> str:
    """The bare, lower-case domain of a URL (no port), as blocks name it."""
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def hostname(netloc: str) -> str:
    """The bare domain of a netloc (``host[:port]``, as ``Delivery.host``)."""
    return host_of(f"//{netloc}") or netloc.lower().rstrip(".")


def parse_host(text: str) -> str:
    """An entry as typed (``social.example.org``, ``Example.org.``, ``10.0.0.5:8443``) in its stored form;
    anything else (a URL, a handle, spaces) is an InvalidInput that says what is expected."""
    raw = text.strip().lower().rstrip(".")
    try:
        name = raw.encode("idna").decode("ascii") if raw and not raw.isascii() else raw
    except UnicodeError:
        name = ""
    host, _, port = name.partition(":")
    if not name or not _HOST_RE.match(name) or (port and not 1 <= int(port) <= 65535) or "." not in host and host != "localhost":
        raise InvalidInput(f"{text.strip()[:100]!r} is not a host name: give a bare domain such as social.example.org "
                           "(no https://, no path), optionally with :port")
    return name


def _parent_domains(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@lru_cache(maxsize=4096)
def _candidates(netloc: str) -> tuple[str, ...]:
    """The entries that would cover ``netloc``: its domain and every parent, and ``host:port`` itself. Kept
    per netloc: the HTTP client asks the policy before every request (issue #13: a ``urlsplit`` a POST)."""
    name = hostname(netloc)
    try:
        port = urlsplit(f"//{netloc}").port
    except ValueError:
        port = None
    return (*_parent_domains(name), *([f"{name}:{port}"] if port else []))


async def _matching(session: AsyncSession, column: object, candidates: set[str], *extra: object) -> set[str]:
    if not candidates:
        return set()
    return set(await session.scalars(select(column).where(column.in_(candidates), *extra)))  # type: ignore[attr-defined]


async def _refused(session: AsyncSession, netlocs: set[str], *, allowlist: bool) -> set[str]:
    covering = {netloc: _candidates(netloc) for netloc in netlocs if netloc}
    everything = {entry for entries in covering.values() for entry in entries}
    blocked = await _matching(session, DomainBlock.domain, everything, DomainBlock.severity == "block")
    refused = {netloc for netloc, entries in covering.items() if blocked.intersection(entries)}
    if allowlist:
        allowed = await _matching(session, DomainAllow.domain, everything)
        refused |= {netloc for netloc, entries in covering.items() if not allowed.intersection(entries)}
    return refused


async def refuses(session: AsyncSession, url: str, *, allowlist: bool = False) -> bool:
    """True when this node does not talk to the URL's host (blocked, or not allowed in allowlist mode)."""
    netloc = urlsplit(url).netloc.rpartition("@")[2].lower()
    if not netloc:
        return allowlist  # no host: nothing to block, and nothing on an allowlist either
    return bool(await _refused(session, {netloc}, allowlist=allowlist))


async def is_blocked(session: AsyncSession, url: str) -> bool:
    """True when the URL's host, or any parent domain of it, is blocked."""
    return await refuses(session, url)


async def refused_hosts(session: AsyncSession, hosts: Iterable[str], *, allowlist: bool = False) -> set[str]:
    """The netlocs among ``hosts`` this node does not talk to. One query (two in allowlist mode)."""
    return await _refused(session, {host.lower() for host in hosts}, allowlist=allowlist)


async def blocked_hosts(session: AsyncSession, hosts: Iterable[str]) -> set[str]:
    """The netlocs among ``hosts`` that are blocked, directly or through a parent domain. One query."""
    return await refused_hosts(session, hosts)


async def silenced_domains(session: AsyncSession) -> list[str]:
    """Entries whose posts and people stay off public listings: silences, and blocks too (their old
    posts are kept, but a blocked server's people are not shown off either)."""
    return list(await session.scalars(select(DomainBlock.domain)))


def netloc_covered(column: ColumnElement[str], entries: Iterable[str]) -> ColumnElement[bool]:
    """SQL: the netloc in ``column`` (``RemoteActor.domain``, ``Profile.domain``) is covered by one of
    ``entries`` (the same rule as ``covered``, for filtering in a query)."""
    tests: list[ColumnElement[bool]] = []
    for entry in entries:
        if ":" in entry:
            tests.append(column == entry)
        else:
            tests.extend((column == entry, column.like(f"%.{entry}"), column.like(f"{entry}:%"),
                          column.like(f"%.{entry}:%")))
    return or_(*tests) if tests else false()


def covered(netloc: str, entries: Iterable[str]) -> bool:
    """Whether one of ``entries`` covers ``netloc`` (for filtering rows already loaded)."""
    return bool(set(_candidates(netloc.lower())).intersection(entries))


@dataclass(frozen=True)
class _Entries:
    blocked: frozenset[str]
    allowed: frozenset[str]
    suspended: frozenset[str]  # actor ids of suspended remote accounts (actors.suspensions)
    suspended_inboxes: frozenset[str]  # their personal inboxes (a shared inbox serves others too)


class PolicyCache:
    """The domain policy without a query: the block and allow entries, and the suspended remote accounts
    (actors.suspensions), kept in memory (storage/memo.py).
    The inbox asks it on every POST (``refuses``), the outbound HTTP client before every request
    (``allows``; a fan-out is thousands of them). A block or allowlist change by any process of this node
    counts at once (one on another machine sharing a PostgreSQL database within ``storage.memo.TTL_SECONDS``)."""

    def __init__(self, sessions: SessionMaker, *, allowlist: bool = False) -> None:
        self._sessions = sessions
        self._allowlist = allowlist
        self._memo: Memo[_Entries] = Memo(changes.DOMAIN_POLICY, memo.TTL_SECONDS, sessions)

    async def refuses(self, url: str) -> bool:
        """True when this node does not talk to the URL's host (blocked, or not allowed in allowlist mode)."""
        return not await self.allows(urlsplit(url).netloc.rpartition("@")[2])

    async def _entries(self) -> _Entries:
        return await self._memo.get_or_load(None, self._load)

    async def suspends(self, actor_uri: str) -> bool:
        """True when an admin suspended the remote account ``actor_uri`` (actors.suspensions)."""
        return actor_uri in (self._memo.get(None) or await self._entries()).suspended

    async def suspended_inbox(self, inbox: str) -> bool:
        """True when ``inbox`` is the personal inbox of a suspended remote account: the delivery worker asks
        just before each POST, so a delivery it had claimed when the suspension landed is not sent."""
        # The entries while fresh without a coroutine (Memo.get, which still compares the change counter);
        # this and ``allows`` are asked for every delivery, and the two coroutine layers of get_or_load
        # were most of their cost (issue #13, fan17).
        return inbox in (self._memo.get(None) or await self._entries()).suspended_inboxes

    async def allows(self, netloc: str) -> bool:
        """Whether this node talks to ``netloc`` (``host`` or ``host:port``)."""
        if not netloc:
            return not self._allowlist  # no host: nothing to block, and nothing on an allowlist either
        entries = self._memo.get(None) or await self._entries()
        candidates = _candidates(netloc.lower())
        if entries.blocked.intersection(candidates):
            return False
        return not self._allowlist or bool(entries.allowed.intersection(candidates))

    async def refused(self, netlocs: Iterable[str]) -> set[str]:
        """The netlocs among ``netlocs`` this node does not talk to (``refused_hosts``, from memory)."""
        return {netloc for netloc in set(netlocs) if not await self.allows(netloc)}

    async def _load(self) -> _Entries:
        async with self._sessions() as session:
            blocked = await session.scalars(select(DomainBlock.domain).where(DomainBlock.severity == "block"))
            allowed = await session.scalars(select(DomainAllow.domain)) if self._allowlist else ()
            suspended = (await session.execute(
                select(ActorSuspension.actor_uri, RemoteActor.inbox)
                .outerjoin(RemoteActor, RemoteActor.uri == ActorSuspension.actor_uri)
            )).all()
            return _Entries(frozenset(blocked), frozenset(allowed), frozenset(uri for uri, _ in suspended),
                            frozenset(inbox for _, inbox in suspended if inbox))


# --------------------------------------------------------------------------------------------------
# Managing entries (admin pages and `madeopen domain ...`)


@dataclass(frozen=True)
class DomainEntry:
    domain: str
    severity: str  # block | silence | allow
    reason: str
    created_at: str  # "YYYY-MM-DD"


async def set_domain(
    session: AsyncSession, text: str, severity: str, *, reason: str = "", actor_uri: str | None = None
) -> tuple[str, int]:
    """Block or silence a host (changing an existing entry's severity); returns the stored name and how
    many follows and memberships a block severed."""
    if severity not in SEVERITIES:
        raise InvalidInput(f"unknown severity {severity!r}: use block or silence")
    domain = parse_host(text)
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is too long: at most {MAX_REASON} characters")
    row = await session.get(DomainBlock, domain)
    if row is None:
        session.add(DomainBlock(domain=domain, severity=severity, reason=reason.strip()))
    else:
        row.severity, row.reason = severity, reason.strip() or row.reason
    severed = await _sever(session, domain) if severity == "block" else 0
    await moderation_log.record(session, f"domain_{severity}", domain, actor_uri=actor_uri, reason=reason)
    return domain, severed


async def remove_domain(session: AsyncSession, text: str, *, actor_uri: str | None = None) -> str:
    """Lift a block or silence."""
    domain = parse_host(text)
    row = await session.get(DomainBlock, domain)
    if row is None:
        raise NotFound(f"{domain} is neither blocked nor silenced")
    await session.delete(row)
    await moderation_log.record(session, "domain_unblock", domain, actor_uri=actor_uri)
    return domain


async def set_allowed(
    session: AsyncSession, text: str, allowed: bool, *, reason: str = "", actor_uri: str | None = None
) -> str:
    """Put a host on the allowlist or take it off."""
    domain = parse_host(text)
    row = await session.get(DomainAllow, domain)
    if allowed and row is None:
        session.add(DomainAllow(domain=domain, reason=reason.strip()[:MAX_REASON]))
    elif not allowed:
        if row is None:
            raise NotFound(f"{domain} is not on the allowlist")
        await session.delete(row)
    await moderation_log.record(session, "domain_allow" if allowed else "domain_disallow", domain,
                                actor_uri=actor_uri, reason=reason)
    return domain


async def list_domains(session: AsyncSession) -> list[DomainEntry]:
    """Blocks and silences, then the allowlist, each alphabetical."""
    blocks = await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))
    allows = await session.scalars(select(DomainAllow).order_by(DomainAllow.domain))
    return [DomainEntry(row.domain, row.severity, row.reason, row.created_at.strftime("%Y-%m-%d")) for row in blocks] + [
        DomainEntry(row.domain, "allow", row.reason, row.created_at.strftime("%Y-%m-%d")) for row in allows
    ]


async def _sever(session: AsyncSession, domain: str) -> int:
    """Follows both ways and group memberships (not bans: those keep refusing) with the host's actors."""
    pattern = f"%{domain.partition(':')[0]}%"
    follows = list(await session.scalars(
        select(Follow).where(or_(Follow.follower_uri.like(pattern), Follow.followee_uri.like(pattern)))
    ))
    gone = [row.id for row in follows
            if covered(urlsplit(row.follower_uri).netloc, [domain]) or covered(urlsplit(row.followee_uri).netloc, [domain])]
    actors = list(await session.scalars(select(RemoteActor).where(RemoteActor.domain.like(pattern))))
    return await sever(session, gone, [actor.id for actor in actors if covered(actor.domain, [domain])])


async def sever(session: AsyncSession, follow_ids: list[int], remote_actor_ids: list[int]) -> int:
    """End these follows and the group memberships of these remote actors (not bans: those keep refusing),
    without telling anybody; how many ended. A domain block's and a suspension's (actors.suspensions)."""
    severed = len(follow_ids)
    if follow_ids:
        await session.execute(delete(Follow).where(Follow.id.in_(follow_ids)))
    if remote_actor_ids:
        result = await session.execute(
            delete(Membership).where(Membership.remote_actor_id.in_(remote_actor_ids), Membership.state != "banned")
        )
        severed += int(getattr(result, "rowcount", 0) or 0)
    return severed
