"""The one outbound HTTP client of the server: signed, bounded, and refusing private addresses.

Every request Made Open sends to another server goes through ``FederationClient``:

- every GET and POST is signed (PROTOCOL.md "HTTP Signatures": GoToSocial, and Mastodon in
  authorized-fetch mode, refuse unsigned GETs), by the acting user's signer or the instance actor's;
- limits from PROTOCOL.md "Delivery": connect 5 s, total 30 s, bodies <= 1 MiB (counted while
  streaming, after decompression), <= 5 redirects each re-checked and re-signed;
- private and special-purpose addresses are refused at connect time (``federation.http_guard``);
- fetched documents pass PROTOCOL.md "Validation": ActivityPub content type, a JSON object of bounded
  depth, and an ``id`` equal to the URL it was fetched from (Mastodon CVE-2024-23832).

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import email.message
import email.utils
import enum
import inspect
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, Protocol

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDict
from yarl import URL

from federation.http_guard import BlockedAddress, GuardedResolver, check_url_host, guarded_socket_factory

__all__ = [
    "ACTIVITY_ACCEPT",
    "ACTIVITY_CONTENT_TYPE",
    "AddressNotAllowed",
    "BadContentType",
    "BadJSON",
    "BadURL",
    "DeliveryOutcome",
    "DeliveryResult",
    "FederationClient",
    "FetchConnectionError",
    "FetchError",
    "FetchTimeout",
    "HTTPStatusError",
    "IdMismatch",
    "RequestSigner",
    "ResponseTooLarge",
    "TooManyRedirects",
    "classify_delivery",
    "is_activity_content_type",
    "is_json_content_type",
    "parse_json_object",
    "parse_retry_after",
]

AS_NAMESPACE = "https://www.w3.org/ns/activitystreams"
ACTIVITY_CONTENT_TYPE = "application/activity+json"
ACTIVITY_ACCEPT = f'application/activity+json, application/ld+json; profile="{AS_NAMESPACE}"'
JSON_ACCEPT = "application/jrd+json, application/json"

MIB = 1024 * 1024
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_TOTAL_TIMEOUT = 30.0
DEFAULT_MAX_BODY_BYTES = MIB
DEFAULT_MAX_REDIRECTS = 5
DEFAULT_MAX_JSON_DEPTH = 32
RETRY_AFTER_CAP_SECONDS = 86400.0  # PROTOCOL.md "Delivery": honour Retry-After, capped (Lemmy caps at 1 day)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# PROTOCOL.md "Delivery": 4xx are permanent except these, which a later attempt can fix
# (401: the peer may not have our new key yet; 408/429: the peer asked us to come back).
_RETRYABLE_4XX = frozenset({401, 408, 429})
_POST_BODY_DRAIN_BYTES = 64 * 1024  # read small POST answers fully so the connection can be reused
_DETAIL_EXCERPT_CHARS = 200
_READ_CHUNK_BYTES = 64 * 1024

# aiohttp >= 3.12 lets us vet the exact socket address right before connect(); older ones rely on
# the resolver and the literal-host check alone.
_HAS_SOCKET_FACTORY = "socket_factory" in inspect.signature(aiohttp.TCPConnector.__init__).parameters
# Resolution failures get their own wording where aiohttp tells them apart (newer 3.10.x on).
_DNS_ERROR: type[aiohttp.ClientConnectorError] | None = getattr(aiohttp, "ClientConnectorDNSError", None)


# --------------------------------------------------------------------------------------------------
# Signing


class RequestSigner(Protocol):
    """Signs one outgoing request (``federation.signatures.CavageSigner`` implements this).

    Gets the method, the full URL, the headers about to be sent and the exact body bytes; returns the
    headers to add (Date, Digest, Host, Signature, ...).
    """

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]: ...


# --------------------------------------------------------------------------------------------------
# Errors


def _one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace (remote servers choose some of these strings) and bound the length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class FetchError(Exception):
    """An outbound request failed; ``str()`` is one human-readable line naming the URL."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = _one_line(url)
        self.reason = _one_line(reason)
        super().__init__(f"{self.url}: {self.reason}")


class AddressNotAllowed(FetchError):
    """The host is, or resolves to, a private or special-purpose address."""


class BadURL(FetchError):
    """Not an absolute http(s) URL we are willing to request."""


class ResponseTooLarge(FetchError):
    """The response body exceeds the size limit."""


class TooManyRedirects(FetchError):
    """Too many redirects, or a redirect loop."""


class BadContentType(FetchError):
    """The response is not of an accepted media type."""


