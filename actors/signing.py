"""Signers for local actors: the key material stays in the database; signers are cached per actor."""

from __future__ import annotations

from functools import lru_cache

from actors.urls import Urls
from federation.keys import load_private_pem
from federation.signatures import CavageSigner
from storage.models import LocalActor


@lru_cache(maxsize=4096)
def _signer(key_id: str, private_pem: str) -> CavageSigner:
    # Parsing a PEM costs more than a signature; cache the loaded key per (key id, PEM).
    return CavageSigner(key_id, load_private_pem(private_pem))


def signer_for(actor: LocalActor, urls: Urls) -> CavageSigner:
    """draft-cavage with the actor's RSA key: what every peer verifies (PROTOCOL.md)."""
    actor_id = urls.actor(actor.actor_type, actor.username)
    return _signer(urls.main_key(actor_id), actor.rsa_private_pem)
