"""Keys for the test peers (tests/support/peer.py): RSA keys from a process-wide pool, PEM and FEP-521a
encodings computed independently of ours, and draft-cavage's ``Digest`` of a body."""

from __future__ import annotations

import base64
import hashlib
import itertools

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa



# RSA-2048 generation costs ~60 ms; tests create many peers. Keys come from a process-wide pool
# handed out round-robin, so keys within one test are distinct unless it draws more than the pool.
_RSA_POOL_SIZE = 32
_rsa_pool: list[rsa.RSAPrivateKey] = []
_rsa_turn = itertools.count()


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A distinct RSA-2048 key (distinct from the last ``_RSA_POOL_SIZE - 1`` keys handed out)."""
    turn = next(_rsa_turn) % _RSA_POOL_SIZE
    if turn == len(_rsa_pool):
        _rsa_pool.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _rsa_pool[turn]


def private_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def multikey(key: ed25519.Ed25519PrivateKey) -> str:
    """FEP-521a ``publicKeyMultibase``: 'z' + base58btc(0xed01 + raw key), computed independently of ours."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(b"\xed\x01" + raw).decode()


def sha256_digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
