"""HTTP Signatures for ActivityPub: the public API and the verification policy.

Two schemes are spoken (PROTOCOL.md, "HTTP Signatures"):

* draft-cavage-http-signatures-12 (:mod:`federation.cavage`): what every peer sends and accepts;
* RFC 9421 HTTP Message Signatures (:mod:`federation.rfc9421`): what Mastodon 4.5 starts to send,

with body digests from :mod:`federation.digest`. This module decides what a valid signature must
cover, how old it may be, and how the signer's key is found: through an injected async lookup, so
no database or HTTP client is touched here.

Usage, inbound::

    verified = await verify_request(method="POST", url="https://our.host/inbox", headers=request.headers,
                                    body=raw_body, lookup=actors_key_lookup)
    check_owner(verified, activity["actor"])

Outbound: ``CavageSigner(key_id, private_key).sign(method, url, headers, body)`` returns the
headers to add.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Literal, Protocol

from federation import cavage, rfc9421
from federation.cavage import CavageSigner
from federation.digest import (
    SignatureError,
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
    lowercase_headers,
)
from federation.rfc9421 import (
    PrivateKey,
    PublicKey,
    RequestParts,
    Rfc9421Signer,
    load_private_key,
    load_public_key,
    url_target,
)

__all__ = [
    "DEFAULT_WINDOW",
    "CavageSigner",
    "KeyLookup",
    "PrivateKey",
    "PublicKey",
    "PublicKeyRecord",
    "RequestSigner",
    "Rfc9421Signer",
    "SignatureError",
    "VerifiedSignature",
    "check_owner",
    "content_digest_header",
    "digest_header",
    "load_private_key",
    "load_public_key",
    "verify_request",
]

# Mastodon accepts ~65 min old or 60 min ahead, Lemmy 1 h (PROTOCOL.md).
DEFAULT_WINDOW = timedelta(hours=1)

# Methods whose requests carry content; their digest must be covered even when the body is empty.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class PublicKeyRecord:
    """A key as the lookup returns it: its id, the actor that owns it, and the key itself."""

    key_id: str
    owner: str  # actor id URL
    public_key: PublicKey


@dataclass(frozen=True)
class VerifiedSignature:
    """A request signature that verified: who signed it, and how."""

    key_id: str
    owner: str
    scheme: Literal["cavage", "rfc9421"]
    algorithm: str


class KeyLookup(Protocol):
    """Resolves a keyId; ``refresh=True`` asks to bypass any cache (the key may have rotated)."""

    async def __call__(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None: ...


class RequestSigner(Protocol):
    """What the outbound HTTP client calls: returns the headers to add or overwrite."""

    def sign(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]: ...


def check_owner(verified: VerifiedSignature, actor_id: str) -> None:
    """Raise unless the signing key belongs to ``actor_id`` (the activity's actor)."""
    if verified.owner != actor_id:
        raise SignatureError(
            f"key {verified.key_id} belongs to {verified.owner}, not to the actor {actor_id}"
        )


async def verify_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    lookup: KeyLookup,
    request_target: str | None = None,
    window: timedelta = DEFAULT_WINDOW,
    now: float | None = None,
) -> VerifiedSignature:
    """Verify the signature of an incoming request, or raise :class:`SignatureError`.

    ``url`` is the full URL the request was sent to (RFC 9421 @target-uri); the path and query are
    taken from it unless ``request_target`` gives them exactly as received; the host comes from the
    Host header when present. RFC 9421 is used when Signature-Input is present (RFC 9421
    Appendix A), draft-cavage otherwise. All policy checks run before the key lookup, so a request
    that cannot be valid never causes a key fetch.
    """
    lowered = lowercase_headers(headers)
    request = RequestParts.build(method, url, lowered, request_target)
    _check_host(request, url)
    current = time.time() if now is None else now
    has_body = bool(body) or method.upper() in _BODY_METHODS
    if "signature-input" in lowered:
        return await _verify_rfc9421(request, body or b"", has_body, lookup, window, current)
    return await _verify_cavage(request, body or b"", has_body, lookup, window, current)


# --- draft-cavage ----------------------------------------------------------------------------------


async def _verify_cavage(
    request: RequestParts, body: bytes, has_body: bool, lookup: KeyLookup, window: timedelta, now: float
) -> VerifiedSignature:
    parsed = cavage.parse_signature(request.headers)
    covered = set(parsed.headers)
    _require(covered, "(request-target)")
    _require(covered, "host")
    if "date" not in covered and "(created)" not in covered:
        raise SignatureError("neither date nor (created) is covered")
    if "date" in covered:
        _check_date(request.headers, window, now)
    if parsed.created is not None:
        _check_skew(parsed.created, window, now, label="(created)")
    _check_expires(parsed.expires, now)
    if has_body or "digest" in covered:
        if "digest" not in covered:
            raise SignatureError("digest not covered on a request with a body")
        check_digest(_header(request.headers, "digest"), body)
    data = cavage.signing_string(parsed, request)

    def check(key: PublicKey) -> str | None:
        return parsed.algorithm if cavage.verify(parsed, data, key) else None

    record, algorithm = await _verify_with_refresh(lookup, parsed.key_id, check)
    return VerifiedSignature(parsed.key_id, record.owner, "cavage", algorithm)


# --- RFC 9421 --------------------------------------------------------------------------------------


