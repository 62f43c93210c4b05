"""FEP-8b32 Object Integrity Proofs with the ``eddsa-jcs-2022`` cryptosuite: sign and verify (pure code).

Why we sign: a FEP-1b12 group relays its members' activities. A relayed copy used to be trusted only after
re-fetching it from its origin (PROTOCOL.md "Validation"), but a post in a private group is served to the
author's own group only where the group lives: the author's server cannot know a remote group's member
list, so it answers 404 to the other members' servers, and they never saw the post. With a proof, the
copy the group relays carries the author's own signature, and every member's server can check it without
asking the author's server anything.

Specifications followed:

- FEP-8b32 "Proof generation": a ``DataIntegrityProof`` whose ``proofPurpose`` is ``assertionMethod`` and
  whose ``verificationMethod`` is a key in the actor's ``assertionMethod`` (FEP-521a Multikey; ours:
  ``<actor>#ed25519-key``). "Proof verification": the controller of the key must be the owner of the
  signed object (FEP-fe34: an activity's ``actor``, an object's ``attributedTo``); a proof whose method
  cannot be resolved, whose cryptosuite is not supported or that has expired is ignored ("try other
  authentication methods"). "Backward compatibility": an LD ``signature`` is removed before verifying.
- W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation, 2025): §3.3.1 Create Proof, §3.3.2
  Verify Proof, §3.3.3 Transformation (JCS, RFC 8785), §3.3.4 Hashing (SHA-256 of the canonical proof
  configuration, then SHA-256 of the canonical document, concatenated), §3.3.5 Proof Configuration,
  §3.3.6 Proof Serialization (Ed25519, RFC 8032); ``proofValue`` is multibase base58btc (``z...``).
  Test vectors: its Appendix B.3 "Representation: eddsa-jcs-2022" and FEP-8b32's ``fep-8b32.feature``
  (both in tests/federation/test_proofs.py).

Decisions:

- Our proofs do not copy the document's ``@context`` into the proof (§3.3.1 step 2). The spec "strongly
  advises" it but its own note says some implementations skip it; bovine (0.5.x), one of the
  implementations that checks ours, dumps a proof's ``@context`` under a wrong key and fails every proof
  that has one. The document's ``@context`` is signed all the same: it is part of the hashed document.
  Proofs that do carry a ``@context`` verify here (§3.3.2 step 4), so both forms are accepted.
- Context injection: a signed top-level document gets the data-integrity context appended to its
  ``@context`` (as in FEP-8b32's examples, and as bovine does), so ``proof`` is a defined JSON-LD term.
- A proof covers everything in the document, embedded objects included: whoever relays a signed document
  must pass it on with the same members and values (JCS makes key order and number spelling irrelevant),
  ``@context`` included.
- One proof per document (FEP-8b32: "Objects SHOULD NOT contain more than one integrity proof"): a proof
  set (a list) is not evaluated, i.e. treated like an unsupported proof.
- Two outcomes besides success, kept apart on purpose: :class:`ProofError`, the proof can be checked and
  does not hold (the caller rejects the document, never falls back to trusting it some other way), and
  :class:`UnusableProof`, a proof we cannot check (the caller authenticates the document as if it had
  none, e.g. by fetching it from its origin).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.activities import iso
from federation.object_fields import as_list, id_of, is_http_url, parse_time
from federation.remote_actor import origin
from federation.signatures import KeyLookup, PublicKeyRecord

Document = dict[str, Any]

DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
# Contexts that define `proof` already: no injection then (the VC 2.0 context includes the data-integrity terms).
_DEFINES_PROOF = frozenset({
    DATA_INTEGRITY_CONTEXT, "https://w3id.org/security/data-integrity/v1", "https://www.w3.org/ns/credentials/v2",
})
PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_PURPOSE = "assertionMethod"
_SIGNATURE_BYTES = 64  # Ed25519 (RFC 8032 §5.1.6)


class ProofError(ValueError):
    """The document's proof can be checked and does not hold: reject the document."""


