"""One actor of a test peer (tests/support/peer.py): its documents (actor, key, notes) as the peer serves them,
its keys and their rotation, and requests signed by it with our ``CavageSigner`` or with the independent
``httpsig`` library."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpsig
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.signatures import CavageSigner
from tests.support.peer_keys import multikey, new_rsa_key, private_pem, public_pem, sha256_digest


if TYPE_CHECKING:
    from tests.support.peer import Peer

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ACTIVITY_JSON = "application/activity+json"

Implementation = Literal["cavage", "httpsig"]


@dataclass
class PeerActor:
    """One actor of the peer, with its keys and what its documents should say (tests may bend them)."""

    peer: Peer
    username: str
    rsa_key: rsa.RSAPrivateKey
    name: str = ""
    summary: str = ""
    actor_type: str = "Person"
    ed25519_key: ed25519.Ed25519PrivateKey | None = None
    separate_key_document: bool = False  # GoToSocial: keyId is its own URL, a document with `owner`
    key_owner: str | None = None  # the `owner` the key document claims (default: this actor)
    webfinger_href: str | None = None  # where WebFinger points (default: this actor's id)
    webfinger_jrd: Any = None  # served verbatim as the WebFinger answer when set (malformed-JRD tests)
    document_overrides: dict[str, Any] = field(default_factory=dict)  # merged over the actor document
    document_bytes: bytes | None = None  # served verbatim instead of the document (malformed-JSON tests)

    @property
    def id(self) -> str:
        return f"{self.peer.base_url}/users/{self.username}"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.peer.host}"

    @property
    def key_id(self) -> str:
        return f"{self.id}/main-key" if self.separate_key_document else f"{self.id}#main-key"

    @property
    def ed25519_key_id(self) -> str:
        return f"{self.id}#ed25519-key"

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    def rotate_key(self) -> rsa.RSAPrivateKey:
        """Replace the RSA key under the same keyId, as a server does after a key compromise."""
        self.rsa_key = new_rsa_key()
        return self.rsa_key

    # -- documents --------------------------------------------------------------------------------

    def public_key_entry(self) -> dict[str, Any]:
        return {"id": self.key_id, "owner": self.key_owner or self.id, "publicKeyPem": public_pem(self.rsa_key)}

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "@context": [AS2_CONTEXT, SECURITY_CONTEXT, MULTIKEY_CONTEXT],
            "id": self.id,
            "type": self.actor_type,
            "preferredUsername": self.username,
            "name": self.name or self.username,
            "summary": self.summary,
            "url": f"{self.peer.base_url}/@{self.username}",
            "inbox": self.inbox,
            "outbox": f"{self.id}/outbox",
            "followers": f"{self.id}/followers",
            "following": f"{self.id}/following",
            "endpoints": {"sharedInbox": f"{self.peer.base_url}/inbox"},
            "publicKey": self.public_key_entry(),
        }
        if self.ed25519_key is not None:
            doc["assertionMethod"] = [
                {
                    "id": self.ed25519_key_id,
                    "type": "Multikey",
                    "controller": self.id,
                    "publicKeyMultibase": multikey(self.ed25519_key),
                }
            ]
        doc.update(self.document_overrides)
        return doc

    def key_document(self) -> dict[str, Any]:
        """GoToSocial serves the key at its own URL: a small document naming its owner."""
        return {"@context": [AS2_CONTEXT, SECURITY_CONTEXT], **self.public_key_entry()}

    # -- activities -------------------------------------------------------------------------------

    def create_note(
        self, content: str = "<p>Hello</p>", *, to: str = PUBLIC, actor: str | None = None
    ) -> dict[str, Any]:
        """A Create{Note} with fresh ids; ``actor`` overrides the activity's actor (forgery tests)."""
        serial = uuid.uuid4().hex
        note_id = f"{self.id}/statuses/{serial}"
        return {
            "@context": AS2_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor or self.id,
            "to": [to],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor or self.id,
                "content": content,
                "to": [to],
            },
        }

    # -- signing ----------------------------------------------------------------------------------

    def sign(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        *,
        content_type: str = ACTIVITY_JSON,
        implementation: Implementation = "cavage",
        key: rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | None = None,
        key_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> dict[str, str]:
        """The headers of a signed request (Host, Date, Digest, Content-Type, Signature).

        ``url`` is what the request is signed for; the Host header is taken from it, so a request
        signed for ``https://node.test/inbox`` can be sent to a TestClient and be seen as node.test.
        ``key``/``key_id`` sign with another key or name another key (forgery and rotation tests);
        ``clock`` moves the Date (stale and future signatures).
        """
        signing_key = key or self.rsa_key
        signing_key_id = key_id or (
            self.ed25519_key_id if isinstance(signing_key, ed25519.Ed25519PrivateKey) else self.key_id
        )
        headers: dict[str, str] = {"Content-Type": content_type} if body is not None else {}
        if implementation == "cavage":
            headers.update(CavageSigner(signing_key_id, signing_key, clock=clock).sign(method, url, headers, body))
            return headers
        if not isinstance(signing_key, rsa.RSAPrivateKey):
            raise ValueError("httpsig signs with RSA keys only")
        return _httpsig_sign(signing_key_id, signing_key, method, url, headers, body, clock)


def _httpsig_sign(
    key_id: str,
    key: rsa.RSAPrivateKey,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    clock: Callable[[], float],
) -> dict[str, str]:
    """draft-cavage signing with the independent ``httpsig`` library (pycryptodome underneath)."""
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "Host": parts.netloc, "Date": formatdate(clock(), usegmt=True)}
    covered = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = sha256_digest(body)
        covered += ["digest", "content-type"]
    signer = httpsig.HeaderSigner(
        key_id, private_pem(key), algorithm="rsa-sha256", headers=covered, sign_header="signature"
    )
    signed = signer.sign(headers, host=parts.netloc, method=method, path=path)
    headers["Signature"] = signed["signature"]
    return headers
