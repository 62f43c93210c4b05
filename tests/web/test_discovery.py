"""WebFinger, host-meta and NodeInfo as a peer or a fediverse app sees them (PROTOCOL.md "Discovery")."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import jsonschema
import pytest
from aiohttp.test_utils import TestClient
from pytest import Subtests

from actors import local, node_settings
from madeopen.app import Services
from web.sessions import SETTINGS_CACHE

AS2 = "application/activity+json"
SCHEMAS = Path(__file__).parent / "schemas"
NODEINFO_REL = "http://nodeinfo.diaspora.software/ns/schema/{}"
XRD_NS = "{http://docs.oasis-open.org/ns/xri/xrd-1.0}"


def nodeinfo_validator(version: str) -> jsonschema.Draft4Validator:
    """The official NodeInfo schema (jhass/nodeinfo), copied as a spec into tests/web/schemas."""
    schema = json.loads((SCHEMAS / f"nodeinfo-{version}.schema.json").read_text())
    return jsonschema.Draft4Validator(schema)


async def _setup(services: Services) -> None:
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="alice", password="a long password"))
        await local.create_group(session, local.NewGroup(username="gardeners", title="Garden people"))


@pytest.fixture
async def populated(client: TestClient, services: Services) -> TestClient:
    await _setup(services)
    return client


async def _webfinger(client: TestClient, resource: str | None) -> tuple[int, dict[str, Any], Any]:
    params = {} if resource is None else {"resource": resource}
    resp = await client.get("/.well-known/webfinger", params=params)
    return resp.status, dict(resp.headers), await resp.json(content_type=None)


def _link(jrd: dict[str, Any], rel: str) -> dict[str, Any]:
    [link] = [link for link in jrd["links"] if link["rel"] == rel]
    return link


# --- WebFinger -----------------------------------------------------------------------------------


RESOLVES = [
    ("acct:alice@node.test", "acct:alice@node.test", "https://node.test/users/alice"),
    # What people type: case and a leading @ do not matter; Mastodon also sends it without acct:.
    ("acct:Alice@NODE.test", "acct:alice@node.test", "https://node.test/users/alice"),
    ("@alice@node.test", "acct:alice@node.test", "https://node.test/users/alice"),
    ("acct:gardeners@node.test", "acct:gardeners@node.test", "https://node.test/groups/gardeners"),
    ("!gardeners@node.test", "acct:gardeners@node.test", "https://node.test/groups/gardeners"),  # Lemmy style
    # Mastodon's convention for the instance actor: acct:DOMAIN@DOMAIN.
    ("acct:node.test@node.test", "acct:node.test@node.test", "https://node.test/actor"),
    # By actor id (what a peer does to find the acct of an actor it already knows).
    ("https://node.test/users/alice", "acct:alice@node.test", "https://node.test/users/alice"),
    ("https://node.test/groups/gardeners", "acct:gardeners@node.test", "https://node.test/groups/gardeners"),
    ("https://node.test/actor", "acct:node.test@node.test", "https://node.test/actor"),
]
BAD = [None, "", "   ", "alice", "acct:alice", "acct:@node.test", "acct:alice@", "acct:a@b@node.test", "acct:"]
UNKNOWN = [
    "acct:nobody@node.test",
    "acct:alice@other.example",  # we only answer for our own host
    "https://other.example/users/alice",
    "https://node.test/users/nobody",
    "https://node.test/groups/alice",  # alice is a person: that URL is no actor of ours
    "https://node.test/users/gardeners",
    "https://node.test/users/alice/outbox",
]


async def test_webfinger_resolves_local_actors(populated: TestClient, subtests: Subtests) -> None:
    for resource, subject, actor_id in RESOLVES:
        with subtests.test(resource=resource):
            status, headers, jrd = await _webfinger(populated, resource)
            assert status == 200, jrd
            assert headers["Content-Type"].startswith("application/jrd+json")
            assert headers["Access-Control-Allow-Origin"] == "*"  # browser-based clients look people up too
            assert jrd["subject"] == subject
            assert actor_id in jrd["aliases"]
            assert _link(jrd, "self") == {"rel": "self", "type": AS2, "href": actor_id}
            assert _link(jrd, "http://webfinger.net/rel/profile-page")["type"] == "text/html"
            template = _link(jrd, "http://ostatus.org/schema/1.0/subscribe")["template"]
            assert template.startswith("https://node.test/") and "{uri}" in template


async def test_webfinger_self_link_leads_to_the_same_actor(populated: TestClient) -> None:
    for resource, as2_type in [
        ("acct:alice@node.test", "Person"),
        ("acct:gardeners@node.test", "Group"),
        ("acct:node.test@node.test", "Application"),
    ]:
        _, _, jrd = await _webfinger(populated, resource)
        href = _link(jrd, "self")["href"]
        resp = await populated.get(urlsplit(href).path, headers={"Accept": AS2})
        actor = await resp.json(content_type=None)
        assert (actor["id"], actor["type"]) == (href, as2_type)
        # Round trip: the actor's preferredUsername@host is the WebFinger subject (Mastodon checks this).
        assert f"acct:{actor['preferredUsername']}@node.test" == jrd["subject"]


async def test_webfinger_bad_or_unknown_resources(populated: TestClient, subtests: Subtests) -> None:
    for resource in BAD:
        with subtests.test(resource=resource):
            status, _, body = await _webfinger(populated, resource)
            assert status == 400
            assert "resource" in body["error"]
    for resource in UNKNOWN:
        with subtests.test(resource=resource):
            status, _, body = await _webfinger(populated, resource)
            assert status == 404
            assert body["error"]


# --- host-meta -----------------------------------------------------------------------------------


async def test_host_meta_points_at_webfinger(populated: TestClient) -> None:
    resp = await populated.get("/.well-known/host-meta")
    assert resp.status == 200
    assert resp.content_type == "application/xrd+xml"
    root = ET.fromstring(await resp.text())
    assert root.tag == f"{XRD_NS}XRD"
    [link] = [link for link in root.iter(f"{XRD_NS}Link") if link.get("rel") == "lrdd"]
    template = link.get("template", "")
    assert template == "https://node.test/.well-known/webfinger?resource={uri}"
    # An old client fills the template in and gets the account.
    url = template.replace("{uri}", quote("acct:alice@node.test", safe=""))
    resp = await populated.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert (await resp.json(content_type=None))["subject"] == "acct:alice@node.test"


# --- NodeInfo ------------------------------------------------------------------------------------


async def _nodeinfo(client: TestClient, version: str) -> dict[str, Any]:
    resp = await client.get("/.well-known/nodeinfo")
    assert resp.status == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    links = {link["rel"]: link["href"] for link in (await resp.json())["links"]}
    href = links[NODEINFO_REL.format(version)]
    assert href == f"https://node.test/nodeinfo/{version}"
    resp = await client.get(urlsplit(href).path)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    assert NODEINFO_REL.format(version) in resp.headers["Content-Type"]  # the profile names the schema
    return await resp.json(content_type=None)


@pytest.mark.parametrize("version", ["2.0", "2.1"])
async def test_nodeinfo_validates_against_the_official_schema(client: TestClient, version: str) -> None:
    document = await _nodeinfo(client, version)
    nodeinfo_validator(version).validate(document)
    assert document["version"] == version
    assert document["software"]["name"] == "madeopen"
    assert document["protocols"] == ["activitypub"]
    assert document["metadata"]["nodeName"] == "Test Node"
    assert isinstance(document["openRegistrations"], bool)


@pytest.mark.parametrize("version", ["2.0", "2.1"])
async def test_nodeinfo_counts_people_not_groups(client: TestClient, services: Services, version: str) -> None:
    empty = await _nodeinfo(client, version)
    assert empty["usage"]["users"]["total"] == 0  # the instance actor is nobody's account
    await _setup(services)  # one person, one group
    async with services.sessions.begin() as session:
        await local.create_person(session, local.NewPerson(username="bob", password="a long password"))
    document = await _nodeinfo(client, version)
    nodeinfo_validator(version).validate(document)
    users = document["usage"]["users"]
    assert users["total"] == 2
    assert 0 <= users["activeMonth"] <= users["activeHalfyear"] <= users["total"]
    assert document["usage"]["localPosts"] >= 0


async def test_unknown_nodeinfo_version_is_404(client: TestClient) -> None:
    resp = await client.get("/nodeinfo/3.0")
    assert resp.status == 404
    assert "2.1" in (await resp.json())["error"]


def test_schemas_catch_a_broken_document() -> None:
    """The stored schemas are real constraints, not accept-everything placeholders."""
    validator = nodeinfo_validator("2.1")
    good = {
        "version": "2.1",
        "software": {"name": "madeopen", "version": "0.1.0"},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {"users": {"total": 1}},
        "metadata": {},
    }
    validator.validate(good)
    for broken in (
        {**good, "software": {"name": "Made Open", "version": "0.1.0"}},  # name must be a-z0-9-
        {**good, "protocols": []},
        {**good, "usage": {"users": {"total": -1}}},
        {k: v for k, v in good.items() if k != "metadata"},
    ):
        assert not validator.is_valid(broken)
    assert not nodeinfo_validator("2.0").is_valid(good)  # version 2.1 is not a 2.0 document


async def test_nodeinfo_follows_the_admin_settings(client: TestClient, services: Services, tmp_path: Path) -> None:
    """openRegistrations and the node name come from the admin's settings (closed by default)."""
    closed = await (await client.get("/nodeinfo/2.1")).json()
    assert closed["openRegistrations"] is False
    update = node_settings.SettingsUpdate(
        name="Garden Commons", description="", registration_mode="open", accent_color="#2457c5", footer_links=""
    )
    async with services.sessions.begin() as session:
        assert await node_settings.save(session, update, tmp_path) == []
    client.app[SETTINGS_CACHE].invalidate()
    opened = await (await client.get("/nodeinfo/2.1")).json()
    assert opened["openRegistrations"] is True
    assert opened["metadata"]["nodeName"] == "Garden Commons"
