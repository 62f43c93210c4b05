"""RFC 9421 HTTP Message Signatures: algorithms, signature base, parsing and signing.

Mechanics only. Which components must be covered, the clock window and the key lookup are the
policy of :mod:`federation.signatures`. The algorithm table here is also what draft-cavage uses
(``rsa-sha256`` is ``rsa-v1_5-sha256``; ``hs2019`` is chosen by key type), so key loading lives
here too.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import http_sf
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.digest import SignatureError, content_digest_header, lowercase_headers, parse_dictionary

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "ParsedSignature",
    "PrivateKey",
    "PublicKey",
    "RequestParts",
    "Rfc9421Signer",
    "default_algorithm",
    "load_private_key",
    "load_public_key",
    "parse_signature",
    "signature_base",
    "url_target",
]


# --- algorithms (RFC 9421 §3.3) -------------------------------------------------------------------

_PKCS1 = padding.PKCS1v15()
# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1(SHA-512) and a 64-byte salt.
_PSS_512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
_SHA256 = hashes.SHA256()
_SHA512 = hashes.SHA512()


@dataclass(frozen=True)
class Algorithm:
    """One entry of the HTTP Signature Algorithms registry (RFC 9421 §6.2)."""

    name: str
    key_type: type
    sign: Callable[[Any, bytes], bytes]
    verify: Callable[[Any, bytes, bytes], None]  # raises InvalidSignature

    def check(self, public_key: PublicKey, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` over ``data`` verifies; a key of the wrong type never does."""
        if not isinstance(public_key, self.key_type):
            return False
        try:
            self.verify(public_key, signature, data)
        except InvalidSignature:
            return False
        return True


ALGORITHMS: dict[str, Algorithm] = {
    "rsa-v1_5-sha256": Algorithm(  # RFC 9421 §3.3.2
        "rsa-v1_5-sha256",
        rsa.RSAPublicKey,
        lambda key, data: key.sign(data, _PKCS1, _SHA256),
        lambda key, sig, data: key.verify(sig, data, _PKCS1, _SHA256),
    ),
    "rsa-pss-sha512": Algorithm(  # RFC 9421 §3.3.1
        "rsa-pss-sha512",
        rsa.RSAPublicKey,
        lambda key, data: key.sign(data, _PSS_512, _SHA512),
        lambda key, sig, data: key.verify(sig, data, _PSS_512, _SHA512),
    ),
    "ed25519": Algorithm(  # RFC 9421 §3.3.6
        "ed25519",
        ed25519.Ed25519PublicKey,
        lambda key, data: key.sign(data),
        lambda key, sig, data: key.verify(sig, data),
    ),
}


