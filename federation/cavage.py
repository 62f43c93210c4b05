"""draft-cavage-http-signatures-12: parsing, signing string, verification with a key, signing.

Mechanics only; the policy (required headers, clock window, key lookup) is in
:mod:`federation.signatures`.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.digest import SignatureError, digest_header, lowercase_headers
from federation.rfc9421 import ALGORITHMS, PrivateKey, PublicKey, RequestParts, load_private_key, url_target

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "CavageSignature",
    "CavageSigner",
    "PendingSignature",
    "parse_signature",
    "signing_string",
    "verify",
]

# hs2019 leaves the algorithm to the key (draft-cavage-12 §2.1.3). rsa-sha256 is deprecated there
# but is what every fediverse peer sends and accepts; RSA keys under hs2019 sign the same bytes.
ACCEPTED_ALGORITHMS = ("rsa-sha256", "hs2019")

# One `name="value"` or `name=123` pair of the Signature header (draft-cavage-12 §2.1, §4.1).
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9]+(?:\.[0-9]+)?))\s*(?:,|$)')

# A fan-out signs the same body for hundreds of inboxes: its digest is computed once (bytes cache their
# hash, so a hit on the same object costs a dict lookup). Eight bodies: the activities of one claim.
_body_digest = lru_cache(maxsize=8)(digest_header)

# A fallback for hs2019 with an RSA key: draft-cavage-12 recommends RSASSA-PSS with SHA-512 there,
# and some peers follow it (most sign PKCS#1 v1.5 SHA-256, which is tried first).
_PSS_ANY = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)


@dataclass(frozen=True)
class CavageSignature:
    """The parameters of a draft-cavage ``Signature`` header."""

    key_id: str
    algorithm: str  # as sent, lowercased; "hs2019" when absent
    headers: tuple[str, ...]  # covered header names in order, lowercased
    signature: bytes
    created: int | None
    expires: int | None


def parse_signature(headers: Mapping[str, str]) -> CavageSignature:
    """Parse the ``Signature`` header (or ``Authorization: Signature ...``) of lowercased headers."""
    raw = headers.get("signature")
    if raw is None:
        scheme, _, rest = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "signature":
            raise SignatureError("no Signature header")
        raw = rest
    params = _parse_params(raw)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("Signature header has no keyId")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in ACCEPTED_ALGORITHMS:
        raise SignatureError(
            f"unsupported algorithm {algorithm!r} (accepted: {', '.join(ACCEPTED_ALGORITHMS)})"
        )
    created, expires = _timestamp(params, "created"), _timestamp(params, "expires")
    # §2.1.6: without a headers parameter only (created) is signed; earlier drafts used Date.
    default = "(created)" if created is not None else "date"
    covered = tuple(params.get("headers", default).lower().split())
    if not covered:
        raise SignatureError("Signature header covers no headers")
    return CavageSignature(
        key_id, algorithm, covered, _signature_bytes(params.get("signature")), created, expires
    )


def _parse_params(raw: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position, text = 0, raw.strip()
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None or match.end() == position:
            raise SignatureError("Signature header is malformed")
        name, quoted, number = match.groups()
        params[name.lower()] = quoted if quoted is not None else number
        position = match.end()
    return params


def _timestamp(params: Mapping[str, str], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return int(float(value))  # §2.1.4: a Unix time; some peers send fractions
    except ValueError:
        raise SignatureError(f"Signature header {name} is not a number") from None


def _signature_bytes(value: str | None) -> bytes:
    if not value:
        raise SignatureError("Signature header has no signature")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature is not valid base64") from None


def signing_string(signature: CavageSignature, request: RequestParts) -> bytes:
    """The signing string of draft-cavage-12 §2.3: one ``name: value`` line per covered header."""
    return "\n".join(f"{name}: {_value(name, signature, request)}" for name in signature.headers).encode(
        "utf-8"
    )


def _value(name: str, signature: CavageSignature, request: RequestParts) -> str:
    if name == "(request-target)":
        return f"{request.method.lower()} {request.request_target}"
    if name in ("(created)", "(expires)"):
        timestamp = signature.created if name == "(created)" else signature.expires
        if timestamp is None:
            raise SignatureError(f"{name} is covered but the {name[1:-1]} parameter is missing")
        return str(timestamp)
    if name == "host" and "host" not in request.headers:
        return request.authority  # HTTP/2 has no Host field: use the :authority the URL gives
    value = request.headers.get(name)
    if value is None:
        raise SignatureError(f"covered header {name} is missing")
    return value


def verify(signature: CavageSignature, data: bytes, public_key: PublicKey) -> bool:
    """True when the signature over ``data`` verifies with ``public_key``."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        # Ed25519 only makes sense as hs2019; rsa-sha256 with an Ed25519 key is a mismatch.
        return signature.algorithm == "hs2019" and ALGORITHMS["ed25519"].check(
            public_key, signature.signature, data
        )
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    if ALGORITHMS["rsa-v1_5-sha256"].check(public_key, signature.signature, data):
        return True
    return signature.algorithm == "hs2019" and _pss_fallback(public_key, signature.signature, data)


