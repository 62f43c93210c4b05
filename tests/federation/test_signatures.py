"""federation.signatures: round trips, the verification policy, every refusal, key rotation.

Golden vectors are in test_sig_vectors.py, cross-implementation checks in test_sig_interop.py.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from email.utils import formatdate
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from multidict import CIMultiDict, CIMultiDictProxy

from federation import rfc9421
from federation.signatures import (
    CavageSigner,
    PublicKeyRecord,
    RequestSigner,
    Rfc9421Signer,
    SignatureError,
    VerifiedSignature,
    check_owner,
    content_digest_header,
    digest_header,
    load_private_key,
    load_public_key,
    verify_request,
)

VECTORS = Path(__file__).parent / "vectors"
NOW = 1_700_000_000.0  # a fixed "now" for every clock in this module
KEY_ID = "https://made.example/users/bob#main-key"
OWNER = "https://made.example/users/bob"
INBOX = "https://remote.example/users/alice/inbox"
ACTOR_URL = "https://remote.example/users/alice"
BODY = b'{"type":"Follow","actor":"https://made.example/users/bob","object":"https://remote.example/users/alice"}'
JSON = {"Content-Type": "application/activity+json"}


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    key = load_private_key((VECTORS / "cavage-test-rsa.key.pem").read_text())
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    key = load_private_key((VECTORS / "cavage-test-ed25519.key.pem").read_text())
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return key


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Lookup:
    """A key lookup that records its calls: answers[refresh] is what it returns."""

    def __init__(self, cached: object | None, refreshed: object | None = None, owner: str = OWNER) -> None:
        self.answers = {False: cached, True: refreshed if refreshed is not None else cached}
        self.owner = owner
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        self.calls.append((key_id, refresh))
        key = self.answers[refresh]
        if key is None:
            return None
        public = key.public_key() if hasattr(key, "private_bytes") else key
        return PublicKeyRecord(key_id, self.owner, public)


def signed(
    signer: RequestSigner, method: str = "POST", url: str = INBOX, body: bytes | None = BODY
) -> dict[str, str]:
    headers = dict(JSON) if body is not None else {}
    headers.update(signer.sign(method, url, headers, body))
    return headers


async def verify(
    headers: Mapping[str, str],
    lookup: Lookup,
    *,
    method: str = "POST",
    url: str = INBOX,
    body: bytes | None = BODY,
    now: float = NOW,
) -> VerifiedSignature:
    return await verify_request(method=method, url=url, headers=headers, body=body, lookup=lookup, now=now)


def cavage_header(
    key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, covered: str, lines: list[str], **extra: str
) -> str:
    """A hand-made draft-cavage Signature header, independent of CavageSigner."""
    data = "\n".join(lines).encode()
    if isinstance(key, rsa.RSAPrivateKey):
        raw = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raw = key.sign(data)
    params = {"keyId": KEY_ID, "algorithm": "rsa-sha256", **extra, "headers": covered}
    params["signature"] = base64.b64encode(raw).decode()
    return ",".join(f'{k}="{v}"' for k, v in params.items())


def date_at(t: float) -> str:
    return formatdate(t, usegmt=True)


# --- round trips --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize("key_name", ["rsa_key", "ed_key"])
@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_round_trip(scheme: str, key_name: str, method: str, request: pytest.FixtureRequest) -> None:
    key = request.getfixturevalue(key_name)
    signer: RequestSigner = (
        CavageSigner(KEY_ID, key, clock=lambda: NOW)
        if scheme == "cavage"
        else Rfc9421Signer(KEY_ID, key, clock=lambda: NOW)
    )
    body = BODY if method == "POST" else None
    url = INBOX if method == "POST" else f"{ACTOR_URL}?page=true"
    lookup = Lookup(key)
    result = await verify(signed(signer, method, url, body), lookup, method=method, url=url, body=body)
    expected_alg = {
        ("cavage", "rsa_key"): "rsa-sha256",
        ("cavage", "ed_key"): "hs2019",
        ("rfc9421", "rsa_key"): "rsa-v1_5-sha256",
        ("rfc9421", "ed_key"): "ed25519",
    }[(scheme, key_name)]
    assert result == VerifiedSignature(KEY_ID, OWNER, scheme, expected_alg)  # type: ignore[arg-type]
    assert lookup.calls == [(KEY_ID, False)]


def test_cavage_signer_headers(rsa_key: rsa.RSAPrivateKey) -> None:
    added = CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW).sign("POST", INBOX, JSON, BODY)
    assert set(added) == {"Host", "Date", "Digest", "Signature"}
    assert added["Host"] == "remote.example"
    assert added["Date"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert added["Digest"] == digest_header(BODY)
    assert 'headers="(request-target) host date digest content-type"' in added["Signature"]
    get = CavageSigner(KEY_ID, rsa_key).sign("GET", ACTOR_URL, {}, None)
    assert set(get) == {"Host", "Date", "Signature"}
    assert 'headers="(request-target) host date"' in get["Signature"]


def test_rfc9421_signer_headers(rsa_key: rsa.RSAPrivateKey) -> None:
    added = Rfc9421Signer(KEY_ID, rsa_key, clock=lambda: NOW).sign("POST", INBOX, JSON, BODY)
    assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
    assert added["Content-Digest"] == content_digest_header(BODY)
    # The shape Mastodon 4.5 sends (PROTOCOL.md).
    assert added["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest")'
        f';created=1700000000;keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )


def test_signers_accept_pem_and_cache_parsing(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = (VECTORS / "cavage-test-rsa.key.pem").read_text()
    assert load_private_key(pem) is load_private_key(pem)  # parsed once
    pub = (VECTORS / "cavage-test-rsa.pub.pem").read_bytes()
    assert load_public_key(pub) is load_public_key(pub)
    a = CavageSigner(KEY_ID, pem, clock=lambda: NOW).sign("GET", ACTOR_URL, {}, None)
    b = CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW).sign("GET", ACTOR_URL, {}, None)
    assert a == b


def test_digest_helpers() -> None:
    assert digest_header(b"") == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert content_digest_header(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    assert content_digest_header(b'{"hello": "world"}', "sha-512") == (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
    )


async def test_headers_from_aiohttp_multidict_and_any_case(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    proxy = CIMultiDictProxy(CIMultiDict({name.upper(): value for name, value in headers.items()}))
    assert (await verify(proxy, Lookup(rsa_key))).scheme == "cavage"


async def test_repeated_header_lines_are_joined(ed_key: ed25519.Ed25519PrivateKey) -> None:
    # draft-cavage-12 §2.3 / RFC 9421 §2.1: repeated fields are joined with ", ".
    lines = [
        "(request-target): get /users/alice",
        "host: remote.example",
        f"date: {date_at(NOW)}",
        "accept: a, b",
    ]
    header = cavage_header(ed_key, "(request-target) host date accept", lines, algorithm="hs2019")
    multi = CIMultiDict(
        [("Host", "remote.example"), ("Date", date_at(NOW)), ("Accept", "a"), ("Accept", " b ")]
    )
    multi["Signature"] = header
    assert (
        await verify(CIMultiDictProxy(multi), Lookup(ed_key), method="GET", url=ACTOR_URL, body=None)
    ).owner == OWNER


async def test_host_from_url_when_header_absent(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    del headers["Host"]  # HTTP/2 requests carry :authority, not Host
    assert (await verify(headers, Lookup(rsa_key))).scheme == "cavage"


async def test_authorization_signature_header(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert (await verify(headers, Lookup(rsa_key))).key_id == KEY_ID


async def test_cavage_created_and_expires_pseudo_headers(ed_key: ed25519.Ed25519PrivateKey) -> None:
    created, expires = int(NOW) - 10, int(NOW) + 300
    lines = [
        "(request-target): post /users/alice/inbox",
        "host: remote.example",
        f"(created): {created}",
        f"(expires): {expires}",
        f"digest: {digest_header(BODY)}",
    ]
    header = cavage_header(
        ed_key,
        "(request-target) host (created) (expires) digest",
        lines,
        algorithm="hs2019",
        created=str(created),
        expires=str(expires),
    )
    headers = {"Host": "remote.example", "Digest": digest_header(BODY), "Signature": header}
    assert (await verify(headers, Lookup(ed_key))).algorithm == "hs2019"
    with pytest.raises(SignatureError, match="expired"):
        await verify(headers, Lookup(ed_key), now=expires + 60)


async def test_hs2019_rsa_pss_is_accepted(rsa_key: rsa.RSAPrivateKey) -> None:
    # draft-cavage-12's own hs2019 example uses RSASSA-PSS; some peers follow it.
    lines = ["(request-target): get /users/alice", "host: remote.example", f"date: {date_at(NOW)}"]
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
    raw = rsa_key.sign("\n".join(lines).encode(), pss, hashes.SHA512())
    encoded = base64.b64encode(raw).decode()
    sig = f'keyId="{KEY_ID}",algorithm="hs2019",headers="(request-target) host date",signature="{encoded}"'
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Signature": sig}
    assert (
        await verify(headers, Lookup(rsa_key), method="GET", url=ACTOR_URL, body=None)
    ).algorithm == "hs2019"
    # ...but not when the header claims rsa-sha256, which is PKCS#1 v1.5 only.
    with pytest.raises(SignatureError, match="does not verify"):
        await verify(
            {**headers, "Signature": sig.replace("hs2019", "rsa-sha256")},
            Lookup(rsa_key),
            method="GET",
            url=ACTOR_URL,
            body=None,
        )


async def test_rfc9421_without_alg_uses_key_type(rsa_key: rsa.RSAPrivateKey) -> None:
    for algorithm in ("rsa-v1_5-sha256", "rsa-pss-sha512"):
        signer = Rfc9421Signer(KEY_ID, rsa_key, algorithm, include_alg=False, clock=lambda: NOW)
        assert (await verify(signed(signer), Lookup(rsa_key))).algorithm == algorithm


async def test_rfc9421_path_and_authority_instead_of_target_uri(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = Rfc9421Signer(
        KEY_ID, ed_key, components=("@method", "@path", "@authority", "content-digest"), clock=lambda: NOW
    )
    assert (await verify(signed(signer), Lookup(ed_key))).scheme == "rfc9421"


def test_check_owner() -> None:
    verified = VerifiedSignature(KEY_ID, OWNER, "cavage", "rsa-sha256")
    check_owner(verified, OWNER)
    with pytest.raises(
        SignatureError,
        match="belongs to https://made.example/users/bob, not to the actor https://evil.example/x",
    ):
        check_owner(verified, "https://evil.example/x")


# --- refusals -----------------------------------------------------------------------------------------


async def refused(headers: Mapping[str, str], lookup: Lookup, match: str, **kwargs: object) -> SignatureError:
    with pytest.raises(SignatureError) as caught:
        await verify(headers, lookup, **kwargs)  # type: ignore[arg-type]
    reason = caught.value.reason
    assert reason.startswith("signature: ") and "\n" not in reason
    assert match in reason, reason
    return caught.value


async def test_missing_signature_header(rsa_key: rsa.RSAPrivateKey) -> None:
    lookup = Lookup(rsa_key)
    await refused({**JSON, "Date": date_at(NOW)}, lookup, "no Signature header")
    assert lookup.calls == []


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda s: s.replace('signature="', 'signature="!!!'), "signature is not valid base64"),
        (lambda s: s.replace(f'keyId="{KEY_ID}",', ""), "Signature header has no keyId"),
        (lambda s: s.replace('",', '" ; '), "Signature header is malformed"),
        (lambda s: "garbage", "Signature header is malformed"),
        (lambda s: s.replace("rsa-sha256", "hmac-sha256"), "unsupported algorithm 'hmac-sha256'"),
        (lambda s: s.replace("rsa-sha256", "rsa-sha1"), "unsupported algorithm 'rsa-sha1'"),
    ],
)
async def test_garbled_cavage_header(rsa_key: rsa.RSAPrivateKey, mangle, reason: str) -> None:  # type: ignore[no-untyped-def]
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    headers["Signature"] = mangle(headers["Signature"])
    lookup = Lookup(rsa_key)
    await refused(headers, lookup, reason)
    assert lookup.calls == []  # refused before any key fetch


@pytest.mark.parametrize(
    ("field", "mangle", "reason"),
    [
        (
            "Signature-Input",
            lambda s: s.replace('("@method"', '(@method"'),
            "Signature-Input header is unparsable",
        ),
        ("Signature-Input", lambda s: "sig1=", "Signature-Input header is unparsable"),
        ("Signature-Input", lambda s: s.replace(f';keyid="{KEY_ID}"', ""), "Signature-Input has no keyid"),
        (
            "Signature-Input",
            lambda s: s.replace("sig1=", "other="),
            "Signature-Input and Signature share no label",
        ),
        ("Signature-Input", lambda s: s.replace("created=", 'created="x";c='), "created is not an integer"),
        (
            "Signature-Input",
            lambda s: s.replace("rsa-v1_5-sha256", "hmac-sha256"),
            "unsupported algorithm 'hmac-sha256'",
        ),
        ("Signature", lambda s: s.replace("sig1=:", "sig1=:!"), "Signature header is unparsable"),
        ("Signature", lambda s: 'sig1="not bytes"', "Signature sig1 is not a byte sequence"),
    ],
)
async def test_garbled_rfc9421_headers(rsa_key: rsa.RSAPrivateKey, field: str, mangle, reason: str) -> None:  # type: ignore[no-untyped-def]
    headers = signed(Rfc9421Signer(KEY_ID, rsa_key, clock=lambda: NOW))
    headers[field] = mangle(headers[field])
    lookup = Lookup(rsa_key)
    await refused(headers, lookup, reason)
    assert lookup.calls == []


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_unknown_key(rsa_key: rsa.RSAPrivateKey, scheme: type) -> None:
    lookup = Lookup(None)
    await refused(signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW)), lookup, f"unknown key {KEY_ID}")
    assert lookup.calls == [(KEY_ID, False)]


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_wrong_key_refreshes_once_then_fails(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, scheme: type
) -> None:
    lookup = Lookup(other_rsa_key)
    await refused(
        signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW)),
        lookup,
        f"signature does not verify with key {KEY_ID}",
    )
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_key_of_other_type_fails(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> None:
    await refused(signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW)), Lookup(ed_key), "does not verify")
    await refused(
        signed(Rfc9421Signer(KEY_ID, ed_key, clock=lambda: NOW)), Lookup(rsa_key), "does not verify"
    )


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_key_rotation(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey, scheme: type
) -> None:
    lookup = Lookup(cached=other_rsa_key, refreshed=rsa_key)  # the cache still has the old key
    result = await verify(signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW)), lookup)
    assert result.owner == OWNER
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_refresh_returning_nothing(
    rsa_key: rsa.RSAPrivateKey, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    lookup = Lookup(other_rsa_key)
    lookup.answers[True] = None  # the actor is gone
    await refused(signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW)), lookup, "does not verify")
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_digest_mismatch(rsa_key: rsa.RSAPrivateKey, scheme: type) -> None:
    headers = signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW))
    lookup = Lookup(rsa_key)
    match = "digest does not match body" if scheme is CavageSigner else "content-digest does not match body"
    await refused(headers, lookup, match, body=BODY.replace(b"Follow", b"Delete"))
    assert lookup.calls == []


async def test_digest_sha512_accepted_and_checked(rsa_key: rsa.RSAPrivateKey) -> None:
    digest = "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    lines = [
        "(request-target): post /users/alice/inbox",
        "host: remote.example",
        f"date: {date_at(NOW)}",
        f"digest: {digest}",
    ]
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Digest": digest}
    headers["Signature"] = cavage_header(rsa_key, "(request-target) host date digest", lines)
    assert (await verify(headers, Lookup(rsa_key))).scheme == "cavage"
    await refused(headers, Lookup(rsa_key), "digest does not match body", body=BODY + b" ")


async def test_digest_with_unknown_algorithm_only(rsa_key: rsa.RSAPrivateKey) -> None:
    digest = "MD5=" + base64.b64encode(hashlib.md5(BODY).digest()).decode()
    lines = [
        "(request-target): post /users/alice/inbox",
        "host: remote.example",
        f"date: {date_at(NOW)}",
        f"digest: {digest}",
    ]
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Digest": digest}
    headers["Signature"] = cavage_header(rsa_key, "(request-target) host date digest", lines)
    await refused(headers, Lookup(rsa_key), "Digest header uses no supported algorithm")


async def test_digest_not_covered_on_post(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = ["(request-target): post /users/alice/inbox", "host: remote.example", f"date: {date_at(NOW)}"]
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_header(rsa_key, "(request-target) host date", lines)
    await refused(headers, Lookup(rsa_key), "digest not covered on a request with a body")
    # The same holds for a POST whose body is empty.
    await refused(headers, Lookup(rsa_key), "digest not covered", body=b"")


async def test_content_digest_not_covered_on_post(rsa_key: rsa.RSAPrivateKey) -> None:
    signer = Rfc9421Signer(KEY_ID, rsa_key, components=("@method", "@target-uri"), clock=lambda: NOW)
    await refused(signed(signer), Lookup(rsa_key), "content-digest not covered on a request with a body")


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_stale_signature(rsa_key: rsa.RSAPrivateKey, scheme: type) -> None:
    headers = signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW - 3 * 3600))
    label = "Date header" if scheme is CavageSigner else "created"
    await refused(headers, Lookup(rsa_key), f"{label} is 3h old, outside the ±1h window")


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_future_signature(rsa_key: rsa.RSAPrivateKey, scheme: type) -> None:
    headers = signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW + 2 * 3600))
    label = "Date header" if scheme is CavageSigner else "created"
    await refused(headers, Lookup(rsa_key), f"{label} is 2h in the future, outside the ±1h window")


async def test_window_edges_and_parameter(rsa_key: rsa.RSAPrivateKey) -> None:
    from datetime import timedelta

    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW - 3500))
    assert (await verify(headers, Lookup(rsa_key))).scheme == "cavage"  # 58 min old: inside ±1h
    with pytest.raises(SignatureError, match="58min old, outside the ±5min window"):
        await verify_request(
            method="POST",
            url=INBOX,
            headers=headers,
            body=BODY,
            lookup=Lookup(rsa_key),
            now=NOW,
            window=timedelta(minutes=5),
        )


async def test_date_in_signed_date_header_checked_for_rfc9421(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = Rfc9421Signer(
        KEY_ID, ed_key, components=("@method", "@target-uri", "date", "content-digest"), clock=lambda: NOW
    )
    headers = {**JSON, "Date": date_at(NOW - 5 * 3600)}
    headers.update(signer.sign("POST", INBOX, headers, BODY))
    await refused(headers, Lookup(ed_key), "Date header is 5h old")


async def test_missing_date_and_created(
    rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey
) -> None:
    lines = [
        "(request-target): post /users/alice/inbox",
        "host: remote.example",
        f"digest: {digest_header(BODY)}",
    ]
    headers = {"Host": "remote.example", "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_header(rsa_key, "(request-target) host digest", lines)
    await refused(headers, Lookup(rsa_key), "neither date nor (created) is covered")

    request = rfc9421.RequestParts.build("POST", INBOX, {"content-digest": content_digest_header(BODY)})
    components = [("@method", {}), ("@target-uri", {}), ("content-digest", {})]
    params = f'("@method" "@target-uri" "content-digest");keyid="{KEY_ID}"'
    raw = ed_key.sign(rfc9421.signature_base(components, params, request))
    headers = {
        "Content-Digest": content_digest_header(BODY),
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(raw).decode()}:",
    }
    await refused(headers, Lookup(ed_key), "neither the created parameter nor date is covered")


async def test_date_header_unparsable(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    headers["Date"] = "yesterday"
    await refused(headers, Lookup(rsa_key), "Date header 'yesterday' is not an HTTP date")


async def test_request_target_not_covered(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = ["host: remote.example", f"date: {date_at(NOW)}", f"digest: {digest_header(BODY)}"]
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_header(rsa_key, "host date digest", lines)
    await refused(headers, Lookup(rsa_key), "(request-target) not covered")


async def test_host_not_covered(rsa_key: rsa.RSAPrivateKey) -> None:
    lines = [
        "(request-target): post /users/alice/inbox",
        f"date: {date_at(NOW)}",
        f"digest: {digest_header(BODY)}",
    ]
    headers = {"Host": "remote.example", "Date": date_at(NOW), "Digest": digest_header(BODY)}
    headers["Signature"] = cavage_header(rsa_key, "(request-target) date digest", lines)
    await refused(headers, Lookup(rsa_key), "host not covered")


@pytest.mark.parametrize(
    ("components", "reason"),
    [
        (("@target-uri", "content-digest"), "@method not covered"),
        (("@method", "@authority", "content-digest"), "@target-uri not covered"),
        (("@method", "@path", "content-digest"), "@authority not covered"),
    ],
)
async def test_rfc9421_required_components(
    ed_key: ed25519.Ed25519PrivateKey, components: tuple[str, ...], reason: str
) -> None:
    signer = Rfc9421Signer(KEY_ID, ed_key, components=components, clock=lambda: NOW)
    await refused(signed(signer), Lookup(ed_key), reason)


@pytest.mark.parametrize("scheme", [CavageSigner, Rfc9421Signer])
async def test_replay_to_another_path_fails(rsa_key: rsa.RSAPrivateKey, scheme: type) -> None:
    headers = signed(scheme(KEY_ID, rsa_key, clock=lambda: NOW))
    lookup = Lookup(rsa_key)
    await refused(headers, lookup, "does not verify", url="https://remote.example/users/carol/inbox")
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]
    # ...and to another host, or as another method.
    other = "https://other.example/users/alice/inbox"
    if "Host" in headers:  # cavage signs the Host header: it must name the host we were reached at
        mismatch = "Host header remote.example does not match the request URL's host other.example"
        await refused(headers, Lookup(rsa_key), mismatch, url=other)
        await refused({**headers, "Host": "other.example"}, Lookup(rsa_key), "does not verify", url=other)
    else:  # RFC 9421 signs @target-uri
        await refused(headers, Lookup(rsa_key), "does not verify", url=other)
    await refused(headers, Lookup(rsa_key), "does not verify", method="PUT")


async def test_covered_header_missing(rsa_key: rsa.RSAPrivateKey) -> None:
    headers = signed(CavageSigner(KEY_ID, rsa_key, clock=lambda: NOW))
    del headers["Content-Type"]
    await refused(headers, Lookup(rsa_key), "covered header content-type is missing")


async def test_unsupported_rfc9421_component(ed_key: ed25519.Ed25519PrivateKey) -> None:
    signer = Rfc9421Signer(
        KEY_ID, ed_key, components=("@method", "@target-uri", "content-digest", "@status"), clock=lambda: NOW
    )
    with pytest.raises(SignatureError, match="component @status is not supported"):
        signed(signer)


def test_signer_rejects_mismatched_algorithm(ed_key: ed25519.Ed25519PrivateKey) -> None:
    with pytest.raises(ValueError):
        Rfc9421Signer(KEY_ID, ed_key, "rsa-pss-sha512")
    with pytest.raises(ValueError):
        Rfc9421Signer(KEY_ID, ed_key, "hmac-sha256")
