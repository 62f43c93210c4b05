"""Signers for local actors: the key material stays in the database; signers are cached per actor.

Two kinds of signature: draft-cavage HTTP signatures with the RSA key (every request we send), and
FEP-8b32 integrity proofs with the Ed25519 key (documents that others relay, see federation.proofs).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from actors.urls import Urls
from federation import proofs
from federation.keys import load_private_pem
from federation.signatures import CavageSigner
from storage.models import LocalActor


@lru_cache(maxsize=4096)
def _signer(key_id: str, private_pem: str) -> CavageSigner:
    # Parsing a PEM costs more than a signature; cache the loaded key per (key id, PEM).
    return CavageSigner(key_id, load_private_pem(private_pem))


class SigningActor(Protocol):
    """What signing reads of a local actor: a ``LocalActor``, or a row of just these columns (the delivery
    worker loads no ORM objects)."""

    @property
    def actor_type(self) -> str: ...
    @property
    def username(self) -> str: ...
    @property
    def rsa_private_pem(self) -> str: ...


def signer_for(actor: SigningActor | LocalActor, urls: Urls) -> CavageSigner:
    """draft-cavage with the actor's RSA key: what every peer verifies (PROTOCOL.md)."""
    actor_id = urls.actor(actor.actor_type, actor.username)
    return _signer(urls.main_key(actor_id), actor.rsa_private_pem)


@lru_cache(maxsize=4096)
def _ed25519_key(private_pem: str) -> ed25519.Ed25519PrivateKey:
    key = load_private_pem(private_pem)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError("the actor's assertion key is not an Ed25519 key")
    return key


def with_proof(actor: LocalActor, urls: Urls, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` signed by ``actor`` (FEP-8b32, eddsa-jcs-2022): the proof names the Ed25519 Multikey
    that the actor document lists in ``assertionMethod`` (FEP-521a, actors.documents)."""
    actor_id = urls.actor(actor.actor_type, actor.username)
    return proofs.sign(document, _ed25519_key(actor.ed25519_private_pem), urls.ed25519_key(actor_id))
