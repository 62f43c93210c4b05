"""The one outbound HTTP client of the server: signed, bounded, and refusing private addresses.

Every request Made Open sends to another server goes through ``FederationClient``:

- every GET and POST is signed (PROTOCOL.md "HTTP Signatures": GoToSocial, and Mastodon in
  authorized-fetch mode, refuse unsigned GETs), by the acting user's signer or the instance actor's;
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
The requests go out through ``federation.http1``'s connection pool (not aiohttp's client: issue #13).
Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from aiohttp.abc import AbstractResolver
from yarl import URL

from federation import offline
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
from federation.http1 import Http1Pool, Response, decode_body
from federation.http_guard import GuardedResolver
from federation.http_urls import ResourceKey, checked_url, resource_key, same_resource
from federation.responses import (
    ACTIVITY_ACCEPT,
    ACTIVITY_CONTENT_TYPE,
    DEFAULT_MAX_JSON_DEPTH,
    JSON_ACCEPT,
    is_activity_content_type,
    is_json_content_type,
    parse_json_object,
)

__all__ = ["FederationClient", "RequestSigner"]

MIB = 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = MIB
DEFAULT_MAX_REDIRECTS = 5

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_POST_BODY_DRAIN_BYTES = 64 * 1024  # read small POST answers fully so the connection can be reused
_DETAIL_EXCERPT_CHARS = 200
# What a GET accepts compressed (aiohttp's defaults before issue #13); POST answers are only excerpted
# for logs, so they are asked for plain.
_GET_ACCEPT_ENCODING = "gzip, deflate"


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


@dataclass(frozen=True)
class _Fetched:
    url: URL  # the final URL, after redirects
    document: dict[str, Any]


ContentTypeCheck = Callable[[str | None], bool]
# ``host[:port]`` (lower case, the port only when the URL names one) -> may we talk to it?
HostCheck = Callable[[str], Awaitable[bool]]


class FederationClient:
    """Signed, size- and time-bounded HTTP client for server-to-server traffic.

    One keep-alive connection pool (``federation.http1``: ``pool_limit`` connections in use in all,
    ``pool_limit_per_host`` per host). ``host_allowed`` is the node's domain policy, asked before every
    request. Create it inside a running event loop's lifetime and ``await close()`` it (or use
    ``async with``). ``resolver`` replaces the DNS resolver under the address guard (tests map names
    to addresses with it); ``allow_private_addresses`` turns the guard off (tests, local
    multi-instance setups: ``MADEOPEN_ALLOW_PRIVATE_ADDRESSES``); ``ssl_context`` replaces the system's
    verified TLS defaults (tests trust their own certificate with it).
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
        ssl_context: ssl.SSLContext | None = None,
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
        self._ssl_context = ssl_context  # None: the system's verified default (tests pass their own CA)
        self._resolver: GuardedResolver | None = None
        self._pool: Http1Pool | None = None
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------

    async def __aenter__(self) -> FederationClient:
        self._ensure_pool()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool; the client cannot be used afterwards."""
        self._closed = True
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None

    def _ensure_pool(self) -> Http1Pool:
        """Created lazily, inside the running event loop. No cookies between peers, and no proxy from the
        environment (a proxy would connect on our behalf and bypass the address guard)."""
        if self._closed:
            raise RuntimeError("FederationClient is closed")
        if self._pool is None:
            self._resolver = GuardedResolver(self._upstream_resolver, allow_private=self.allow_private_addresses)
            self._pool = Http1Pool(
                self._resolver, allow_private=self.allow_private_addresses,
                limit=self._pool_limit, limit_per_host=self._pool_limit_per_host, ssl_context=self._ssl_context,
            )
        return self._pool

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
        headers = {"Content-Type": ACTIVITY_CONTENT_TYPE, "Accept": ACTIVITY_ACCEPT}
        try:
            target = self._checked_url(url)
            response = await self._exchange("POST", target, headers, body, signer, deadline, _POST_BODY_DRAIN_BYTES)
            return classify_delivery(
                url,
                response.status,
                reason=response.reason,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                location=response.headers.get("Location"),
                excerpt=_excerpt(response) if response.status >= 300 else "",
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

    def _signed_headers(
        self, method: str, url: URL, base: Mapping[str, str], body: bytes | None, signer: RequestSigner | None
    ) -> list[tuple[str, str]]:
        """Headers for one hop, signed for exactly this method and URL (a redirect re-signs)."""
        headers = {"User-Agent": self.user_agent, **base}
        signed = (signer or self.default_signer).sign(method, str(url), headers, body)
        fields = {name.lower(): (name, value) for name, value in headers.items()}
        for name, value in signed.items():
            fields[name.lower()] = (name, value)  # case-insensitive replace: the signer's view wins
        if "host" not in fields:  # RFC 9112 §3.2: the URL's authority, the port only when not the default
            fields["host"] = ("Host", url.host_port_subcomponent or "")
        return list(fields.values())

    async def _exchange(
        self,
        method: str,
        url: URL,
        base_headers: Mapping[str, str],
        body: bytes | None,
        signer: RequestSigner | None,
        deadline: _Deadline,
        max_body: int,
    ) -> Response:
        """Send one signed request without following redirects; failures become FetchErrors."""
        offline.check(f"{method} {url}")  # e.g. inside a batch of the inbound worker (federation.offline)
        if self.host_allowed is not None:
            netloc = (url.host or "").lower() + (f":{url.explicit_port}" if url.explicit_port else "")
            if not await self.host_allowed(netloc):
                raise HostNotAllowed(str(url), f"{netloc} is refused by this server's domain policy (blocked, or not allowed)")
        pool = self._ensure_pool()
        headers = self._signed_headers(method, url, base_headers, body, signer)
        remaining = deadline.remaining()
        if remaining <= 0:
            raise FetchTimeout(str(url), f"no complete answer within {deadline.seconds:g} s")
        with translated_errors(str(url), deadline.seconds):
            async with asyncio.timeout(remaining):
                return await pool.request(
                    method, url, headers, body, max_body=max_body, connect_timeout=self.connect_timeout
                )

    async def _fetch_json(
        self, url: str, accept: str, content_type_ok: ContentTypeCheck, signer: RequestSigner | None
    ) -> _Fetched:
        """GET following up to ``max_redirects`` re-checked redirects; return the parsed object."""
        deadline = _Deadline.start(self.total_timeout)
        target = self._checked_url(url)
        visited = {resource_key(target)}
        for hop in range(self.max_redirects + 1):
            response = await self._exchange(
                "GET", target, {"Accept": accept, "Accept-Encoding": _GET_ACCEPT_ENCODING}, None, signer, deadline,
                self.max_body_bytes,
            )
            if response.status in _REDIRECT_STATUSES:
                if hop == self.max_redirects:
                    raise TooManyRedirects(url, f"more than {self.max_redirects} redirects")
                target = self._redirect_target(target, response, visited)
                continue
            body = self._ok_body(target, response, content_type_ok)
            return _Fetched(target, parse_json_object(str(target), body, max_depth=self.max_json_depth))
        raise AssertionError("unreachable: the last hop either returns or raises")

    def _redirect_target(self, current: URL, response: Response, visited: set[ResourceKey]) -> URL:
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

    def _ok_body(self, url: URL, response: Response, content_type_ok: ContentTypeCheck) -> bytes:
        """Check status and content type before looking at the body; the size limit applies decoded."""
        if not 200 <= response.status < 300:
            raise HTTPStatusError(
                str(url), response.status, f"server answered HTTP {response.status} {response.reason or ''}".strip()
            )
        content_type = response.headers.get("Content-Type")
        if not content_type_ok(content_type):
            raise BadContentType(str(url), f"unexpected content type {content_type or '(none)'!r}")
        if response.body is None:
            raise response.too_large(str(url), self.max_body_bytes)
        return decode_body(response.body, response.headers.get("Content-Encoding", ""), self.max_body_bytes, str(url))


def _excerpt(response: Response) -> str:
    """A one-line excerpt of a POST's answer for the logs ("" when it was too large to keep)."""
    if not response.body:
        return ""
    return one_line(response.body[: _DETAIL_EXCERPT_CHARS * 4].decode("utf-8", "replace"), _DETAIL_EXCERPT_CHARS)
