"""Parse and validate a remote actor document into plain typed data (PROTOCOL.md "Validation")."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from federation.html import plain_text, sanitize_html
from federation.keys import PublicKey, ed25519_from_multibase, load_public_pem

ACTOR_TYPES = frozenset({"Person", "Group", "Application", "Service", "Organization"})
_MAX_NAME = 500
_MAX_USERNAME = 255
_MAX_SUMMARY = 20_000


class InvalidActor(ValueError):
    """The document is not an actor we can use; the message says why."""


@dataclass(frozen=True)
class ActorKey:
    key_id: str
    public_key: PublicKey
    pem: str | None  # RSA keys keep their PEM; Multikeys are re-derived from the document


@dataclass(frozen=True)
class RemoteActorData:
    id: str
    type: str
    username: str
    domain: str
    name: str
    summary: str
    url: str | None
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    keys: list[ActorKey] = field(default_factory=list)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _http_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
        raise InvalidActor(f"actor {what} must be an http(s) URL, got {value!r}")
    return value


def _optional_url(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id") or value.get("href")
    if isinstance(value, str) and urlsplit(value).scheme in ("http", "https"):
        return value
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _keys(doc: dict[str, Any], actor_id: str) -> list[ActorKey]:
    """publicKey (RSA PEM) and FEP-521a assertionMethod Multikeys; each must belong to this actor."""
    found: list[ActorKey] = []
    for entry in _as_list(doc.get("publicKey")):
        if not isinstance(entry, dict) or not isinstance(entry.get("publicKeyPem"), str):
            continue
        key_id, owner = entry.get("id"), entry.get("owner", actor_id)
        if not isinstance(key_id, str) or owner != actor_id or origin(key_id) != origin(actor_id):
            continue
        try:
            found.append(ActorKey(key_id, load_public_pem(entry["publicKeyPem"]), entry["publicKeyPem"]))
        except ValueError:
            continue
    for entry in _as_list(doc.get("assertionMethod")):
        if not isinstance(entry, dict) or entry.get("type") != "Multikey":
            continue
        key_id, controller = entry.get("id"), entry.get("controller", actor_id)
        value = entry.get("publicKeyMultibase")
        if not isinstance(key_id, str) or controller != actor_id or origin(key_id) != origin(actor_id):
            continue
        try:
            found.append(ActorKey(key_id, ed25519_from_multibase(str(value)), None))
        except ValueError:
            continue
    return found


def _actor_type(value: Any) -> str | None:
    """AS2 lets ``type`` be a list (``["Person", "ext:Bot"]``): the first actor type in it counts.
    Anything else that is not a plain string (an object, a number) names no actor type."""
    for candidate in value if isinstance(value, list) else [value]:
        if isinstance(candidate, str) and candidate in ACTOR_TYPES:
            return candidate
    return None


def _username(value: Any, actor_id: str) -> str:
    """preferredUsername is optional in ActivityPub (fediverse-pasture's dean, emily and frank have none):
    without a usable one the handle falls back to the id's last path segment, then to its host, so that
    verifying such an actor's signature never fails on display data."""
    if isinstance(value, str) and value.strip() and len(value) <= _MAX_USERNAME:
        return value
    parts = urlsplit(actor_id)
    segments = [segment for segment in parts.path.split("/") if segment]
    return (unquote(segments[-1]) if segments else parts.hostname or parts.netloc)[:_MAX_USERNAME]


def parse_actor(doc: dict[str, Any]) -> RemoteActorData:
    actor_id = _http_url(doc.get("id"), "id")
    actor_type = _actor_type(doc.get("type"))
    if actor_type is None:
        raise InvalidActor(f"{actor_id} is a {doc.get('type')!r}, not an actor")
    inbox = _http_url(doc.get("inbox"), "inbox")
    if origin(inbox) != origin(actor_id):
        raise InvalidActor(f"actor {actor_id} has its inbox on another host ({inbox})")
    username = _username(doc.get("preferredUsername"), actor_id)
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    shared_inbox = _optional_url(endpoints.get("sharedInbox"))
    if shared_inbox and origin(shared_inbox) != origin(actor_id):
        shared_inbox = None  # never deliver an actor's mail to a third host it merely names
    name = doc.get("name") if isinstance(doc.get("name"), str) else ""
    summary = doc.get("summary") if isinstance(doc.get("summary"), str) else ""
    return RemoteActorData(
        id=actor_id,
        type=actor_type,
        username=plain_text(username),
        domain=urlsplit(actor_id).netloc.lower(),
        name=plain_text(name)[:_MAX_NAME],
        summary=sanitize_html(summary[:_MAX_SUMMARY]),
        url=_optional_url(doc.get("url")),
        inbox=inbox,
        shared_inbox=shared_inbox,
        outbox=_optional_url(doc.get("outbox")),
        followers=_optional_url(doc.get("followers")),
        keys=_keys(doc, actor_id),
    )