def default_algorithm(key: PublicKey | PrivateKey) -> str:
    """The algorithm we use for a key when nothing names one: what Mastodon 4.5 sends for RSA."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "rsa-v1_5-sha256"
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "ed25519"
    raise TypeError(f"unsupported key type {type(key).__name__}: use RSA or Ed25519")


@lru_cache(maxsize=512)
def _load_private_pem(pem: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise TypeError("only RSA and Ed25519 private keys are supported")
    return key


@lru_cache(maxsize=4096)
def _load_public_pem(pem: bytes) -> PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise TypeError("only RSA and Ed25519 public keys are supported")
    return key


def load_private_key(key: PrivateKey | str | bytes) -> PrivateKey:
    """A key object from a key object or a PEM; PEMs are parsed once and cached (parsing costs ~ms)."""
    if isinstance(key, (str, bytes)):
        return _load_private_pem(key.encode("ascii") if isinstance(key, str) else key)
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise TypeError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key(key: PublicKey | str | bytes) -> PublicKey:
    """Like :func:`load_private_key`, for ``publicKeyPem`` of remote actors."""
    if isinstance(key, (str, bytes)):
        return _load_public_pem(key.encode("ascii") if isinstance(key, str) else key)
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise TypeError(f"unsupported public key type {type(key).__name__}")
    return key


# --- the request as the signature sees it -------------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass(frozen=True)
class RequestParts:
    """What both signature schemes read from a request besides its header fields."""

    method: str
    target_uri: str  # RFC 9421 §2.2.2, without fragment
    scheme: str  # lowercase
    authority: str  # RFC 9421 §2.2.3: lowercase host[:port], default port dropped
    request_target: (
        str  # path?query exactly as sent (draft-cavage (request-target), RFC 9421 @request-target)
    )
    headers: Mapping[str, str]  # lowercased names, see lowercase_headers

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        headers: Mapping[str, str],
        request_target: str | None = None,
    ) -> RequestParts:
        """From the full URL; a Host header (already lowercased in ``headers``) wins over the URL."""
        split = urlsplit(url)
        if not split.scheme or not split.netloc:
            raise ValueError(f"an absolute URL is needed, got {url!r}")
        scheme = split.scheme.lower()
        target = request_target or (split.path or "/") + (f"?{split.query}" if split.query else "")
        authority = _normalise_authority(headers.get("host") or split.netloc.rpartition("@")[2], scheme)
        target_uri = url.partition("#")[0]
        return cls(method, target_uri, scheme, authority, target, headers)

    @property
    def path(self) -> str:
        return self.request_target.partition("?")[0] or "/"

    @property
    def query(self) -> str:
        return self.request_target.partition("?")[2]


@lru_cache(maxsize=4096)
def url_target(url: str) -> tuple[str, str]:
    """The request-target and the authority of the absolute ``url``, as :meth:`RequestParts.build` works them
    out when no Host header is given. Kept per URL: a signer signs for the same inboxes again and again, and
    a verifier checks its own inbox URL on every POST (issue #13: a ``urlsplit`` a request)."""
    parts = RequestParts.build("GET", url, {})
    return parts.request_target, parts.authority


def _normalise_authority(authority: str, scheme: str) -> str:
    authority = authority.strip().lower()
    host, sep, port = authority.rpartition(":")
    if sep and "]" not in port and port == _DEFAULT_PORTS.get(scheme):
        return host
    return authority


# --- parsing Signature-Input / Signature (RFC 9421 §4) --------------------------------------------

Component = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ParsedSignature:
    """One signature picked from the Signature-Input and Signature dictionaries."""

    label: str
    components: tuple[Component, ...]
    params: Mapping[str, Any]
    params_value: str  # the serialised inner list: the value of "@signature-params" (RFC 9421 §2.3)
    signature: bytes
    key_id: str
    algorithm: str | None  # the alg parameter, when sent
    created: int | None
    expires: int | None

    @property
    def covered(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.components)


def parse_signature(headers: Mapping[str, str]) -> ParsedSignature:
    """Parse the first label present in both Signature-Input and Signature (lowercased headers)."""
    inputs = parse_dictionary(headers.get("signature-input", ""), "Signature-Input")
    signatures = parse_dictionary(headers.get("signature", ""), "Signature")
    label = next((name for name in inputs if name in signatures), None)
    if label is None:
        raise SignatureError("Signature-Input and Signature share no label")
    members, params = _inner_list(inputs[label])
    signature, _ = signatures[label] if isinstance(signatures[label], tuple) else (signatures[label], {})
    if not isinstance(signature, bytes) or not signature:
        raise SignatureError(f"Signature {label} is not a byte sequence")
    return ParsedSignature(
        label=label,
        components=tuple(_component(member) for member in members),
        params=params,
        params_value=http_sf.ser({label: (members, params)}).partition("=")[2],
        signature=signature,
        key_id=_string_param(params, "keyid", required=True) or "",
        algorithm=_algorithm_param(params),
        created=_int_param(params, "created"),
        expires=_int_param(params, "expires"),
    )


def _inner_list(member: Any) -> tuple[list[Any], dict[str, Any]]:
    if not (isinstance(member, tuple) and isinstance(member[0], list)):
        raise SignatureError("Signature-Input member is not an inner list")
    return member[0], member[1]


def _component(member: Any) -> Component:
    name, params = member if isinstance(member, tuple) else (member, {})
    if not isinstance(name, str) or name != name.lower():
        raise SignatureError(f"covered component {name!r} is not a lowercase string")
    return name, params


def _string_param(params: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None:
        if required:
            raise SignatureError(f"Signature-Input has no {name}")
        return None
    if not isinstance(value, str):
        raise SignatureError(f"Signature-Input {name} is not a string")
    return value


def _int_param(params: Mapping[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise SignatureError(f"Signature-Input {name} is not an integer")
    return value


def _algorithm_param(params: Mapping[str, Any]) -> str | None:
    alg = _string_param(params, "alg")
    if alg is not None and alg not in ALGORITHMS:
        raise SignatureError(f"unsupported algorithm {alg!r} (accepted: {', '.join(ALGORITHMS)})")
    return alg


# --- the signature base (RFC 9421 §2.5) -----------------------------------------------------------


def signature_base(components: Sequence[Component], params_value: str, request: RequestParts) -> bytes:
    """The bytes that are signed: one ``"name": value`` line per component, then @signature-params."""
    lines: list[str] = []
    seen: set[str] = set()
    for name, params in components:
        identifier = _identifier(name, params)
        if identifier in seen:  # RFC 9421 §2.5: a component may appear only once
            raise SignatureError(f"component {identifier} is covered twice")
        seen.add(identifier)
        lines.append(f"{identifier}: {_component_value(name, params, request)}")
    lines.append(f'"@signature-params": {params_value}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise SignatureError("a covered component is not ASCII") from None


def _identifier(name: str, params: Mapping[str, Any]) -> str:
    return f'"{name}"' if not params else http_sf.ser([(name, dict(params))])


def _component_value(name: str, params: Mapping[str, Any], request: RequestParts) -> str:
    if name.startswith("@"):
        return _derived_value(name, params, request)
    if params:  # sf, key, bs, req, tr (RFC 9421 §2.1): none is needed by fediverse peers
        raise SignatureError(f"component {_identifier(name, params)} is not supported")
    value = request.headers.get(name)
    if value is None:
        raise SignatureError(f"covered header {name} is missing")
    return value


def _derived_value(name: str, params: Mapping[str, Any], request: RequestParts) -> str:
    # RFC 9421 §2.2: derived components of a request.
    if name == "@query-param":
        return _query_param(params, request)
    if params:
        raise SignatureError(f"component {_identifier(name, params)} is not supported")
    getter = _DERIVED.get(name)
    if getter is None:
        raise SignatureError(f"component {name} is not supported")
    return getter(request)


_DERIVED: dict[str, Callable[[RequestParts], str]] = {
    "@method": lambda r: r.method,  # §2.2.1, case as sent
    "@target-uri": lambda r: r.target_uri,  # §2.2.2
    "@authority": lambda r: r.authority,  # §2.2.3
    "@scheme": lambda r: r.scheme,  # §2.2.4
    "@request-target": lambda r: r.request_target,  # §2.2.5
    "@path": lambda r: r.path,  # §2.2.6
    "@query": lambda r: f"?{r.query}",  # §2.2.7: "?" even when empty
}


def _query_param(params: Mapping[str, Any], request: RequestParts) -> str:
    # RFC 9421 §2.2.8: parse as application/x-www-form-urlencoded, re-encode name and value.
    wanted = params.get("name")
    if not isinstance(wanted, str) or set(params) != {"name"}:
        raise SignatureError("component @query-param needs exactly a name parameter")
    values = [
        _form_encode(v)
        for k, v in parse_qsl(request.query, keep_blank_values=True)
        if _form_encode(k) == wanted
    ]
    if len(values) != 1:  # absent or repeated: both are refused rather than guessed
        raise SignatureError(f"query parameter {wanted} is absent or repeated")
    return values[0]


def _form_encode(text: str) -> str:
    # The application/x-www-form-urlencoded percent-encode set, with space as %20 (RFC 9421 §2.2.8).
    return quote(text, safe="*-._").replace("~", "%7E")


# --- signing ---------------------------------------------------------------------------------------


class Rfc9421Signer:
    """Signs outgoing requests with RFC 9421; implements ``RequestSigner``.

    Default coverage is what Mastodon 4.5 sends: ``@method @target-uri`` and, with a body,
    ``content-digest``, plus ``created``, ``keyid`` and ``alg`` parameters.
    """

    def __init__(
        self,
        key_id: str,
        private_key: PrivateKey | str | bytes,
        algorithm: str | None = None,
        *,
        label: str = "sig1",
        components: Sequence[str] | None = None,
        include_alg: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = load_private_key(private_key)
        name = algorithm or default_algorithm(self._key)
        if name not in ALGORITHMS:
            raise ValueError(f"unsupported algorithm {name!r}")
        if not isinstance(self._key.public_key(), ALGORITHMS[name].key_type):
            raise ValueError(f"{name} needs a different key type than {type(self._key).__name__}")
        self.key_id = key_id
        self.algorithm = name
        self._sign = ALGORITHMS[name].sign
        self._label = http_sf.ser({label: 0}).partition("=")[0]  # validates the label
        self._clock = clock
        # Everything but `created` is serialised once here, with http_sf (RFC 8941 §4.1).
        extra: dict[str, Any] = {"keyid": key_id} | ({"alg": name} if include_alg else {})
        self._params_tail = http_sf.ser((0, extra))[1:]
        fixed = tuple(components) if components is not None else None
        self._coverage = {
            has_body: self._inner_list(
                fixed or (("@method", "@target-uri") + (("content-digest",) if has_body else ()))
            )
            for has_body in (False, True)
        }

    @staticmethod
    def _inner_list(names: Sequence[str]) -> tuple[tuple[Component, ...], str]:
        """The components and their serialised inner list, e.g. ``("@method" "@target-uri")``."""
        items: list[Any] = [(name, {}) for name in names]
        return tuple(items), http_sf.ser({"x": (items, {})})[2:]

    def sign(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> dict[str, str]:
        added: dict[str, str] = {}
        lowered = lowercase_headers(headers)
        if body is not None:
            added["Content-Digest"] = lowered["content-digest"] = content_digest_header(body)
        components, inner_list = self._coverage[body is not None]
        params_value = f"{inner_list};created={int(self._clock())}{self._params_tail}"
        base = signature_base(components, params_value, RequestParts.build(method, url, lowered))
        encoded = base64.b64encode(self._sign(self._key, base)).decode("ascii")
        added["Signature-Input"] = f"{self._label}={params_value}"
        added["Signature"] = f"{self._label}=:{encoded}:"
        return added
