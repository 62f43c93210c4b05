"""FEP-8b32 integrity proofs (eddsa-jcs-2022): the published test vectors, bovine both ways, and the
verification policy (whose key, which host, what is ignored and what is refused).

Vectors (test keys only, published with the specifications):

* W3C "Data Integrity EdDSA Cryptosuites v1.0", Appendix B.3 "Representation: eddsa-jcs-2022" (the key
  pair of Example 29, the credential of Example 30, the canonical forms and hashes of Examples 31-35, the
  proofValue of Example 38/39).
* FEP-8b32 ``fep-8b32.feature`` ("Signing document" / "Verifying a signature": a Create with an embedded
  Note whose numbers exercise JCS number serialisation).

bovine (``bovine.crypto``, its own JCS via the ``jcs`` package) is an independent implementation: it must
verify what we sign, and we must verify what it signs.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import base58
import pytest
import rfc8785
from bovine.crypto.multibase import decode_multibase_public_key
from bovine.crypto.types import CryptographicIdentifier, CryptographicSecret
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import proofs
from federation.keys import ed25519_from_multibase
from federation.signatures import PublicKeyRecord

# -- W3C vc-di-eddsa, Appendix B.3 ----------------------------------------------------------------

SECRET_KEY_MULTIBASE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"  # Example 29
PUBLIC_KEY_MULTIBASE = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=timezone.utc)
W3C_CREDENTIAL: dict[str, Any] = {  # Example 30
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
}
W3C_METHOD = f"did:key:{PUBLIC_KEY_MULTIBASE}#{PUBLIC_KEY_MULTIBASE}"
W3C_PROOF_VALUE = "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX"

# -- FEP-8b32 fep-8b32.feature ----------------------------------------------------------------------

ALICE = "https://server.example/users/alice"
ALICE_KEY = f"{ALICE}#ed25519-key"
FEP_DOCUMENT: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v2"],
    "id": "https://server.example/activities/1",
    "type": "Create",
    "actor": ALICE,
    "object": {
        "id": "https://server.example/objects/1",
        "type": "Note",
        "attributedTo": ALICE,
        "content": "Hello world",
        "location": {"type": "Place", "longitude": -71.184902, "latitude": 25.273962},
    },
}
FEP_PROOF_VALUE = "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL"


def vector_key() -> ed25519.Ed25519PrivateKey:
    raw = base58.b58decode(SECRET_KEY_MULTIBASE[1:])
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv (0x1300) as a varint
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:])


class Keys:
    """An injected key lookup (federation.signatures.KeyLookup) over fixed keys, counting calls."""

    def __init__(self, records: dict[str, PublicKeyRecord], *, refreshed: dict[str, PublicKeyRecord] | None = None):
        self.records = records
        self.refreshed = refreshed or {}
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        self.calls.append((key_id, refresh))
        if refresh and key_id in self.refreshed:
            return self.refreshed[key_id]
        return self.records.get(key_id)


def alice_keys(public_key: object | None = None) -> Keys:
    key = public_key if public_key is not None else ed25519_from_multibase(PUBLIC_KEY_MULTIBASE)
    return Keys({ALICE_KEY: PublicKeyRecord(ALICE_KEY, ALICE, key)})  # type: ignore[arg-type]


def note(author: str = ALICE, **extra: Any) -> dict[str, Any]:
    host = author.split("/users/")[0]
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{host}/objects/2", "type": "Note",
            "attributedTo": author, "content": "<p>Members only</p>", "to": [f"{host}/groups/g/followers"], **extra}


# --------------------------------------------------------------------------------------------------
# Published vectors


def test_w3c_vector_canonical_forms_and_hashes() -> None:
    # Examples 31-32 and 34-35: what JCS makes of the credential and of the proof options, and their hashes.
    options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2023-02-24T23:36:38Z",
               "verificationMethod": W3C_METHOD, "proofPurpose": "assertionMethod",
               "@context": W3C_CREDENTIAL["@context"]}
    assert hashlib.sha256(rfc8785.dumps(W3C_CREDENTIAL)).hexdigest() == (
        "59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19")
    assert hashlib.sha256(rfc8785.dumps(options)).hexdigest() == (
        "66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db")


def test_w3c_vector_is_signed_and_verified_as_published() -> None:
    signed = proofs.sign(W3C_CREDENTIAL, vector_key(), W3C_METHOD, created=CREATED, bind_context=True)
    # The VC 2.0 context defines `proof` already: no data-integrity context is injected.
    assert signed["@context"] == W3C_CREDENTIAL["@context"]
    assert signed["proof"]["proofValue"] == W3C_PROOF_VALUE
    proof = proofs.parse_proof(signed)
    proofs.check_signature(signed, proof, ed25519_from_multibase(PUBLIC_KEY_MULTIBASE))


def test_fep_vector_is_signed_and_verified_as_published() -> None:
    signed = proofs.sign(FEP_DOCUMENT, vector_key(), ALICE_KEY, created=CREATED, bind_context=True)
    assert signed["proof"] == {
        "@context": FEP_DOCUMENT["@context"], "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": ALICE_KEY, "proofPurpose": "assertionMethod", "proofValue": FEP_PROOF_VALUE,
        "created": "2023-02-24T23:36:38Z",
    }


async def test_fep_vector_verifies_against_the_actors_multikey() -> None:
    signed = {**FEP_DOCUMENT, "proof": {
        "@context": FEP_DOCUMENT["@context"], "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": ALICE_KEY, "proofPurpose": "assertionMethod", "proofValue": FEP_PROOF_VALUE,
        "created": "2023-02-24T23:36:38Z",
    }}
    verified = await proofs.verify_proof(signed, alice_keys())
    assert verified == proofs.VerifiedProof(key_id=ALICE_KEY, owner=ALICE)


# --------------------------------------------------------------------------------------------------
# bovine, both ways


def test_bovine_verifies_what_we_sign() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed_object = proofs.sign(note(), key, ALICE_KEY)
    signed = proofs.sign({**FEP_DOCUMENT, "object": signed_object}, key, ALICE_KEY)
    bovine_view = CryptographicIdentifier(ALICE, key.public_key())
    assert bovine_view.verify_document(copy.deepcopy(signed)) == ALICE
    assert bovine_view.verify_document(copy.deepcopy(signed_object)) == ALICE
    tampered = copy.deepcopy(signed)
    tampered["object"]["content"] = "<p>changed on the way</p>"
    assert bovine_view.verify_document(tampered) is None


async def test_we_verify_what_bovine_signs() -> None:
    secret = CryptographicSecret.from_multibase(ALICE_KEY, SECRET_KEY_MULTIBASE)
    # With the data-integrity context present, bovine signs the JSON as it is (no JSON-LD compaction).
    signed = secret.sign_document(copy.deepcopy(FEP_DOCUMENT))
    assert signed["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert await proofs.verify_proof(signed, alice_keys()) == proofs.VerifiedProof(ALICE_KEY, ALICE)
    tampered = copy.deepcopy(signed)
    tampered["object"]["location"]["latitude"] = 25.27
    with pytest.raises(proofs.ProofError):
        await proofs.verify_proof(tampered, alice_keys())


def test_bovine_and_we_read_the_same_multikey() -> None:
    ours = ed25519_from_multibase(PUBLIC_KEY_MULTIBASE)
    theirs = decode_multibase_public_key(PUBLIC_KEY_MULTIBASE)
    assert ours == theirs


# --------------------------------------------------------------------------------------------------
# What a relay may and may not do to a signed document


async def test_any_json_serialisation_of_the_same_document_verifies() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(FEP_DOCUMENT, key, ALICE_KEY)
    # Keys reordered and non-ASCII escaped, as another JSON encoder (or a database) may hand it on.
    relayed = json.loads(json.dumps(dict(reversed(list(signed.items()))), ensure_ascii=True, indent=2))
    assert await proofs.verify_proof(relayed, alice_keys(key.public_key()))


async def test_stripping_the_context_of_a_signed_document_breaks_it() -> None:
    # Why the group's fan-out embeds signed activities whole (inbox_outbox.fanout).
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(FEP_DOCUMENT, key, ALICE_KEY)
    stripped = {k: v for k, v in signed.items() if k != "@context"}
    with pytest.raises(proofs.ProofError):
        await proofs.verify_proof(stripped, alice_keys(key.public_key()))


def test_signing_injects_the_data_integrity_context_once() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(note(), key, ALICE_KEY)
    assert signed["@context"] == ["https://www.w3.org/ns/activitystreams", proofs.DATA_INTEGRITY_CONTEXT]
    assert "@context" not in signed["proof"]  # see the module docstring: bovine
    assert proofs.sign(FEP_DOCUMENT, key, ALICE_KEY)["@context"] == FEP_DOCUMENT["@context"]
    with pytest.raises(ValueError):
        proofs.sign(signed, key, ALICE_KEY)


async def test_an_ld_signature_beside_the_proof_is_left_out() -> None:
    # FEP-8b32 "Backward compatibility": the LD signature is added after the proof and removed before.
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(FEP_DOCUMENT, key, ALICE_KEY)
    signed["signature"] = {"type": "RsaSignature2017", "creator": f"{ALICE}#main-key", "signatureValue": "..."}
    assert await proofs.verify_proof(signed, alice_keys(key.public_key()))


async def test_a_bound_context_must_prefix_the_documents() -> None:
    signed = proofs.sign(FEP_DOCUMENT, vector_key(), ALICE_KEY, created=CREATED, bind_context=True)
    signed["@context"] = ["https://www.w3.org/ns/activitystreams"]
    with pytest.raises(proofs.ProofError, match="@context"):
        await proofs.verify_proof(signed, alice_keys())


# --------------------------------------------------------------------------------------------------
# Whose key: the policy of verify_proof


async def test_a_key_of_another_actor_on_the_same_host_is_refused() -> None:
    mallory_key = ed25519.Ed25519PrivateKey.generate()
    mallory = "https://server.example/users/mallory"
    keys = Keys({f"{mallory}#ed25519-key": PublicKeyRecord(f"{mallory}#ed25519-key", mallory, mallory_key.public_key())})
    forged = proofs.sign(note(), mallory_key, f"{mallory}#ed25519-key")  # attributed to alice
    with pytest.raises(proofs.ProofError, match="belongs to"):
        await proofs.verify_proof(forged, keys)


async def test_a_key_on_another_host_is_refused_without_looking_it_up() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    elsewhere = "https://relay.example/actor#ed25519-key"
    keys = Keys({elsewhere: PublicKeyRecord(elsewhere, ALICE, key.public_key())})
    with pytest.raises(proofs.ProofError, match="host"):
        await proofs.verify_proof(proofs.sign(note(), key, elsewhere), keys)
    assert keys.calls == []


async def test_tampered_content_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(note(), key, ALICE_KEY)
    signed["content"] = "<p>Everyone, look</p>"
    with pytest.raises(proofs.ProofError, match="signature"):
        await proofs.verify_proof(signed, alice_keys(key.public_key()))


async def test_a_rotated_key_is_looked_up_again_once() -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    keys = Keys({ALICE_KEY: PublicKeyRecord(ALICE_KEY, ALICE, old.public_key())},
                refreshed={ALICE_KEY: PublicKeyRecord(ALICE_KEY, ALICE, new.public_key())})
    assert await proofs.verify_proof(proofs.sign(note(), new, ALICE_KEY), keys)
    assert keys.calls == [(ALICE_KEY, False), (ALICE_KEY, True)]


async def test_an_rsa_key_cannot_make_an_eddsa_proof_hold() -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = Keys({ALICE_KEY: PublicKeyRecord(ALICE_KEY, ALICE, rsa_key.public_key())})
    with pytest.raises(proofs.ProofError, match="Ed25519"):
        await proofs.verify_proof(proofs.sign(note(), ed25519.Ed25519PrivateKey.generate(), ALICE_KEY), keys)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"cryptosuite": "eddsa-rdfc-2022"}, "unsupported"),
        ({"type": "Ed25519Signature2020"}, "unsupported"),
        ({"proofPurpose": "authentication"}, "authentication"),
        ({"verificationMethod": f"did:key:{PUBLIC_KEY_MULTIBASE}"}, "resolve"),
        ({"expires": "2024-01-01T00:00:00Z"}, "expired"),
    ],
)
async def test_proofs_we_cannot_check_are_ignored(change: dict[str, str], reason: str) -> None:
    # FEP-8b32: ignore such a proof and authenticate the document another way (the caller re-fetches).
    signed = proofs.sign(note(), ed25519.Ed25519PrivateKey.generate(), ALICE_KEY)
    signed["proof"].update(change)
    with pytest.raises(proofs.UnusableProof, match=reason):
        await proofs.verify_proof(signed, alice_keys(), now=datetime(2025, 1, 1, tzinfo=timezone.utc))


async def test_an_unresolvable_key_or_a_proof_set_is_ignored() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign(note(), key, ALICE_KEY)
    with pytest.raises(proofs.UnusableProof, match="resolved"):
        await proofs.verify_proof(signed, Keys({}))
    with pytest.raises(proofs.UnusableProof, match="set"):
        await proofs.verify_proof({**signed, "proof": [signed["proof"]]}, alice_keys(key.public_key()))


@pytest.mark.parametrize(
    "change",
    [{"proofValue": "not multibase"}, {"proofValue": "z" + base58.b58encode(b"short").decode()},
     {"created": "yesterday"}],
)
async def test_malformed_proofs_are_refused(change: dict[str, str]) -> None:
    signed = proofs.sign(note(), ed25519.Ed25519PrivateKey.generate(), ALICE_KEY)
    signed["proof"].update(change)
    with pytest.raises(proofs.ProofError):
        await proofs.verify_proof(signed, alice_keys())


def test_owners_are_the_actor_of_an_activity_or_the_authors_of_an_object() -> None:
    assert proofs.document_owners(FEP_DOCUMENT) == (ALICE,)
    assert proofs.document_owners(note()) == (ALICE,)
    peertube = note(attributedTo=[{"type": "Person", "id": ALICE}, {"type": "Group", "id": "https://server.example/c/g"}])
    assert proofs.document_owners(peertube) == (ALICE, "https://server.example/c/g")
    assert proofs.document_owners({"id": "https://server.example/x"}) == ()


async def test_a_proof_on_a_document_nobody_owns_is_refused() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signed = proofs.sign({"id": "https://server.example/x", "type": "Note"}, key, ALICE_KEY)
    with pytest.raises(proofs.ProofError, match="names no actor"):
        await proofs.verify_proof(signed, alice_keys(key.public_key()))


def test_the_created_time_is_now_by_default() -> None:
    signed = proofs.sign(note(), ed25519.Ed25519PrivateKey.generate(), ALICE_KEY)
    created = proofs.parse_proof(signed).created
    assert abs(datetime.now(timezone.utc) - created) < timedelta(minutes=1)
