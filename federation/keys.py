"""Actor key pairs: generation, PEM (de)serialisation and FEP-521a Multikey encoding.

Every actor carries an RSA-2048 key (``publicKey``; what every peer verifies with draft-cavage) and an
Ed25519 key (``assertionMethod`` as a Multikey, FEP-521a) for peers and proofs that use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

PrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# Multicodec prefix for an Ed25519 public key (varint 0xed), FEP-521a / did:key.
_ED25519_PUB_MULTICODEC = b"\xed\x01"


@dataclass(frozen=True)
class KeyPairPem:
    private_pem: str
    public_pem: str


def generate_rsa() -> KeyPairPem:
    return _to_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def generate_ed25519() -> KeyPairPem:
    return _to_pem(ed25519.Ed25519PrivateKey.generate())


def _to_pem(key: PrivateKey) -> KeyPairPem:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPairPem(private.decode(), public.decode())


def public_pem(key: PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_private_pem(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, (rsa.RSAPrivateKey, ed25519.Ed25519PrivateKey)):
        raise ValueError("only RSA and Ed25519 private keys are supported")
    return key


def load_public_pem(pem: str) -> PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey)):
        raise ValueError("only RSA and Ed25519 public keys are supported")
    return key


def ed25519_multibase(public: ed25519.Ed25519PublicKey) -> str:
    """``publicKeyMultibase`` of FEP-521a: 'z' + base58btc(multicodec 0xed01 + 32 raw bytes)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + base58.b58encode(_ED25519_PUB_MULTICODEC + raw).decode()


def ed25519_from_multibase(value: str) -> ed25519.Ed25519PublicKey:
    if not value.startswith("z"):
        raise ValueError("publicKeyMultibase must be base58btc ('z' prefix)")
    try:
        data = base58.b58decode(value[1:])
    except ValueError as exc:
        raise ValueError("publicKeyMultibase is not valid base58") from exc
    if not data.startswith(_ED25519_PUB_MULTICODEC) or len(data) != 34:
        raise ValueError("publicKeyMultibase is not an Ed25519 public key")
    return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])

