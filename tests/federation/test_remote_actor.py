"""parse_actor: remote actor documents as peers send them, validated (PROTOCOL.md "Validation"). Pure."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation.remote_actor import InvalidActor, parse_actor
from tests.support.peer_keys import multikey, new_rsa_key, public_pem

ACTOR = "https://peer.example/users/bob"
RSA_KEY = new_rsa_key()
ED_KEY = ed25519.Ed25519PrivateKey.generate()


def mastodon_actor(**changes: Any) -> dict[str, Any]:
    """A Mastodon-shaped Person; ``changes`` replace fields (None removes one)."""
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": ACTOR,
        "type": "Person",
        "preferredUsername": "bob",
        "name": "Bob",
        "summary": "<p>Gardener</p>",
        "url": "https://peer.example/@bob",
        "inbox": f"{ACTOR}/inbox",
        "outbox": f"{ACTOR}/outbox",
        "followers": f"{ACTOR}/followers",
        "endpoints": {"sharedInbox": "https://peer.example/inbox"},
        "publicKey": {"id": f"{ACTOR}#main-key", "owner": ACTOR, "publicKeyPem": public_pem(RSA_KEY)},
    }
    for name, value in changes.items():
        if value is None:
            doc.pop(name, None)
        else:
            doc[name] = value
    return doc


def der(key: object) -> bytes:
    assert isinstance(key, (rsa.RSAPublicKey, ed25519.Ed25519PublicKey))
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


# --------------------------------------------------------------------------------------------------
# What a good document gives


def test_mastodon_person_is_parsed() -> None:
    data = parse_actor(mastodon_actor())
    assert (data.id, data.type, data.username, data.domain) == (ACTOR, "Person", "bob", "peer.example")
    assert (data.name, data.summary, data.url) == ("Bob", "<p>Gardener</p>", "https://peer.example/@bob")
    assert (data.inbox, data.shared_inbox) == (f"{ACTOR}/inbox", "https://peer.example/inbox")
    assert (data.outbox, data.followers) == (f"{ACTOR}/outbox", f"{ACTOR}/followers")
    assert [key.key_id for key in data.keys] == [f"{ACTOR}#main-key"]
    assert der(data.keys[0].public_key) == der(RSA_KEY.public_key())
    assert data.keys[0].pem == public_pem(RSA_KEY)


@pytest.mark.parametrize("actor_type", ["Person", "Group", "Application", "Service", "Organization"])
def test_every_actor_type_is_accepted(actor_type: str) -> None:
    assert parse_actor(mastodon_actor(type=actor_type)).type == actor_type


def test_type_list_names_its_actor_type() -> None:
    assert parse_actor(mastodon_actor(type=["Person", "https://peer.example/ns#Bot"])).type == "Person"


@pytest.mark.parametrize("username", [None, "   ", "b" * 256, ["bob"]])
def test_missing_or_unusable_username_falls_back_to_the_id(username: object) -> None:
    # preferredUsername is optional in ActivityPub: such an actor must still verify and display.
    assert parse_actor(mastodon_actor(preferredUsername=username)).username == "bob"


def test_domain_keeps_the_port_and_is_lower_case() -> None:
    actor = "https://Peer.Example:8443/users/bob"
    doc = mastodon_actor(id=actor, inbox=f"{actor}/inbox", publicKey=None)
    assert parse_actor(doc).domain == "peer.example:8443"


def test_fep_521a_multikey_is_read_beside_the_rsa_key() -> None:
    multikey_entry = {
        "id": f"{ACTOR}#ed25519-key",
        "type": "Multikey",
        "controller": ACTOR,
        "publicKeyMultibase": multikey(ED_KEY),
    }
    data = parse_actor(mastodon_actor(assertionMethod=[multikey_entry]))
    assert [key.key_id for key in data.keys] == [f"{ACTOR}#main-key", f"{ACTOR}#ed25519-key"]
    assert der(data.keys[1].public_key) == der(ED_KEY.public_key())


def test_gotosocial_key_at_its_own_url_on_the_same_host_is_accepted() -> None:
    key = {"id": f"{ACTOR}/main-key", "owner": ACTOR, "publicKeyPem": public_pem(RSA_KEY)}
    assert [k.key_id for k in parse_actor(mastodon_actor(publicKey=key)).keys] == [f"{ACTOR}/main-key"]


def test_public_key_as_a_list_and_without_owner_is_accepted() -> None:
    key = {"id": f"{ACTOR}#main-key", "publicKeyPem": public_pem(RSA_KEY)}
    assert len(parse_actor(mastodon_actor(publicKey=[key])).keys) == 1


def test_link_object_urls_are_read() -> None:
    data = parse_actor(mastodon_actor(url={"type": "Link", "href": "https://peer.example/@bob"}))
    assert data.url == "https://peer.example/@bob"


def test_actor_without_keys_or_optional_fields_is_still_an_actor() -> None:
    data = parse_actor(mastodon_actor(publicKey=None, name=None, summary=None, url=None, endpoints=None))
    assert (data.keys, data.name, data.summary, data.url, data.shared_inbox) == ([], "", "", None, None)


# --------------------------------------------------------------------------------------------------
# Keys that do not belong to the actor are dropped


@pytest.mark.parametrize(
    "entry",
    [
        {"id": f"{ACTOR}#main-key", "owner": "https://peer.example/users/alice"},  # another actor's
        {"id": "https://elsewhere.example/keys/1", "owner": ACTOR},  # on another host
        {"id": f"{ACTOR}#main-key", "owner": ACTOR, "publicKeyPem": "-----BEGIN PUBLIC KEY-----\nnope\n"},
        {"owner": ACTOR},  # no id
    ],
)
def test_keys_not_owned_by_the_actor_or_unusable_are_dropped(entry: dict[str, Any]) -> None:
    key = {"publicKeyPem": public_pem(RSA_KEY), **entry}
    assert parse_actor(mastodon_actor(publicKey=key)).keys == []


@pytest.mark.parametrize(
    "entry",
    [
        {"controller": "https://peer.example/users/alice"},
        {"id": "https://elsewhere.example/keys/ed"},
        {"publicKeyMultibase": "z-not-base58"},
        {"publicKeyMultibase": "u" + multikey(ED_KEY)[1:]},  # not base58btc
        {"type": "JsonWebKey"},
    ],
)
def test_multikeys_not_owned_by_the_actor_or_unusable_are_dropped(entry: dict[str, Any]) -> None:
    good = {"id": f"{ACTOR}#ed", "type": "Multikey", "controller": ACTOR, "publicKeyMultibase": multikey(ED_KEY)}
    data = parse_actor(mastodon_actor(publicKey=None, assertionMethod=[{**good, **entry}]))
    assert data.keys == []


# --------------------------------------------------------------------------------------------------
# Documents that are refused


@pytest.mark.parametrize(
    ("changes", "wording"),
    [
        ({"id": None}, "id"),
        ({"id": "ftp://peer.example/users/bob"}, "id"),
        ({"id": "https:///users/bob"}, "id"),
        ({"type": "Note"}, "not an actor"),
        ({"type": ["Note", "Article"]}, "not an actor"),
        ({"type": {"Person": True}}, "not an actor"),
        ({"type": None}, "not an actor"),
        ({"inbox": None}, "inbox"),
        ({"inbox": "javascript:alert(1)"}, "inbox"),
        ({"inbox": "https://elsewhere.example/users/bob/inbox"}, "another host"),
        ({"inbox": "http://peer.example/users/bob/inbox"}, "another host"),  # scheme downgrade
    ],
)
def test_unusable_documents_are_refused_with_a_reason(changes: dict[str, Any], wording: str) -> None:
    with pytest.raises(InvalidActor, match=wording):
        parse_actor(mastodon_actor(**changes))


def test_shared_inbox_on_another_host_is_ignored() -> None:
    data = parse_actor(mastodon_actor(endpoints={"sharedInbox": "https://elsewhere.example/inbox"}))
    assert data.shared_inbox is None
    assert data.inbox == f"{ACTOR}/inbox"


# --------------------------------------------------------------------------------------------------
# Text from elsewhere is sanitised


def test_name_and_username_become_plain_text() -> None:
    data = parse_actor(
        mastodon_actor(name='<b>Bob</b> <script>alert("x")</script>&amp; Co', preferredUsername="<i>bob</i>")
    )
    assert (data.name, data.username) == ("Bob & Co", "bob")


def test_summary_keeps_safe_markup_only() -> None:
    summary = '<p class="bio evil" onclick="x()">Hi <a href="javascript:alert(1)">me</a><script>alert(2)</script></p>'
    data = parse_actor(mastodon_actor(summary=summary))
    assert data.summary == '<p>Hi <a rel="nofollow noopener">me</a></p>'


def test_over_long_name_and_summary_are_cut() -> None:
    data = parse_actor(mastodon_actor(name="n" * 10_000, summary="s" * 100_000))
    assert len(data.name) == 500
    assert len(data.summary) == 20_000


def test_non_string_name_and_summary_are_ignored() -> None:
    data = parse_actor(mastodon_actor(name={"en": "Bob"}, summary=["<p>x</p>"]))
    assert (data.name, data.summary) == ("", "")