class IdMismatch(FetchError):
    """The document's ``id`` is not the URL it was fetched from (CVE-2024-23832)."""


class BadJSON(FetchError):
    """The body is not valid UTF-8 JSON, not an object, or nested too deeply."""


class HTTPStatusError(FetchError):
    """The server answered with a non-2xx status."""

    def __init__(self, url: str, status: int, reason: str | None = None) -> None:
        self.status = status
        super().__init__(url, reason or f"server answered HTTP {status}")


class FetchTimeout(FetchError):
    """No complete answer within the time limit."""


class FetchConnectionError(FetchError):
    """The connection failed: DNS, refused, reset, TLS, broken response."""


# --------------------------------------------------------------------------------------------------
# Delivery results


class DeliveryOutcome(enum.StrEnum):
    OK = "ok"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery worker needs to record one POST attempt and schedule the next.

    ``status`` is None when no response arrived (timeout, connection error, refused address).
    ``retry_after`` is the server's Retry-After in seconds (capped at one day), if it sent one.
    ``gone`` is set for 410: the actor/inbox was deleted and the caller should mark it so.
    """

    url: str
    outcome: DeliveryOutcome
    status: int | None
    detail: str
    retry_after: float | None = None
    gone: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is DeliveryOutcome.OK

    @property
    def should_retry(self) -> bool:
        return self.outcome is DeliveryOutcome.RETRY


def classify_delivery(
    url: str,
    status: int,
    *,
    reason: str = "",
    retry_after: float | None = None,
    location: str | None = None,
    excerpt: str = "",
) -> DeliveryResult:
    """Classify an inbox's answer to a POST (PROTOCOL.md "Delivery")."""
    detail = _one_line(f"HTTP {status} {reason}".strip() + (f": {excerpt}" if excerpt else ""))
    if 200 <= status < 300:
        outcome = DeliveryOutcome.OK
    elif 300 <= status < 400:
        # Redirecting a POST is not something peers do on purpose, and following it would send our
        # signed activity somewhere the recipient did not name; record where it pointed.
        outcome = DeliveryOutcome.PERMANENT
        detail = _one_line(
            f"HTTP {status} redirect to {location or '(no Location)'}; deliveries do not follow redirects"
        )
    elif 400 <= status < 500 and status not in _RETRYABLE_4XX:
        outcome = DeliveryOutcome.PERMANENT
    else:  # 5xx, 401/408/429, and anything outside the defined ranges
        outcome = DeliveryOutcome.RETRY
    return DeliveryResult(
        url=url, outcome=outcome, status=status, detail=detail, retry_after=retry_after, gone=status == 410
    )


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = RETRY_AFTER_CAP_SECONDS
) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110 §10.2.3: delta-seconds or HTTP-date).

    Clamped to ``[0, cap]``; None when absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # More than 12 digits is already far beyond any cap; skip the int conversion.
        return cap if len(text) > 12 else min(float(int(text)), cap)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), cap)


# --------------------------------------------------------------------------------------------------
# Content types and JSON


