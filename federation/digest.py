"""Body digests, plus the two things every HTTP-signature module shares.

* ``Digest`` (RFC 3230, as draft-cavage-12 §2.1 uses it): ``SHA-256=<base64>``.
* ``Content-Digest`` (RFC 9530 §2): a structured-field Dictionary, ``sha-256=:<base64>:``.
* :class:`SignatureError` and :func:`lowercase_headers`, which ``cavage``, ``rfc9421`` and the
  ``signatures`` facade all need. This module is the leaf of the signature modules: it imports
  nothing of ours, so the others can import it without cycles.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

import http_sf

__all__ = [
    "SignatureError",
    "check_content_digest",
    "check_digest",
    "content_digest_header",
    "digest_header",
    "lowercase_headers",
    "parse_dictionary",
]

_PREFIX = "signature: "

# RFC 3230 names (case-insensitive) and RFC 9530 §5 registry keys we accept, mapped to hashlib.
_DIGEST_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}


class SignatureError(Exception):
    """A request signature was refused; ``reason`` is one human-readable line.

    Every reason starts with ``"signature: "`` so logs and 401 bodies say what failed.
    """

    def __init__(self, reason: str) -> None:
        if not reason.startswith(_PREFIX):
            reason = _PREFIX + reason
        super().__init__(reason)
        self.reason = reason


def lowercase_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header names lowercased, values trimmed, repeated fields joined with ``", "``.

    Works on plain dicts and on multidicts (aiohttp's CIMultiDictProxy), whose ``items()`` yields
    every field line. Joining repeated lines with ", " is the combination rule of both
    draft-cavage-12 §2.3 and RFC 9421 §2.1; trimming is RFC 9421 §2.1 (and what cavage peers do).
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, value in pairs:
        key, clean = name.lower(), str(value).strip()
        if "\n" in clean or "\r" in clean:
            # obs-fold (a line break inside a value) becomes one space (RFC 9421 §2.1).
            clean = " ".join(line.strip() for line in clean.splitlines())
        result[key] = f"{result[key]}, {clean}" if key in result else clean
    return result


def digest_header(body: bytes) -> str:
    """The ``Digest`` value of ``body``: ``SHA-256=<base64>`` (RFC 3230 §4.3.2, RFC 5843)."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """The ``Content-Digest`` value of ``body``: ``sha-256=:<base64>:`` (RFC 9530 §2)."""
    hash_name = _DIGEST_ALGORITHMS.get(algorithm)
    if hash_name is None:
        raise ValueError(f"unsupported Content-Digest algorithm {algorithm!r}")
    # A one-member Dictionary of a Byte Sequence, serialised per RFC 8941 §4.1.2 and §4.1.8 by hand:
    # the key is one of our fixed tokens, and http_sf.ser would cost more than hashing the body.
    return f"{algorithm}=:{base64.b64encode(hashlib.new(hash_name, body).digest()).decode('ascii')}:"


def check_digest(value: str, body: bytes) -> None:
    """Raise unless the RFC 3230 ``Digest`` header matches ``body``.

    The header is a comma-separated list of ``algorithm=base64``. Entries with algorithms we do not
    know are skipped; every known entry must match, and at least one must be known.
    """
    entries: list[tuple[str, bytes]] = []
    for part in value.split(","):
        name, sep, encoded = part.strip().partition("=")
        if not sep:
            raise SignatureError("Digest header is malformed")
        try:
            expected = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise SignatureError("Digest header has invalid base64") from None
        entries.append((name.strip().lower(), expected))
    _compare_all(entries, body, header="Digest")


def check_content_digest(value: str, body: bytes) -> None:
    """Raise unless the RFC 9530 ``Content-Digest`` header matches ``body`` (same rules as Digest)."""
    entries: list[tuple[str, bytes]] = []
    for name, member in parse_dictionary(value, "Content-Digest").items():
        item = member[0] if isinstance(member, tuple) else member
        if not isinstance(item, bytes):
            raise SignatureError("Content-Digest header is malformed")
        entries.append((name, item))
    _compare_all(entries, body, header="Content-Digest")


# The usual Content-Digest or Signature field: one key and one byte sequence (RFC 8941 §3.2, §3.3.5).
_SINGLE_BYTES_MEMBER = re.compile(r"([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/]*={0,2}):")


def parse_dictionary(value: str, name: str) -> dict[str, Any]:
    """Parse a structured-field Dictionary with http_sf (RFC 8941 §4.2.2), or raise SignatureError.

    The common one-member byte-sequence field (``sig1=:...:``) takes a fast path: http_sf checks
    base64 one character at a time in Python, which costs more than an RSA verification, while
    binascii validates the same alphabet in C. Anything else goes to http_sf.
    """
    match = _SINGLE_BYTES_MEMBER.fullmatch(value.strip())
    if match is not None:
        try:
            return {match.group(1): (base64.b64decode(match.group(2), validate=True), {})}
        except binascii.Error:
            pass  # let http_sf report it
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError):
        raise SignatureError(f"{name} header is unparsable") from None
    assert isinstance(parsed, dict)
    if not parsed:
        raise SignatureError(f"{name} header is empty")
    return parsed


def _compare_all(entries: list[tuple[str, bytes]], body: bytes, *, header: str) -> None:
    known = [(name, expected) for name, expected in entries if name in _DIGEST_ALGORITHMS]
    if not known:
        raise SignatureError(f"{header} header uses no supported algorithm (sha-256, sha-512)")
    for name, expected in known:
        actual = hashlib.new(_DIGEST_ALGORITHMS[name], body).digest()
        if not hmac.compare_digest(actual, expected):
            raise SignatureError(f"{header.lower()} does not match body")