class UnusableProof(ValueError):
    """A proof we cannot check (FEP-8b32: ignore it and authenticate the document another way)."""


@dataclass(frozen=True)
class Proof:
    """A parsed ``eddsa-jcs-2022`` proof: its options exactly as received (all but ``proofValue``)."""

    verification_method: str
    created: datetime
    options: Document
    signature: bytes


@dataclass(frozen=True)
class VerifiedProof:
    key_id: str
    owner: str  # the actor whose key signed, the document's owner


# --------------------------------------------------------------------------------------------------
# Signing


def with_integrity_context(document: Document) -> Document:
    """``document`` with the data-integrity context appended to its ``@context`` (context injection).
    An embedded document without a ``@context`` of its own is left as it is."""
    context = document.get("@context")
    if context is None:
        return dict(document)
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(item, str) and item in _DEFINES_PROOF for item in contexts):
        return dict(document)
    return {**document, "@context": [*contexts, DATA_INTEGRITY_CONTEXT]}


def sign(
    document: Document,
    key: ed25519.Ed25519PrivateKey,
    verification_method: str,
    *,
    created: datetime | None = None,
    bind_context: bool = False,
) -> Document:
    """A copy of ``document`` with the data-integrity context and an ``eddsa-jcs-2022`` proof (§3.3.1).

    ``bind_context``: also copy the ``@context`` into the proof (§3.3.1 step 2); off by default, see the
    module docstring (bovine). The test vectors of the spec and of FEP-8b32 are made with it on.
    """
    if "proof" in document:
        raise ValueError("the document already carries a proof")
    unsecured = with_integrity_context(document)
    options: Document = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
        "created": iso(created or datetime.now(timezone.utc)),
    }
    if bind_context and "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": "z" + base58.b58encode(signature).decode()}}


# --------------------------------------------------------------------------------------------------
# Verifying


def parse_proof(document: Document, *, now: datetime | None = None) -> Proof:
    """The document's proof, if it is one we can check; UnusableProof or ProofError otherwise."""
    value = document.get("proof")
    if value is None:
        raise UnusableProof("the document has no proof")
    if isinstance(value, list):
        raise UnusableProof("a proof set (several proofs) is not evaluated")
    if not isinstance(value, dict):
        raise ProofError("proof is not an object")
    if value.get("type") != PROOF_TYPE or value.get("cryptosuite") != CRYPTOSUITE:
        raise UnusableProof(f"unsupported proof {value.get('type')!r}/{value.get('cryptosuite')!r}")
    if value.get("proofPurpose") != PROOF_PURPOSE:
        # FEP-8b32: content is signed for assertionMethod; a proof made for another purpose proves nothing here.
        raise UnusableProof(f"proof made for {value.get('proofPurpose')!r}, not {PROOF_PURPOSE}")
    method = value.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise ProofError("proof names no verificationMethod")
    expires = value.get("expires")
    if expires is not None:
        moment = _datetime(expires, "expires")
        if moment <= (now or datetime.now(timezone.utc)):
            raise UnusableProof("the proof has expired")
    created = _datetime(value.get("created"), "created")  # §3.3.5 step 3: created must be a valid datetime
    return Proof(
        verification_method=method,
        created=created,
        options={key: item for key, item in value.items() if key != "proofValue"},
        signature=_decode_proof_value(value.get("proofValue")),
    )


def check_signature(document: Document, proof: Proof, public_key: ed25519.Ed25519PublicKey) -> None:
    """§3.3.2 Verify Proof with a known key; ProofError unless the signature holds."""
    # FEP-8b32 "Backward compatibility": an LD signature is removed before the integrity proof is verified.
    unsecured = {key: value for key, value in document.items() if key not in ("proof", "signature")}
    bound = proof.options.get("@context")
    if bound is not None:
        # §3.3.2 step 4: the document's @context must start with the proof's, in the same order.
        contexts, prefix = as_list(document.get("@context")), as_list(bound)
        if contexts[: len(prefix)] != prefix:
            raise ProofError("the proof's @context does not match the document's")
        unsecured["@context"] = bound
    try:
        hash_data = _hash_data(unsecured, proof.options)
    except rfc8785.CanonicalizationError as exc:
        # JCS refuses what has no I-JSON form (e.g. integers beyond 2^53): we cannot tell what was signed.
        raise UnusableProof(f"the document has no JCS form: {exc}") from None
    try:
        public_key.verify(proof.signature, hash_data)
    except InvalidSignature:
        raise ProofError("the signature does not match the document") from None


