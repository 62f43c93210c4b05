"""Cross-implementation checks, both ways.

* draft-cavage: ``httpsig`` (pycryptodome underneath). httpsig 1.3 knows rsa-sha256 but neither
  hs2019 nor Ed25519, so hs2019 is checked on the RSA signature bytes (an hs2019 signature with an
  RSA key is the rsa-sha256 signature under another label).
* RFC 9421: ``http-message-signatures`` on ``requests`` PreparedRequests, for rsa-v1_5-sha256,
  rsa-pss-sha512 and ed25519.
"""

from __future__ import annotations

import base64
import hashlib
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit

import httpsig
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, MappingKeyResolver, algorithms

from federation.signatures import (
    CavageSigner,
    PublicKeyRecord,
    Rfc9421Signer,
    VerifiedSignature,
    load_private_key,
    verify_request,
)

VECTORS = Path(__file__).parent / "vectors"
KEY_ID = "https://made.example/users/bob#main-key"
OWNER = "https://made.example/users/bob"
INBOX = "https://remote.example/users/alice/inbox"
OUTBOX = "https://remote.example/users/alice/outbox?page=true"
BODY = b'{"type":"Like","actor":"https://made.example/users/bob","object":"https://remote.example/notes/1"}'

RSA_PEM = (VECTORS / "cavage-test-rsa.key.pem").read_bytes()
RSA_PUB_PEM = (VECTORS / "cavage-test-rsa.pub.pem").read_bytes()


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    key = load_private_key(RSA_PEM)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def lookup_for(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):  # type: ignore[no-untyped-def]
    async def lookup(key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        assert key_id == KEY_ID
        return PublicKeyRecord(key_id, OWNER, key.public_key())

    return lookup


def path_of(url: str) -> str:
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


# --- httpsig (draft-cavage) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "url", "body"), [("POST", INBOX, BODY), ("GET", OUTBOX, None)])
def test_httpsig_verifies_what_we_sign(
    rsa_key: rsa.RSAPrivateKey, method: str, url: str, body: bytes | None
) -> None:
    headers = (
        {"Content-Type": "application/activity+json"}
        if body is not None
        else {"Accept": "application/activity+json"}
    )
    headers.update(CavageSigner(KEY_ID, rsa_key).sign(method, url, headers, body))
    required = ["(request-target)", "host", "date"] + (["digest", "content-type"] if body is not None else [])
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=RSA_PUB_PEM,
        required_headers=required,
        method=method,
        path=path_of(url),
        sign_header="signature",
    )
    assert verifier.verify()
    if body is not None:
        expected = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert headers["Digest"] == expected


def httpsig_signed(
    method: str, url: str, body: bytes | None, *, relabel: str | None = None
) -> dict[str, str]:
    headers = {"Host": urlsplit(url).netloc, "Date": formatdate(time.time(), usegmt=True)}
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        headers["Content-Type"] = "application/activity+json"
        covered += ["digest", "content-type"]
    signer = httpsig.HeaderSigner(
        KEY_ID, RSA_PEM, algorithm="rsa-sha256", headers=covered, sign_header="signature"
    )
    signed = dict(signer.sign(headers, method=method, path=path_of(url)))
    if relabel:
        signed["signature"] = signed["signature"].replace('algorithm="rsa-sha256"', f'algorithm="{relabel}"')
    return signed


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "hs2019"])
@pytest.mark.parametrize(("method", "url", "body"), [("POST", INBOX, BODY), ("GET", OUTBOX, None)])
async def test_we_verify_what_httpsig_signs(
    rsa_key: rsa.RSAPrivateKey, algorithm: str, method: str, url: str, body: bytes | None
) -> None:
    headers = httpsig_signed(method, url, body, relabel=algorithm if algorithm != "rsa-sha256" else None)
    verified = await verify_request(
        method=method, url=url, headers=headers, body=body, lookup=lookup_for(rsa_key)
    )
    assert verified == VerifiedSignature(KEY_ID, OWNER, "cavage", algorithm)


# --- http-message-signatures (RFC 9421) -----------------------------------------------------------------

THEIR_ALGORITHMS = {
    "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
    "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
    "ed25519": algorithms.ED25519,
}


def key_for(algorithm: str, rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey):  # type: ignore[no-untyped-def]
    return ed_key if algorithm == "ed25519" else rsa_key


@pytest.mark.parametrize("algorithm", sorted(THEIR_ALGORITHMS))
@pytest.mark.parametrize(("method", "url", "body"), [("POST", INBOX, BODY), ("GET", OUTBOX, None)])
def test_http_message_signatures_verifies_what_we_sign(
    rsa_key: rsa.RSAPrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
    algorithm: str,
    method: str,
    url: str,
    body: bytes | None,
) -> None:
    key = key_for(algorithm, rsa_key, ed_key)
    headers = {"Content-Type": "application/activity+json"} if body is not None else {}
    headers.update(Rfc9421Signer(KEY_ID, key, algorithm).sign(method, url, headers, body))
    prepared = requests.Request(method, url, headers=headers, data=body).prepare()
    verifier = HTTPMessageVerifier(
        signature_algorithm=THEIR_ALGORITHMS[algorithm],
        key_resolver=MappingKeyResolver(public_keys={KEY_ID: key.public_key()}, private_keys={}),
    )
    required = ("@method", "@target-uri") + (("content-digest",) if body is not None else ())
    results = verifier.verify(prepared, require_components=required, body=body if body is not None else None)
    assert [r.parameters["keyid"] for r in results] == [KEY_ID]
    assert results[0].parameters["alg"] == algorithm


@pytest.mark.parametrize("include_alg", [True, False])
@pytest.mark.parametrize("algorithm", sorted(THEIR_ALGORITHMS))
@pytest.mark.parametrize(
    ("method", "url", "body", "components"),
    [
        ("POST", INBOX, BODY, ("@method", "@target-uri")),  # Mastodon 4.5's shape (content-digest added)
        ("POST", INBOX, BODY, ("@method", "@authority", "@path", "@query", "content-type")),
        ("GET", OUTBOX, None, ("@method", "@authority", "@target-uri")),
    ],
)
async def test_we_verify_what_http_message_signatures_signs(
    rsa_key: rsa.RSAPrivateKey,
    ed_key: ed25519.Ed25519PrivateKey,
    algorithm: str,
    include_alg: bool,
    method: str,
    url: str,
    body: bytes | None,
    components: tuple[str, ...],
) -> None:
    key = key_for(algorithm, rsa_key, ed_key)
    headers = {"Content-Type": "application/activity+json"} if body is not None else {}
    prepared = requests.Request(method, url, headers=headers, data=body).prepare()
    signer = HTTPMessageSigner(
        signature_algorithm=THEIR_ALGORITHMS[algorithm],
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={KEY_ID: key}),
    )
    signer.sign(
        prepared,
        key_id=KEY_ID,
        label="sig1",
        covered_component_ids=components,
        include_alg=include_alg,
        body=body,
    )
    verified = await verify_request(
        method=method, url=str(prepared.url), headers=prepared.headers, body=body, lookup=lookup_for(key)
    )
    assert verified == VerifiedSignature(KEY_ID, OWNER, "rfc9421", algorithm)
