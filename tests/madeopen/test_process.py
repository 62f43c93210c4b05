"""Real `madeopen` processes on loopback: the CLI and the server as an operator and a peer meet them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import base58
import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from tests.conftest import FreshDatabase
from tests.support.servers import Node

AS2 = "application/activity+json"
SCHEMAS = Path(__file__).parents[1] / "web" / "schemas"


@pytest.fixture
def node_dir(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "node"
    path.mkdir()  # Node.cli runs in the data dir, so it must exist before the first command
    yield path


async def _get(session: aiohttp.ClientSession, url: str, accept: str = AS2, **params: str) -> dict[str, Any]:
    async with session.get(url, headers={"Accept": accept}, params=params) as resp:
        assert resp.status == 200, f"{url}: {resp.status} {await resp.text()}"
        return await resp.json(content_type=None)


def _check_actor(doc: dict[str, Any], as2_type: str, node: Node) -> None:
    assert doc["type"] == as2_type
    assert doc["id"].startswith(node.base_url + "/")
    assert doc["endpoints"]["sharedInbox"] == f"{node.base_url}/inbox"
    assert doc["inbox"].startswith(doc["id"])
    key = doc["publicKey"]
    assert (key["id"], key["owner"]) == (doc["id"] + "#main-key", doc["id"])
    public = serialization.load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    [method] = doc["assertionMethod"]
    assert method["type"] == "Multikey" and method["controller"] == doc["id"]
    raw = base58.b58decode(method["publicKeyMultibase"].removeprefix("z"))
    assert raw[:2] == b"\xed\x01"
    ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


async def test_node_from_empty_database_to_federated_discovery(
    fresh_database: FreshDatabase, node_dir: Path
) -> None:
    node = Node(data_dir=node_dir, database_url=await fresh_database(migrated=False))

    # The web role alone never migrates: it refuses and says what to do.
    refused = node.cli("web")
    assert refused.returncode != 0
    assert "madeopen migrate" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "serving" not in refused.stdout

    node.start()  # `madeopen run` migrates the same database, then serves
    try:
        (node_dir / "pw.txt").write_text("a long enough password\n")
        node.cli("user", "create", "alice", "--password-file", "pw.txt", "--admin", check=True)
        created = node.cli("group", "create", "gardeners", "--owner", "alice", "--title", "Garden people", check=True)
        assert f"@gardeners@{node.domain}" in created.stdout

        async with aiohttp.ClientSession() as session:
            for name, as2_type in (("alice", "Person"), ("gardeners", "Group"), (node.domain, "Application")):
                jrd = await _get(
                    session,
                    f"{node.base_url}/.well-known/webfinger",
                    accept="application/jrd+json",
                    resource=f"acct:{name}@{node.domain}",
                )
                [self_link] = [link for link in jrd["links"] if link["rel"] == "self"]
                assert self_link["type"] == AS2
                doc = await _get(session, self_link["href"])
                assert doc["id"] == self_link["href"]
                _check_actor(doc, as2_type, node)
                if as2_type == "Group":
                    moderators = await _get(session, doc["attributedTo"])
                    assert moderators["orderedItems"] == [f"{node.base_url}/users/alice"]

            links = await _get(session, f"{node.base_url}/.well-known/nodeinfo", accept="application/json")
            [href] = [link["href"] for link in links["links"] if link["rel"].endswith("/schema/2.1")]
            nodeinfo = await _get(session, href, accept="application/json")
        schema = json.loads((SCHEMAS / "nodeinfo-2.1.schema.json").read_text())
        jsonschema.Draft4Validator(schema).validate(nodeinfo)
        assert nodeinfo["usage"]["users"]["total"] == 1
    finally:
        node.stop()
    assert "Traceback" not in node.log_text()


async def _home_page(node: Node) -> str:
    async with aiohttp.ClientSession() as session, session.get(node.base_url + "/") as resp:
        assert resp.status == 200
        return await resp.text()


def _compiled_templates(node_dir: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in (node_dir / "cache" / "templates").glob("*/*.cache")}


async def test_a_restarted_node_renders_pages_with_the_templates_it_compiled_before(
    fresh_database: FreshDatabase, node_dir: Path
) -> None:
    """Issue #13 (idle RSS): `madeopen run` keeps compiled templates under the data directory, so a restart
    loads them instead of compiling each again."""
    node = Node(data_dir=node_dir, database_url=await fresh_database(migrated=False))
    node.start()
    try:
        first = await _home_page(node)
    finally:
        node.stop()
    compiled = _compiled_templates(node_dir)
    assert compiled, "the home page's templates were kept"

    node.start()
    try:
        again = await _home_page(node)
    finally:
        node.stop()
    assert again.count("<main") == first.count("<main") == 1
    assert _compiled_templates(node_dir) == compiled  # loaded, not compiled and written again
    assert "Traceback" not in node.log_text()


def test_bad_setting_stops_the_server_with_one_line(tmp_path: Path) -> None:
    node = Node(data_dir=tmp_path, database_url=f"sqlite+aiosqlite:///{tmp_path}/madeopen.db")
    node.extra_env["MADEOPEN_PORT"] = "70000"
    result = node.cli("run")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "madeopen: error: MADEOPEN_PORT: port must be between 1 and 65535, got 70000"
    ]
    assert not (tmp_path / "madeopen.db").exists()  # it stopped before touching anything