def document_owners(document: Document) -> tuple[str, ...]:
    """Who may sign the document (FEP-fe34 ownership): an activity's ``actor``, else the object's
    ``attributedTo`` (a string, an object, or a list such as PeerTube's ``[Person, Group]``)."""
    value = document["actor"] if "actor" in document else document.get("attributedTo")
    return tuple(dict.fromkeys(found for item in as_list(value) if (found := id_of(item)) is not None))


async def verify_proof(document: Document, lookup: KeyLookup, *, now: datetime | None = None) -> VerifiedProof:
    """Check the document's proof against its owner's key, found with ``lookup`` (the same injected key
    lookup HTTP signatures use). ProofError: it does not hold; UnusableProof: it cannot be checked.

    The key must belong to the document's owner and be on the document's own origin; on a mismatch the key
    is looked up once more without the cache, in case it was rotated (as for HTTP signatures, PROTOCOL.md).
    """
    proof = parse_proof(document, now=now)
    owners = document_owners(document)
    if not owners:
        raise ProofError("the document names no actor or author whose key could sign it")
    method = proof.verification_method
    if not is_http_url(method):
        raise UnusableProof(f"verification method {method!r} is not an http(s) URL we can resolve (a DID?)")
    # Checked before any lookup, so a made-up proof never makes us fetch keys from a third host.
    if origin(method) not in {origin(owner) for owner in owners}:
        raise ProofError(f"{method} is not on the host of {', '.join(owners)}")
    document_id = document.get("id")
    if isinstance(document_id, str) and origin(document_id) != origin(method):
        raise ProofError(f"{document_id} is signed by {method}, a key of another host")
    record = await lookup(method, refresh=False)
    if record is None:
        raise UnusableProof(f"verification method {method} could not be resolved")
    try:
        _check_with(document, proof, record, owners)
    except ProofError:
        fresh = await lookup(method, refresh=True)
        if fresh is None or _raw(fresh.public_key) == _raw(record.public_key):
            raise
        _check_with(document, proof, fresh, owners)
        record = fresh
    return VerifiedProof(key_id=method, owner=record.owner)


def _check_with(document: Document, proof: Proof, record: PublicKeyRecord, owners: tuple[str, ...]) -> None:
    if record.owner not in owners:
        raise ProofError(f"{record.key_id} belongs to {record.owner}, not to {', '.join(owners)}")
    if not isinstance(record.public_key, ed25519.Ed25519PublicKey):
        raise ProofError(f"{record.key_id} is not an Ed25519 key ({CRYPTOSUITE} needs one)")
    check_signature(document, proof, record.public_key)


# --------------------------------------------------------------------------------------------------
# The cryptosuite's pieces


def _hash_data(unsecured: Document, options: Document) -> bytes:
    """§3.3.3 + §3.3.5 (JCS of both) and §3.3.4: SHA-256(proof configuration) || SHA-256(document)."""
    return hashlib.sha256(rfc8785.dumps(options)).digest() + hashlib.sha256(rfc8785.dumps(unsecured)).digest()


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise ProofError("proofValue must be a base58btc multibase string ('z' prefix)")
    try:
        signature = base58.b58decode(value[1:])
    except ValueError:
        raise ProofError("proofValue is not valid base58") from None
    if len(signature) != _SIGNATURE_BYTES:
        raise ProofError(f"proofValue holds {len(signature)} bytes, not an Ed25519 signature")
    return signature


def _datetime(value: object, what: str) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise ProofError(f"proof {what} {value!r} is not an XML Schema dateTime")
    return moment


def _raw(key: object) -> bytes | None:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return None