def _parse_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``("type/subtype", {param: value})`` with quoting handled; ``("", {})`` when absent."""
    if not header or not header.strip():
        return "", {}
    message = email.message.Message()
    message["Content-Type"] = header
    params = {str(key).lower(): str(val) for key, val in message.get_params(failobj=[])[1:]}
    return message.get_content_type(), params


def is_activity_content_type(header: str | None) -> bool:
    """``application/activity+json``, or ``application/ld+json`` with the ActivityStreams profile.

    PROTOCOL.md "Validation" / CVE-2024-23832: a plain JSON (or HTML, or uploaded-file) response must
    never be taken for an ActivityPub object. ``profile`` may list several IRIs (JSON-LD 1.1 §9).
    """
    media, params = _parse_media_type(header)
    if media == ACTIVITY_CONTENT_TYPE:
        return True
    return media == "application/ld+json" and AS_NAMESPACE in params.get("profile", "").split()


def is_json_content_type(header: str | None) -> bool:
    """WebFinger (RFC 7033: ``application/jrd+json``) and NodeInfo (``application/json``)."""
    media, _ = _parse_media_type(header)
    return media in {"application/json", "application/jrd+json"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _json_type_name(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _nesting_exceeds(value: object, limit: int) -> bool:
    """True if ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse_json_object(url: str, body: bytes, *, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> dict[str, Any]:
    """Parse ``body`` as a UTF-8 JSON object nested at most ``max_depth`` levels, or raise ``BadJSON``."""
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")  # RFC 8259 §8.1: UTF-8, BOM tolerated
    except UnicodeDecodeError:
        raise BadJSON(url, "body is not UTF-8") from None
    too_deep = f"JSON is nested deeper than {max_depth} levels"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadJSON(url, too_deep) from None
    except ValueError as exc:
        raise BadJSON(url, f"invalid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadJSON(url, f"expected a JSON object, got {_json_type_name(value)}")
    if _nesting_exceeds(value, max_depth):
        raise BadJSON(url, too_deep)
    return value


# --------------------------------------------------------------------------------------------------
# URLs


def _resource_key(url: URL) -> tuple[str, str, int | None, str, str]:
    """What identifies the resource a URL fetches: no fragment (never sent), normalised host/port/path."""
    return (
        url.scheme.lower(),
        (url.host or "").lower().rstrip("."),
        url.port,
        url.raw_path or "/",
        url.raw_query_string,
    )


def _same_resource(claimed_id: object, fetched: URL) -> bool:
    """Does a document's ``id`` name the URL it was fetched from?

    Compared after URL normalisation (case of scheme/host, default port, percent-encoding) and without
    fragments: a fragment is never sent, so ``.../actor#main-key`` and ``.../actor`` are one fetch.
    """
    if not isinstance(claimed_id, str) or not claimed_id:
        return False
    try:
        claimed = URL(claimed_id)
    except (ValueError, TypeError):
        return False
    return claimed.is_absolute() and _resource_key(claimed) == _resource_key(fetched)


# --------------------------------------------------------------------------------------------------
# The client


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


class FederationClient:
    """Signed, size- and time-bounded HTTP client for server-to-server traffic.

    One keep-alive connection pool (``pool_limit`` connections in all, ``pool_limit_per_host`` per
    host). Create it inside a running event loop's lifetime and ``await close()`` it (or use
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
        self._resolver: GuardedResolver | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

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
        if _same_resource(first.document.get("id"), first.url):
            return first.document
        claimed = first.document.get("id")
        if not isinstance(claimed, str) or not claimed:
            raise IdMismatch(url, "document has no id")
        second = await self._fetch_json(claimed, ACTIVITY_ACCEPT, is_activity_content_type, signer)
        if _same_resource(second.document.get("id"), second.url):
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
            async with self._exchange("POST", target, headers, body, signer, deadline) as response:
                excerpt = await self._drain(response)
                return classify_delivery(
                    url,
                    response.status,
                    reason=response.reason or "",
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                    location=response.headers.get("Location"),
                    excerpt=excerpt if response.status >= 300 else "",
                )
        except (AddressNotAllowed, BadURL) as exc:
            # Retrying cannot help: the inbox URL itself is unacceptable.
            return DeliveryResult(url, DeliveryOutcome.PERMANENT, None, exc.reason)
        except FetchError as exc:  # timeouts and connection errors: the peer may be back later
            return DeliveryResult(url, DeliveryOutcome.RETRY, None, exc.reason)

    # -- one request --------------------------------------------------------------------------------

    def _checked_url(self, url: str | URL) -> URL:
        """Parse and vet a URL before any request (first hop and every redirect target)."""
        text = str(url)
        try:
            parsed = url if isinstance(url, URL) else URL(url)
        except (ValueError, TypeError) as exc:
            raise BadURL(text, f"not a valid URL ({exc})") from None
        if parsed.scheme not in ("http", "https"):
            raise BadURL(text, f"scheme {parsed.scheme or '(none)'!r} is not http or https")
        if not parsed.raw_host:
            raise BadURL(text, "URL has no host")
        if parsed.raw_user is not None or parsed.raw_password is not None:
            raise BadURL(text, "URL carries credentials")  # aiohttp would send them as Basic auth
        if not self.allow_private_addresses:
            try:
                check_url_host(parsed.raw_host)
            except BlockedAddress as exc:
                raise AddressNotAllowed(text, exc.reason) from None
        return parsed.with_fragment(None)

    def _signed_headers(
        self, method: str, url: URL, base: Mapping[str, str], body: bytes | None, signer: RequestSigner | None
    ) -> CIMultiDict[str]:
        """Headers for one hop, signed for exactly this method and URL (a redirect re-signs)."""
        headers: CIMultiDict[str] = CIMultiDict({"User-Agent": self.user_agent, **base})
        signed = (signer or self.default_signer).sign(method, str(url), dict(headers), body)
        for name, value in signed.items():
            headers[name] = value  # case-insensitive replace: the signer's view wins
        return headers

    @asynccontextmanager
    async def _exchange(
        self,
        method: str,
        url: URL,
        base_headers: Mapping[str, str],
        body: bytes | None,
        signer: RequestSigner | None,
        deadline: _Deadline,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send one signed request without following redirects; aiohttp errors become FetchErrors."""
        session = self._ensure_session()
        headers = self._signed_headers(method, url, base_headers, body, signer)
        remaining = deadline.remaining()
        if remaining <= 0:
            raise FetchTimeout(str(url), f"no complete answer within {deadline.seconds:g} s")
        timeout = aiohttp.ClientTimeout(total=remaining, sock_connect=self.connect_timeout)
        with _translated_errors(str(url), deadline):
            async with session.request(
                method, url, headers=headers, data=body, allow_redirects=False, timeout=timeout
            ) as response:
                yield response

    async def _fetch_json(
        self, url: str, accept: str, content_type_ok: ContentTypeCheck, signer: RequestSigner | None
    ) -> _Fetched:
        """GET following up to ``max_redirects`` re-checked redirects; return the parsed object."""
        deadline = _Deadline.start(self.total_timeout)
        target = self._checked_url(url)
        visited = {_resource_key(target)}
        for hop in range(self.max_redirects + 1):
            async with self._exchange("GET", target, {"Accept": accept}, None, signer, deadline) as response:
                if response.status in _REDIRECT_STATUSES:
                    if hop == self.max_redirects:
                        raise TooManyRedirects(url, f"more than {self.max_redirects} redirects")
                    target = self._redirect_target(target, response, visited)
                    continue
                body = await self._read_ok_body(target, response, content_type_ok)
            return _Fetched(target, parse_json_object(str(target), body, max_depth=self.max_json_depth))
        raise AssertionError("unreachable: the last hop either returns or raises")

    def _redirect_target(self, current: URL, response: aiohttp.ClientResponse, visited: set[tuple[Any, ...]]) -> URL:
        """The next hop of a redirect, vetted like a first URL (scheme, credentials, address)."""
        location = response.headers.get("Location")
        if not location:
            raise HTTPStatusError(str(current), response.status, f"HTTP {response.status} redirect without a Location")
        try:
            joined = current.join(URL(location))
        except (ValueError, TypeError):
            raise BadURL(str(current), f"redirect to an invalid URL {location!r}") from None
        target = self._checked_url(joined)
        key = _resource_key(target)
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
        return await _read_capped(str(url), response, self.max_body_bytes)

    async def _drain(self, response: aiohttp.ClientResponse) -> str:
        """Read a small POST answer (keeps the connection reusable) and return an excerpt for logs."""
        try:
            body = await _read_capped(str(response.url), response, _POST_BODY_DRAIN_BYTES)
        except (TimeoutError, FetchError, aiohttp.ClientError):
            response.close()  # the status is what matters; drop a connection we cannot reuse
            return ""
        return _one_line(body[: _DETAIL_EXCERPT_CHARS * 4].decode("utf-8", "replace"), _DETAIL_EXCERPT_CHARS)


async def _read_capped(url: str, response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Stream the body, stopping as soon as it passes ``limit`` (Content-Length may lie or be absent,
    and counting after decompression also stops compression bombs)."""
    declared = response.content_length
    if declared is not None and declared > limit:
        response.close()
        raise ResponseTooLarge(url, f"body of {declared} bytes exceeds the limit of {limit} bytes")
    received = bytearray()
    async for chunk in response.content.iter_chunked(_READ_CHUNK_BYTES):
        received += chunk
        if len(received) > limit:
            response.close()
            raise ResponseTooLarge(url, f"body exceeds the limit of {limit} bytes")
    return bytes(received)


@contextmanager
def _translated_errors(url: str, deadline: _Deadline) -> Iterator[None]:
    """Map aiohttp/asyncio failures onto the FetchError hierarchy (FetchErrors pass through)."""
    try:
        yield
    except FetchError:
        raise
    except TimeoutError:  # before OSError: TimeoutError is one
        raise FetchTimeout(url, f"no complete answer within {deadline.seconds:g} s") from None
    except BlockedAddress as exc:
        raise AddressNotAllowed(url, exc.reason) from None
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, BlockedAddress):
            raise AddressNotAllowed(url, exc.os_error.reason) from None
        cause = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        if _DNS_ERROR is not None and isinstance(exc, _DNS_ERROR):
            raise FetchConnectionError(url, f"cannot resolve {exc.host}: {cause}") from exc
        raise FetchConnectionError(url, f"cannot connect to {exc.host}:{exc.port}: {cause}") from exc
    except aiohttp.InvalidURL as exc:
        raise BadURL(url, f"invalid URL ({exc})") from None
    except (aiohttp.ClientError, OSError) as exc:
        raise FetchConnectionError(url, str(exc) or type(exc).__name__) from exc