async def _verify_rfc9421(
    request: RequestParts, body: bytes, has_body: bool, lookup: KeyLookup, window: timedelta, now: float
) -> VerifiedSignature:
    parsed = rfc9421.parse_signature(request.headers)
    covered = parsed.covered
    _require(covered, "@method")
    if "@target-uri" not in covered and not ({"@path", "@request-target"} & covered):
        raise SignatureError("@target-uri not covered (nor @path with @authority)")
    if not ({"@target-uri", "@authority", "host"} & covered):
        raise SignatureError("@authority not covered")
    if parsed.created is None and "date" not in covered:
        raise SignatureError("neither the created parameter nor date is covered")
    if parsed.created is not None:
        _check_skew(parsed.created, window, now, label="created")
    if "date" in covered:
        _check_date(request.headers, window, now)
    _check_expires(parsed.expires, now)
    _check_rfc9421_digest(covered, request.headers, body, has_body)
    base = rfc9421.signature_base(parsed.components, parsed.params_value, request)

    def check(key: PublicKey) -> str | None:
        # Without an alg parameter the key decides (RFC 9421 §3.2, §7.3.6); RSA tries both paddings.
        names = [parsed.algorithm] if parsed.algorithm else _algorithms_for(key)
        return next((n for n in names if rfc9421.ALGORITHMS[n].check(key, parsed.signature, base)), None)

    record, algorithm = await _verify_with_refresh(lookup, parsed.key_id, check)
    return VerifiedSignature(parsed.key_id, record.owner, "rfc9421", algorithm)


def _algorithms_for(key: PublicKey) -> list[str]:
    default = rfc9421.default_algorithm(key)
    return [default, "rsa-pss-sha512"] if default == "rsa-v1_5-sha256" else [default]


def _check_rfc9421_digest(
    covered: frozenset[str], headers: Mapping[str, str], body: bytes, has_body: bool
) -> None:
    # Content-Digest (RFC 9530) is the RFC 9421 way; a covered legacy Digest is accepted too.
    if "content-digest" in covered:
        check_content_digest(_header(headers, "content-digest"), body)
    elif "digest" in covered:
        check_digest(_header(headers, "digest"), body)
    elif has_body:
        raise SignatureError("content-digest not covered on a request with a body")


# --- shared policy helpers ---------------------------------------------------------------------------


async def _verify_with_refresh(
    lookup: KeyLookup, key_id: str, check: Callable[[PublicKey], str | None]
) -> tuple[PublicKeyRecord, str]:
    """Verify with the cached key; on a mismatch re-fetch it once (key rotation) and retry.

    ``check`` returns the algorithm that verified, or None. Only one refresh: a signature that
    never verifies must not turn into a stream of key fetches (PROTOCOL.md, key resolution).
    """
    record = await lookup(key_id, refresh=False)
    if record is None:
        raise SignatureError(f"unknown key {key_id}")
    algorithm = check(record.public_key)
    if algorithm is None:
        record = await lookup(key_id, refresh=True)
        algorithm = check(record.public_key) if record is not None else None
    if record is None or algorithm is None:
        raise SignatureError(f"signature does not verify with key {key_id}")
    return record, algorithm


def _check_host(request: RequestParts, url: str) -> None:
    # A signature covering "host: a.example" must not be replayed to b.example: the URL is where
    # the caller knows it was reached, so a Host header naming another host is refused.
    expected = url_target(url)[1]
    if request.authority != expected:
        raise SignatureError(
            f"Host header {request.authority} does not match the request URL's host {expected}"
        )


def _require(covered: set[str] | frozenset[str], name: str) -> None:
    if name not in covered:
        raise SignatureError(f"{name} not covered")


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise SignatureError(f"covered header {name} is missing")
    return value


def _check_date(headers: Mapping[str, str], window: timedelta, now: float) -> None:
    raw = _header(headers, "date")
    sent = _http_date(raw)
    if sent is None:
        raise SignatureError(f"Date header {raw!r} is not an HTTP date")
    _check_skew(sent, window, now, label="Date header")


@lru_cache(maxsize=256)
def _http_date(raw: str) -> float | None:
    """The Date header's instant as a timestamp, None when it is not a date. Kept: an inbox under load gets
    many POSTs sent in the same second, and parsing one costs as much as a digest of a small body."""
    try:
        sent = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if sent.tzinfo is None:  # "-0000" parses as naive; HTTP dates are always UTC (RFC 9110 §5.6.7)
        sent = sent.replace(tzinfo=UTC)
    return sent.timestamp()


def _check_skew(sent: float, window: timedelta, now: float, *, label: str) -> None:
    limit = window.total_seconds()
    if now - sent > limit:
        raise SignatureError(
            f"{label} is {_duration(now - sent)} old, outside the ±{_duration(limit)} window"
        )
    if sent - now > limit:
        raise SignatureError(
            f"{label} is {_duration(sent - now)} in the future, outside the ±{_duration(limit)} window"
        )


def _check_expires(expires: int | None, now: float) -> None:
    if expires is not None and expires < now:
        raise SignatureError(f"signature expired {_duration(now - expires)} ago")


def _duration(seconds: float) -> str:
    """3h, 90min, 45s: short and readable in a log line."""
    if seconds >= 7200 or (seconds >= 3600 and seconds % 3600 == 0):
        return f"{seconds / 3600:.0f}h"
    if seconds >= 120:
        return f"{seconds / 60:.0f}min"
    return f"{seconds:.0f}s"
