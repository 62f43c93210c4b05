"""Golden vectors: RFC 9421 Appendix B, and a hand-checked draft-cavage signature.

The RFC 9421 keys and messages are copied from RFC 9421 Appendix B.1/B.2 into vectors/. The
draft-cavage key is a test key generated for this suite; its expected signatures were computed
independently with the OpenSSL command line over the signing string written out below
(``openssl dgst -sha256 -sign`` and ``openssl pkeyutl -sign -rawin``) and are also checked with
httpsig here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpsig
import pytest

from federation import cavage, rfc9421
from federation.digest import lowercase_headers
from federation.signatures import (
    CavageSigner,
    PublicKeyRecord,
    Rfc9421Signer,
    SignatureError,
    load_private_key,
    load_public_key,
    verify_request,
)

VECTORS = Path(__file__).parent / "vectors"
APPENDIX_B: dict[str, Any] = json.loads((VECTORS / "rfc9421-appendix-b.json").read_text())
TEST_REQUEST = APPENDIX_B["test_request"]
CASES = {case["section"]: case for case in APPENDIX_B["cases"]}
CREATED = 1618884473  # the created parameter of every Appendix B.2 example


def public(name: str) -> rfc9421.PublicKey:
    return load_public_key((VECTORS / f"{name}.pub.pem").read_bytes())


def private(name: str) -> rfc9421.PrivateKey:
    return load_private_key((VECTORS / f"{name}.key.pem").read_bytes())


def request_headers(case: dict[str, Any] | None = None) -> dict[str, str]:
    headers = dict(TEST_REQUEST["headers"])
    if case is not None:
        headers["Signature-Input"] = case["signature_input"]
        headers["Signature"] = case["signature"]
    return headers


def request_parts(headers: dict[str, str]) -> rfc9421.RequestParts:
    return rfc9421.RequestParts.build(TEST_REQUEST["method"], TEST_REQUEST["url"], lowercase_headers(headers))


# --- RFC 9421 Appendix B --------------------------------------------------------------------------


@pytest.mark.parametrize("section", sorted(CASES))
def test_appendix_b_signature_base_and_verification(section: str) -> None:
    case = CASES[section]
    headers = request_headers(case)
    parsed = rfc9421.parse_signature(lowercase_headers(headers))
    base = rfc9421.signature_base(parsed.components, parsed.params_value, request_parts(headers))
    assert base.decode() == case["signature_base"]
    algorithm = rfc9421.ALGORITHMS[case["algorithm"]]
    assert algorithm.check(public(case["key"]), parsed.signature, base)
    assert not algorithm.check(public(case["key"]), parsed.signature, base + b" ")


async def test_appendix_b23_passes_the_full_policy() -> None:
    # B.2.3 covers @method, @path, @authority, date and a sha-512 Content-Digest: all our policy asks.
    case = CASES["B.2.3"]
    calls: list[bool] = []

    async def lookup(key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        calls.append(refresh)
        assert key_id == "test-key-rsa-pss"
        return PublicKeyRecord(key_id, "https://example.com/actor", public("test-key-rsa-pss"))

    verified = await verify_request(
        method="POST",
        url=TEST_REQUEST["url"],
        headers=request_headers(case),
        body=TEST_REQUEST["body"].encode(),
        lookup=lookup,
        now=CREATED + 60,
    )
    assert (verified.scheme, verified.algorithm, verified.owner) == (
        "rfc9421",
        "rsa-pss-sha512",
        "https://example.com/actor",
    )
    assert calls == [False]


async def test_appendix_b26_is_refused_by_policy_without_content_digest() -> None:
    # Cryptographically valid (above), but B.2.6 does not cover the body's digest.
    async def lookup(key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        raise AssertionError("the policy refuses before any key lookup")

    with pytest.raises(SignatureError, match="content-digest not covered on a request with a body"):
        await verify_request(
            method="POST",
            url=TEST_REQUEST["url"],
            headers=request_headers(CASES["B.2.6"]),
            body=TEST_REQUEST["body"].encode(),
            lookup=lookup,
            now=CREATED,
        )


def test_appendix_b26_ed25519_signing_is_byte_for_byte() -> None:
    case = CASES["B.2.6"]
    signer = Rfc9421Signer(
        "test-key-ed25519",
        private("test-key-ed25519"),
        label="sig-b26",
        components=("date", "@method", "@path", "@authority", "content-type", "content-length"),
        include_alg=False,
        clock=lambda: CREATED,
    )
    added = signer.sign("POST", TEST_REQUEST["url"], request_headers(), TEST_REQUEST["body"].encode())
    assert added["Signature-Input"] == case["signature_input"]
    assert added["Signature"] == case["signature"]


def test_rsa_pss_signing_with_the_rfc_key_verifies() -> None:
    # RSA-PSS is randomised: the RFC's bytes cannot be reproduced, so sign B.2.3's input and verify.
    case = CASES["B.2.3"]
    signer = Rfc9421Signer(
        "test-key-rsa-pss",
        private("test-key-rsa-pss"),
        "rsa-pss-sha512",
        label="sig-b23",
        components=(
            "date",
            "@method",
            "@path",
            "@query",
            "@authority",
            "content-type",
            "content-digest",
            "content-length",
        ),
        include_alg=False,
        clock=lambda: CREATED,
    )
    headers = request_headers()
    del headers["Content-Digest"]  # the signer adds its own (sha-256)
    added = signer.sign("POST", TEST_REQUEST["url"], headers, TEST_REQUEST["body"].encode())
    assert added["Signature-Input"] == case["signature_input"]
    assert added["Signature"] != case["signature"]
    signed_headers = {**headers, **added}
    parsed = rfc9421.parse_signature(lowercase_headers(signed_headers))
    base = rfc9421.signature_base(parsed.components, parsed.params_value, request_parts(signed_headers))
    assert rfc9421.ALGORITHMS["rsa-pss-sha512"].check(public("test-key-rsa-pss"), parsed.signature, base)


# --- draft-cavage, hand-checked -----------------------------------------------------------------------

CAVAGE_KEY_ID = "https://made.example/users/bob#main-key"
CAVAGE_URL = "https://remote.example/users/alice/inbox"
CAVAGE_TIME = 1618884475  # Tue, 20 Apr 2021 02:07:55 GMT
CAVAGE_BODY = (
    b'{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow",'
    b'"actor":"https://made.example/users/bob","object":"https://remote.example/users/alice"}'
)
CAVAGE_DIGEST = "SHA-256=K6Kw3jvCGy+7L9HxdzVQ/Rg+xtoJ6fBhflT3n1GJdcw="
CAVAGE_SIGNING_STRING = """\
(request-target): post /users/alice/inbox
host: remote.example
date: Tue, 20 Apr 2021 02:07:55 GMT
digest: SHA-256=K6Kw3jvCGy+7L9HxdzVQ/Rg+xtoJ6fBhflT3n1GJdcw=
content-type: application/activity+json"""
CAVAGE_RSA_SIGNATURE = (
    "YGt3X/K08rVIbhQljx7GA21Adj/vP/AwR64oY3GyvI5YINXGteqWostVlbZLisTs/mJlu7Vwokgkwov1NpE31b/aX/Dcz6gWxi2R"
    "uOVIoqdXZ/5u+aY33FbhOumsDhdTXIaAJ2RhgIwqgfDfnZZMiouGQOEVuqov/tZ4pPuQ9C/jFXT81XkPWIT3yjRuc/iRnoJ/cwwV"
    "pgr3gW6uaKuwC9yCXgbYDeLBJ/kXfRLIhBYFpe5n1uCPCrLhAN+Se+7F5Cp4VsCmB+4AfckfK3utbQXLwBEZfMFwYSW6ZsPhgmND"
    "ars0YIN4oGco7xHr2MopAyWUT7DGA50Pk53blYdpGw=="
)
CAVAGE_ED25519_SIGNATURE = (
    "3kj8TJBh0KByA23kwrYLy/6lw2wUboSoJVoEKpUAORizrZjzRTLPs++1lKnESjhC5Mq2NXpuI57Y2Q0FdLdiAg=="
)


def cavage_sign(key_name: str) -> dict[str, str]:
    signer = CavageSigner(CAVAGE_KEY_ID, private(key_name), clock=lambda: CAVAGE_TIME)
    headers = {"Content-Type": "application/activity+json"}
    return {**headers, **signer.sign("POST", CAVAGE_URL, headers, CAVAGE_BODY)}


def test_cavage_rsa_vector() -> None:
    headers = cavage_sign("cavage-test-rsa")
    assert headers["Host"] == "remote.example"
    assert headers["Date"] == "Tue, 20 Apr 2021 02:07:55 GMT"
    assert headers["Digest"] == CAVAGE_DIGEST
    assert headers["Signature"] == (
        f'keyId="{CAVAGE_KEY_ID}",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest content-type",signature="{CAVAGE_RSA_SIGNATURE}"'
    )
    parsed = cavage.parse_signature(lowercase_headers(headers))
    request = rfc9421.RequestParts.build("POST", CAVAGE_URL, lowercase_headers(headers))
    assert cavage.signing_string(parsed, request).decode() == CAVAGE_SIGNING_STRING
    # httpsig (an independent implementation, pycryptodome underneath) accepts it.
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=(VECTORS / "cavage-test-rsa.pub.pem").read_bytes(),
        required_headers=["(request-target)", "host", "date", "digest", "content-type"],
        method="POST",
        path="/users/alice/inbox",
        sign_header="signature",
    )
    assert verifier.verify()


def test_cavage_ed25519_vector() -> None:
    headers = cavage_sign("cavage-test-ed25519")
    assert headers["Signature"] == (
        f'keyId="{CAVAGE_KEY_ID}",algorithm="hs2019",'
        f'headers="(request-target) host date digest content-type",signature="{CAVAGE_ED25519_SIGNATURE}"'
    )


@pytest.mark.parametrize("key_name", ["cavage-test-rsa", "cavage-test-ed25519"])
async def test_cavage_vectors_verify(key_name: str) -> None:
    async def lookup(key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        return PublicKeyRecord(key_id, "https://made.example/users/bob", public(key_name))

    verified = await verify_request(
        method="POST",
        url=CAVAGE_URL,
        headers=cavage_sign(key_name),
        body=CAVAGE_BODY,
        lookup=lookup,
        now=CAVAGE_TIME + 1,
    )
    assert verified.key_id == CAVAGE_KEY_ID
