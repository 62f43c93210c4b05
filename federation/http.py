"""The one outbound HTTP client of the server: signed, bounded, and refusing private addresses.

Every request Made Open sends to another server goes through ``FederationClient``:

- every GET and POST is signed (PROTOCOL.md "HTTP Signatures": GoToSocial, and Mastodon in
  authorized-fetch mode, refuse unsigned GETs), by the acting user's signer or the instance actor's; a busy
  fan-out's POSTs in a helper process on another core (``federation.signing_process``);
- limits from PROTOCOL.md "Delivery": connect 5 s, total 30 s, bodies <= 1 MiB (counted while
  streaming, after decompression), <= 5 redirects each re-checked and re-signed;
- private and special-purpose addresses are refused at connect time (``federation.http_guard``), and
  every URL is vetted before it is requested (``federation.http_urls``);
- a host the node's domain policy refuses (a blocked host; in allowlist mode any host not listed) is
  never contacted: ``host_allowed`` is asked before every hop, redirects included (PROTOCOL.md
  "Domain policy"), so no caller can bypass it;
- fetched documents pass PROTOCOL.md "Validation" (``federation.responses``): ActivityPub content type,
  a JSON object of bounded depth, and an ``id`` equal to the URL it was fetched from (Mastodon
  CVE-2024-23832).

Failures raise the ``federation.http_errors`` family; POSTs return a ``federation.delivery_result``.
Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from federation import offline
from federation.cavage import CavageSigner
from federation.delivery_result import DeliveryOutcome, DeliveryResult, classify_delivery, parse_retry_after
from federation.http_errors import (
    AddressNotAllowed,
    BadContentType,
    BadURL,
    FetchError,
    FetchTimeout,
    HostNotAllowed,
    HTTPStatusError,
    IdMismatch,
    TooManyRedirects,
    one_line,
    translated_errors,
)
from federation.http_guard import GuardedResolver, guarded_socket_factory
from federation.http_urls import ResourceKey, checked_url, resource_key, same_resource
from federation.responses import (
    ACTIVITY_ACCEPT,
    ACTIVITY_CONTENT_TYPE,
    DEFAULT_MAX_JSON_DEPTH,
    JSON_ACCEPT,
    is_activity_content_type,
    is_json_content_type,
    parse_json_object,
    read_capped,
)
from federation.signing_process import SigningProcess

__all__ = ["FederationClient", "RequestSigner"]

MIB = 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = MIB
DEFAULT_MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_POST_BODY_DRAIN_BYTES = 64 * 1024  # read small POST answers fully so the connection can be reused
_DETAIL_EXCERPT_CHARS = 200

# aiohttp >= 3.12 lets us vet the exact socket address right before connect(); older ones rely on
# the resolver and the literal-host check alone.
_HAS_SOCKET_FACTORY = "socket_factory" in inspect.signature(aiohttp.TCPConnector.__init__).parameters


class RequestSigner(Protocol):
    """Signs one outgoing request (``federation.signatures.CavageSigner`` implements this).

    Gets the method, the full URL, the headers about to be sent and the exact body bytes; returns the
    headers to add (Date, Digest, Host, Signature, ...).
    """

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]: ...


@dataclass(frozen=True)
class _Deadline:
    """One time budget shared by every hop of a request (redirects do not extend it)."""

    seconds: float
    expires: float

    @classmethod
    def start(cls, seconds: float) -> _Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.expires - time.monotonic()


@dataclass(frozen=True, slots=True)
class _Target:
    """A vetted URL and what every request to it reads: its text, and the ``host[:port]`` the domain policy
    is asked about. Worked out once per URL string and kept (``FederationClient._target``): a fan-out POSTs
    to the same inboxes again and again, and parsing, vetting and printing the URL were ~15 % of a POST's
    CPU beside the signature (issue #13)."""

    url: URL
    text: str  # str(url)
    netloc: str  # lower-case host, with ":port" when the URL names one

    @classmethod
    def of(cls, url: URL) -> _Target:
        netloc = (url.host or "").lower() + (f":{url.explicit_port}" if url.explicit_port else "")
        return cls(url, str(url), netloc)


# Vetted URLs kept per client; emptied when full, so a flood of distinct URLs cannot grow it.
_MAX_TARGETS = 4096


class _Hop(NamedTuple):
    """One request, ready to send (``FederationClient._ready``)."""

    session: aiohttp.ClientSession
    headers: CIMultiDict[str]
    timeout: aiohttp.ClientTimeout


@functools.lru_cache(maxsize=8)
def _payload(body: bytes) -> aiohttp.BytesPayload:
    """The request body as aiohttp's payload object, one per activity for all its inboxes (a fan-out POSTs the
    same bytes hundreds of times; bytes hash once, so a hit on the same object is a dict lookup). aiohttp
    documents a bytes payload as reusable (it resends the same object after a redirect or a lost keep-alive
    connection); the Content-Type sent is ours, the payload's own is only a default."""
    return aiohttp.BytesPayload(body, content_type=ACTIVITY_CONTENT_TYPE)


@dataclass(frozen=True)
class _Fetched:
    url: URL  # the final URL, after redirects
    document: dict[str, Any]


ContentTypeCheck = Callable[[str | None], bool]
# ``host[:port]`` (lower case, the port only when the URL names one) -> may we talk to it?
HostCheck = Callable[[str], Awaitable[bool]]


class FederationClient:
    """Signed, size- and time-bounded HTTP client for server-to-server traffic.

    One keep-alive connection pool (``pool_limit`` connections in all, ``pool_limit_per_host`` per
    host). ``host_allowed`` is the node's domain policy, asked before every request. Create it inside
    a running event loop's lifetime and ``await close()`` it (or use
    ``async with``). ``resolver`` replaces the DNS resolver under the address guard (tests map names
    to addresses with it); ``allow_private_addresses`` turns the guard off (tests, local
    multi-instance setups: ``MADEOPEN_ALLOW_PRIVATE_ADDRESSES``).
    """

    def __init__(
        self,
        *,
        user_agent: str,
        default_signer: RequestSigner,
        allow_private_addresses: bool = False,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        total_timeout: float = DEFAULT_TOTAL_TIMEOUT,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        pool_limit: int = 100,
        pool_limit_per_host: int = 6,
        resolver: AbstractResolver | None = None,
        host_allowed: HostCheck | None = None,
        signing: SigningProcess | None = None,
    ) -> None:
        self.user_agent = user_agent
        self.default_signer = default_signer
        self.allow_private_addresses = allow_private_addresses
        self.connect_timeout = connect_timeout
        self.total_timeout = total_timeout
        self.max_body_bytes = max_body_bytes
        self.max_redirects = max_redirects
        self.max_json_depth = max_json_depth
        self._pool_limit = pool_limit
        self._pool_limit_per_host = pool_limit_per_host
        self._upstream_resolver = resolver
        self.host_allowed = host_allowed
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._targets: dict[str, _Target] = {}
        self._post_headers = {
            "User-Agent": user_agent, "Content-Type": ACTIVITY_CONTENT_TYPE, "Accept": ACTIVITY_ACCEPT
        }
        self.signing = signing

    # -- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> FederationClient:
        self._ensure_session()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        self._closed = True
        if self.signing is not None:
            await self.signing.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._resolver is not None:  # aiohttp only closes resolvers it created itself
            await self._resolver.close()
            self._resolver = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        """The session is created lazily because aiohttp needs a running event loop for it."""
        if self._closed:
            raise RuntimeError("FederationClient is closed")
        if self._session is None:
            self._resolver = GuardedResolver(self._upstream_resolver, allow_private=self.allow_private_addresses)
            guard: dict[str, Any] = {}
            if _HAS_SOCKET_FACTORY and not self.allow_private_addresses:
                guard["socket_factory"] = guarded_socket_factory
            connector = aiohttp.TCPConnector(
                limit=self._pool_limit, limit_per_host=self._pool_limit_per_host, resolver=self._resolver, **guard
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                # No cookies between peers, and no proxy from the environment: a proxy would connect
                # on our behalf and bypass the address guard.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                headers={"User-Agent": self.user_agent},
            )
        return self._session

    # -- public API ---------------------------------------------------------------------------------

    async def fetch_document(self, url: str, *, signer: RequestSigner | None = None) -> dict[str, Any]:
        """GET an ActivityPub document, validated as PROTOCOL.md "Validation" asks.

        The returned document's ``id`` names the URL it was finally fetched from. If the first
        document claims another id, that id is fetched once and must name itself (Mastodon's fix for
        CVE-2024-23832: a document served at one URL may not speak for another).
        """
        first = await self._fetch_json(url, ACTIVITY_ACCEPT, is_activity_content_type, signer)
        if same_resource(first.document.get("id"), first.url):
            return first.document
        claimed = first.document.get("id")
        if not isinstance(claimed, str) or not claimed:
            raise IdMismatch(url, "document has no id")
        second = await self._fetch_json(claimed, ACTIVITY_ACCEPT, is_activity_content_type, signer)
        if same_resource(second.document.get("id"), second.url):
            return second.document
        raise IdMismatch(
            url,
            f"document at {first.url} claims id {claimed}, "
            f"and the document at {second.url} claims id {second.document.get('id')!r}",
        )

    async def fetch_json(self, url: str, *, signer: RequestSigner | None = None) -> dict[str, Any]:
        """GET a plain JSON object (WebFinger JRD, NodeInfo) with the same limits; no id check."""
        return (await self._fetch_json(url, JSON_ACCEPT, is_json_content_type, signer)).document

    async def post_activity(self, url: str, body: bytes, *, signer: RequestSigner | None = None) -> DeliveryResult:
        """POST an activity to an inbox; never raises for network trouble, returns a classification."""
        deadline = _Deadline.start(self.total_timeout)
        try:
            target = self._target(url)
            session, headers, timeout = await self._ready("POST", target, self._post_headers, body, signer, deadline)
            with translated_errors(target.text, deadline.seconds):
                # The body as one payload object per activity, shared by its inboxes (_payload).
                async with session.request(
                    "POST", target.url, headers=headers, data=_payload(body), allow_redirects=False, timeout=timeout
                ) as response:
                    excerpt = await self._drain(response)
                    return classify_delivery(
                        url,
                        response.status,
                        reason=response.reason or "",
                        retry_after=parse_retry_after(response.headers.get("Retry-After")),
                        location=response.headers.get("Location"),
                        excerpt=excerpt if response.status >= 300 else "",
                    )
        except (AddressNotAllowed, BadURL, HostNotAllowed) as exc:
            # Retrying cannot help: the inbox URL itself is unacceptable.
            return DeliveryResult(url, DeliveryOutcome.PERMANENT, None, exc.reason)
        except FetchError as exc:  # timeouts and connection errors: the peer may be back later
            return DeliveryResult(url, DeliveryOutcome.RETRY, None, exc.reason)

    # -- one request --------------------------------------------------------------------------------

    def _checked_url(self, url: str | URL) -> URL:
        """Vet a URL before any request, under this client's private-address setting."""
        return checked_url(url, allow_private_addresses=self.allow_private_addresses)

    def _target(self, url: str) -> _Target:
        """A first URL, vetted (``_checked_url``, whose verdict depends on nothing but the text and this
        client's setting) once and kept; a refused one raises each time and is not kept. The address it
        resolves to is checked at every connect, as before (``federation.http_guard``)."""
        target = self._targets.get(url)
        if target is None:
            target = _Target.of(self._checked_url(url))
            if len(self._targets) >= _MAX_TARGETS:
                self._targets.clear()
            self._targets[url] = target
        return target

    async def _signed_headers(
        self, method: str, target: _Target, base: Mapping[str, str], body: bytes | None, signer: RequestSigner | None
    ) -> CIMultiDict[str]:
        """Headers for one hop, signed for exactly this method and URL (a redirect re-signs)."""
        if "User-Agent" not in base:
            base = {**base, "User-Agent": self.user_agent}
        # The signer reads the base headers as they are (it copies what it needs); what it returns replaces
        # them case-insensitively: the signer's view wins.
        signer = signer or self.default_signer
        # A POST's (deliveries: the delivery worker's client) on another core while its process is busy. GETs are
        # signed here: `madeopen run`'s web role fetching keys and actors must not start a child of its own.
        if body is not None and self.signing is not None and isinstance(signer, CavageSigner):
            signed = await self.signing.sign(signer, method, target.text, base, body)
        else:
            signed = signer.sign(method, target.text, base, body)
        headers: CIMultiDict[str] = CIMultiDict(base)
        headers.update(signed)
        return headers

    async def _ready(
        self,
        method: str,
        target: _Target,
        base_headers: Mapping[str, str],
        body: bytes | None,
        signer: RequestSigner | None,
        deadline: _Deadline,
    ) -> _Hop:
        """What every hop does before it sends: may this task use the network, may we talk to this host
        (asked before every hop, PROTOCOL.md "Domain policy"), the signed headers and what is left of the
        deadline."""
        offline.check(method, target.text)  # e.g. inside a batch of the inbound worker (federation.offline)
        if self.host_allowed is not None and not await self.host_allowed(target.netloc):
            raise HostNotAllowed(
                target.text, f"{target.netloc} is refused by this server's domain policy (blocked, or not allowed)"
            )
        session = self._ensure_session()
        headers = await self._signed_headers(method, target, base_headers, body, signer)
        remaining = deadline.remaining()
        if remaining <= 0:
            raise FetchTimeout(target.text, f"no complete answer within {deadline.seconds:g} s")
        return _Hop(session, headers, aiohttp.ClientTimeout(total=remaining, sock_connect=self.connect_timeout))

    @asynccontextmanager
    async def _exchange(
        self, method: str, target: _Target, body: bytes | None, hop: _Hop, deadline: _Deadline
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one request made ready by ``_ready`` without following redirects; aiohttp errors become
        FetchErrors."""
        session, headers, timeout = hop
        with translated_errors(target.text, deadline.seconds):
            async with session.request(
                method, target.url, headers=headers, data=body, allow_redirects=False, timeout=timeout
            ) as response:
                yield response

    async def _fetch_json(
        self, url: str, accept: str, content_type_ok: ContentTypeCheck, signer: RequestSigner | None
    ) -> _Fetched:
        """GET following up to ``max_redirects`` re-checked redirects; return the parsed object."""
        deadline = _Deadline.start(self.total_timeout)
        target = self._target(url)
        visited = {resource_key(target.url)}
        for hop in range(self.max_redirects + 1):
            ready = await self._ready("GET", target, {"Accept": accept}, None, signer, deadline)
            async with self._exchange("GET", target, None, ready, deadline) as response:
                if response.status in _REDIRECT_STATUSES:
                    if hop == self.max_redirects:
                        raise TooManyRedirects(url, f"more than {self.max_redirects} redirects")
                    target = _Target.of(self._redirect_target(target.url, response, visited))
                    continue
                body = await self._read_ok_body(target.url, response, content_type_ok)
            return _Fetched(target.url, parse_json_object(target.text, body, max_depth=self.max_json_depth))
        raise AssertionError("unreachable: the last hop either returns or raises")

    def _redirect_target(self, current: URL, response: aiohttp.ClientResponse, visited: set[ResourceKey]) -> URL:
        """The next hop of a redirect, vetted like a first URL (scheme, credentials, address)."""
        location = response.headers.get("Location")
        if not location:
            raise HTTPStatusError(str(current), response.status, f"HTTP {response.status} redirect without a Location")
        try:
            joined = current.join(URL(location))
        except (ValueError, TypeError):
            raise BadURL(str(current), f"redirect to an invalid URL {location!r}") from None
        target = self._checked_url(joined)
        key = resource_key(target)
        if key in visited:
            raise TooManyRedirects(str(current), f"redirect loop back to {target}")
        visited.add(key)
        return target

    async def _read_ok_body(
        self, url: URL, response: aiohttp.ClientResponse, content_type_ok: ContentTypeCheck
    ) -> bytes:
        """Check status and content type before reading a byte of the body."""
        if not 200 <= response.status < 300:
            raise HTTPStatusError(
                str(url), response.status, f"server answered HTTP {response.status} {response.reason or ''}".strip()
            )
        content_type = response.headers.get("Content-Type")
        if not content_type_ok(content_type):
            raise BadContentType(str(url), f"unexpected content type {content_type or '(none)'!r}")
        return await read_capped(str(url), response, self.max_body_bytes)

    async def _drain(self, response: aiohttp.ClientResponse) -> str:
        """Read a small POST answer (keeps the connection reusable) and return an excerpt for logs."""
        if response.content_length == 0:  # what most inboxes answer (202, no body): nothing to read
            return ""
        try:
            body = await read_capped(str(response.url), response, _POST_BODY_DRAIN_BYTES)
        except (TimeoutError, FetchError, aiohttp.ClientError):
            response.close()  # the status is what matters; drop a connection we cannot reuse
            return ""
        return one_line(body[: _DETAIL_EXCERPT_CHARS * 4].decode("utf-8", "replace"), _DETAIL_EXCERPT_CHARS)