def _pss_fallback(public_key: rsa.RSAPublicKey, sig: bytes, data: bytes) -> bool:
    try:
        public_key.verify(sig, data, _PSS_ANY, hashes.SHA512())
    except InvalidSignature:
        return False
    return True


@dataclass(slots=True)
class PendingSignature:
    """One request's signature but for its value: the headers to add, the covered names and the signing
    string. ``CavageSigner.complete`` finishes it with the signature of ``data`` by ``signature_algorithm``
    (``federation.signing_process`` makes that signature in another process)."""

    headers: dict[str, str]
    names: str
    data: bytes


class CavageSigner:
    """Signs outgoing requests with draft-cavage-12; implements ``RequestSigner``.

    RSA keys sign ``rsa-sha256`` (what every peer accepts), Ed25519 keys ``hs2019``. POST-like
    requests (``body`` not None) cover ``(request-target) host date digest content-type``; GETs
    cover ``(request-target) host date`` (PROTOCOL.md, "HTTP Signatures").
    """

    def __init__(
        self, key_id: str, private_key: PrivateKey | str | bytes, *, clock: Callable[[], float] = time.time
    ):
        if '"' in key_id or "\n" in key_id:
            raise ValueError("keyId may not contain quotes or line breaks")
        self.private_key = load_private_key(private_key)
        is_rsa = isinstance(self.private_key, rsa.RSAPrivateKey)
        self.key_id = key_id
        self.algorithm = "rsa-sha256" if is_rsa else "hs2019"
        # The primitive under the draft's name: RFC 9421's, which signs the same bytes the same way.
        self.signature_algorithm = "rsa-v1_5-sha256" if is_rsa else "ed25519"
        self._sign = ALGORITHMS[self.signature_algorithm].sign
        self._prefix = f'keyId="{key_id}",algorithm="{self.algorithm}",headers="'
        self._clock = clock
        self._date: tuple[int, str] = (-1, "")  # the last Date value, by whole second

    def _date_header(self) -> str:
        """The Date value for now: formatted once per second, not per request (a fan-out signs hundreds
        a second; formatdate costs more than the rest of the header work)."""
        second = int(self._clock())
        if self._date[0] != second:
            self._date = (second, formatdate(second, usegmt=True))
        return self._date[1]

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        return self.sign_pending(self.prepare(method, url, headers, body))

    def sign_pending(self, pending: PendingSignature) -> dict[str, str]:
        """``pending`` completed with a signature made here."""
        return self.complete(pending, self._sign(self.private_key, pending.data))

    def prepare(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> PendingSignature:
        """Everything of ``sign`` but the signature itself."""
        lowered = lowercase_headers(headers)
        # RequestParts.build's request-target and authority, from the URL alone (kept per URL); a Host
        # header given wins, as there.
        request_target, authority = url_target(url)
        host = lowered.get("host") or authority
        added = {"Host": host, "Date": self._date_header()}
        lines = [
            f"(request-target): {method.lower()} {request_target}",
            f"host: {host}",
            f"date: {added['Date']}",
        ]
        names = "(request-target) host date"
        if body is not None:
            added["Digest"] = _body_digest(body)
            lines.append(f"digest: {added['Digest']}")
            names += " digest"
            if "content-type" in lowered:
                lines.append(f"content-type: {lowered['content-type']}")
                names += " content-type"
        return PendingSignature(added, names, "\n".join(lines).encode("utf-8"))

    def complete(self, pending: PendingSignature, signature: bytes) -> dict[str, str]:
        """The headers to add, with ``signature`` (of ``pending.data``) as the Signature's value."""
        value = base64.b64encode(signature).decode("ascii")
        pending.headers["Signature"] = f'{self._prefix}{pending.names}",signature="{value}"'
        return pending.headers
