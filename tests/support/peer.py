"""A fake-but-real remote fediverse server for tests: real HTTP on a loopback port, real keys.

``Peer`` is an aiohttp application on ``127.0.0.1:<free port>`` that behaves like the peers of
PROTOCOL.md as far as discovery and signatures go:

- WebFinger (``/.well-known/webfinger``) and actor documents (``/users/<name>``) with an RSA
  ``publicKey`` and, optionally, an Ed25519 Multikey in ``assertionMethod`` (FEP-521a);
- optionally GoToSocial-style separate key documents (``/users/<name>/main-key`` with an ``owner``);
- inboxes (``/users/<name>/inbox`` and the shared ``/inbox``) that verify and record what arrives;
- optional signed-GET enforcement (GoToSocial, Mastodon in authorized-fetch mode): unsigned or
  unverifiable GETs of actors get 401; every request's ``keyId`` is recorded either way;
- key rotation (``PeerActor.rotate_key``); an actor document served as given bytes (``document_bytes``:
  malformed or absurdly nested JSON);
- optionally GoToSocial's first contact (``discovers_signers``): before it answers a signed request
  from a server it has not met, it asks that server who it is (signed ``GET /api/v1/instance`` with
  ``Accept: application/json``, then ``/.well-known/nodeinfo`` and the NodeInfo document), holding our
  request meanwhile; concurrent requests wait for the one discovery, which gives up after
  ``discovery_timeout`` seconds (then the held requests get 503). ``discoveries`` records the outcome;
- optionally holding every actor-document GET until a test opens ``actor_gate`` (concurrency tests);
- any other document a test hands to ``serve`` (posts, activities, collections), at its id's path
  under ``/post/``, ``/comment/``, ``/activities/``, ``/statuses/`` or ``/c/``; every GET there is
  counted (``gets``), so a test can tell what our node fetched.

Its actors sign requests with our ``federation.signatures.CavageSigner`` or with ``httpsig`` (an
independent draft-cavage implementation), so a test can show our verifier accepts both. Incoming
signatures are checked with ``httpsig`` only: the peer never trusts our verifier to check our signer.

To verify a signature made by a server it reaches under another name (our app in an aiohttp
``TestClient`` calls itself ``https://node.test``), tell the peer where that origin really listens:
``peer.route_origin("https://node.test", str(client.make_url("")))``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Self
from urllib.parse import urlsplit

import aiohttp
import httpsig
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ed25519
from httpsig.utils import parse_signature_header

from tests.support.peer_actor import ACTIVITY_JSON, AS2_CONTEXT, PUBLIC, Implementation, PeerActor
from tests.support.peer_keys import new_rsa_key, public_pem, sha256_digest

# Where ``Peer.serve`` documents live: Lemmy's posts, comments and collections, activities, Mastodon's
# statuses. Not a catch-all: ``document_gets`` must hold fetches of documents only (tests assert on it),
# not a stray GET of some other path.
DOCUMENT_ROUTE = "/{kind:post|comment|activities|statuses|c}/{tail:.*}"
CLOCK_WINDOW_S = 3600.0  # the ±1 h every peer allows (PROTOCOL.md)


# --------------------------------------------------------------------------------------------------
# What the peer saw


@dataclass(frozen=True)
class ReceivedRequest:
    """One request the peer served, and whose signature it carried (``key_id`` None: unsigned)."""

    method: str
    path: str
    key_id: str | None
    verified: bool
    problem: str | None  # why the signature did not verify, for assertion messages


@dataclass(frozen=True)
class InboxDelivery:
    """One POST to an inbox of the peer."""

    path: str
    activity: dict[str, Any]
    key_id: str | None
    verified: bool


# --------------------------------------------------------------------------------------------------
# How a Mastodon-family server reads what arrived (PROTOCOL.md "Addressing per server family")


def _ids(value: Any) -> set[str]:
    items = value if isinstance(value, list) else [value]
    return {i if isinstance(i, str) else i.get("id") for i in items if isinstance(i, (str, dict))} - {None}


def mastodon_shows(post: Mapping[str, Any], account: str) -> bool:
    """Whether Mastodon or GoToSocial shows ``post`` to ``account``: a public post to anyone; any other
    only to the accounts it names in its own ``to``/``cc`` (Mastodon: a silent mention) or mentions
    (GoToSocial: ``Mention`` tags only; Mastodon notifies those). The group's followers collection
    is nobody they know (mastodon app/lib/activitypub/parser/status_parser.rb, gotosocial
    internal/filter/visibility/status.go)."""
    addressed = _ids(post.get("to")) | _ids(post.get("cc"))
    if PUBLIC in addressed:
        return True
    tags = post.get("tag") or []
    mentioned = {t.get("href") for t in (tags if isinstance(tags, list) else [tags]) if isinstance(t, dict)
                 and t.get("type") == "Mention"}
    return account in mentioned


def from_author(delivery: InboxDelivery, author: str) -> bool:
    """Mastodon takes an Update or Delete of a post only from its author: the activity's ``actor`` is the
    author and the HTTP signature is the author's own key (app/lib/activitypub/activity/delete.rb finds
    the status by uri and account). A group relaying it (``Announce{Update}``) does not count."""
    return (delivery.verified and delivery.activity.get("actor") == author
            and (delivery.key_id or "").split("#", 1)[0] == author)


# --------------------------------------------------------------------------------------------------
# The server


class Peer:
    """A remote server on loopback. Use ``async with Peer() as peer:`` or ``await start()``/``close()``."""

    def __init__(
        self,
        *,
        require_signed_gets: bool = False,
        accept_unsigned_posts: bool = False,
        discovers_signers: bool = False,
        discovery_timeout: float = 10.0,
    ) -> None:
        self.require_signed_gets = require_signed_gets
        self.accept_unsigned_posts = accept_unsigned_posts
        self.discovers_signers = discovers_signers
        self.discovery_timeout = discovery_timeout  # a real server's request timeout, not a test limit
        self.discoveries: dict[str, bool] = {}  # origin -> whether discovering it succeeded
        self.discovery_requests: list[tuple[str, int | None]] = []  # (URL, status; None: no answer)
        self._discovering: dict[str, asyncio.Task[bool]] = {}
        self.actor_gate: asyncio.Event | None = None  # when set up, actor GETs wait until it is set
        self.actors: dict[str, PeerActor] = {}
        self.requests: list[ReceivedRequest] = []
        self.inbox: list[InboxDelivery] = []
        self.documents: dict[str, dict[str, Any]] = {}  # path -> what ``serve`` was given
        self.document_gets: list[str] = []  # paths, in the order they were asked for
        self._origins: dict[str, str] = {}  # public origin -> where it really listens
        self._foreign_keys: dict[str, str] = {}  # keyId -> public PEM, cached like a real server
        self._server: TestServer | None = None
        self._session: aiohttp.ClientSession | None = None

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_get("/.well-known/webfinger", self._webfinger)
        app.router.add_get("/users/{name}", self._actor)
        app.router.add_get("/users/{name}/main-key", self._key_document)
        app.router.add_get("/users/{name}/{collection:outbox|followers|following}", self._collection)
        app.router.add_post("/users/{name}/inbox", self._inbox)
        app.router.add_post("/inbox", self._inbox)
        app.router.add_get(DOCUMENT_ROUTE, self._document)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        self._session = aiohttp.ClientSession()
        if self.discovers_signers:
            # GoToSocial signs its own requests (discovery included) with its instance actor.
            self.instance_actor = self.add_actor("instance", actor_type="Application")
        return self

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def host(self) -> str:
        if self._server is None:
            raise RuntimeError("the peer is not started")
        return f"127.0.0.1:{self._server.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    # -- configuration ----------------------------------------------------------------------------

    def add_actor(
        self,
        username: str,
        *,
        name: str = "",
        summary: str = "",
        actor_type: str = "Person",
        ed25519_key: bool = False,
        separate_key_document: bool = False,
        key_owner: str | None = None,
        webfinger_href: str | None = None,
        document_overrides: Mapping[str, Any] | None = None,
    ) -> PeerActor:
        actor = PeerActor(
            peer=self,
            username=username,
            rsa_key=new_rsa_key(),
            name=name,
            summary=summary,
            actor_type=actor_type,
            ed25519_key=ed25519.Ed25519PrivateKey.generate() if ed25519_key else None,
            separate_key_document=separate_key_document,
            key_owner=key_owner,
            webfinger_href=webfinger_href,
            document_overrides=dict(document_overrides or {}),
        )
        self.actors[username] = actor
        return actor

    def route_origin(self, public_origin: str, actual_base_url: str) -> None:
        """Fetch keys of ``public_origin`` (e.g. https://node.test) from where it really listens."""
        self._origins[public_origin.rstrip("/")] = actual_base_url.rstrip("/")

    def serve(self, document: dict[str, Any]) -> dict[str, Any]:
        """Serve ``document`` at its id (a path under ``DOCUMENT_ROUTE``) from now on; returns it."""
        self.documents[urlsplit(document["id"]).path] = document
        return document

    # -- queries for assertions -------------------------------------------------------------------

    def count(self, method: str, path: str) -> int:
        """How many ``method`` requests for exactly ``path`` the peer served."""
        return sum(1 for r in self.requests if r.method == method and r.path == path)

    def gets_of(self, actor: PeerActor) -> int:
        """GETs of the actor document (Mastodon-style key fetches land here too)."""
        return self.count("GET", urlsplit(actor.id).path)

    def gets(self, url: str) -> int:
        """GETs of the served document at ``url`` (found or not)."""
        return self.document_gets.count(urlsplit(url).path)

    # -- outgoing requests, for tests against real server processes --------------------------------

    async def deliver(
        self,
        actor: PeerActor,
        inbox_url: str,
        activity: Mapping[str, Any],
        *,
        implementation: Implementation = "cavage",
    ) -> tuple[int, str]:
        """POST a signed activity to a real inbox; returns the status and the response text."""
        body = json.dumps(activity).encode()
        headers = actor.sign("POST", inbox_url, body, implementation=implementation)
        async with self._client().post(inbox_url, data=body, headers=headers) as response:
            return response.status, await response.text()

    async def fetch(self, url: str, *, actor: PeerActor | None = None) -> tuple[int, Any]:
        """GET an ActivityPub document, signed by ``actor`` (unsigned when None)."""
        headers = {"Accept": ACTIVITY_JSON}
        if actor is not None:
            headers.update(actor.sign("GET", url))
        async with self._client().get(url, headers=headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except ValueError:
                return response.status, text

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the peer is not started")
        return self._session

    # -- handlers ---------------------------------------------------------------------------------

    async def _webfinger(self, request: web.Request) -> web.Response:
        await self._record(request, enforce=False)  # WebFinger is public everywhere
        resource = request.query.get("resource", "")
        user, _, host = resource.removeprefix("acct:").rpartition("@")
        actor = self.actors.get(user)
        if actor is None or host != self.host:
            return web.json_response({"error": f"no such account {resource}"}, status=404)
        if actor.webfinger_jrd is not None:
            return web.json_response(actor.webfinger_jrd, content_type="application/jrd+json")
        href = actor.webfinger_href or actor.id
        jrd = {
            "subject": f"acct:{actor.handle}",
            "aliases": [href],
            "links": [{"rel": "self", "type": ACTIVITY_JSON, "href": href}],
        }
        return web.json_response(jrd, content_type="application/jrd+json")

    async def _actor(self, request: web.Request) -> web.Response:
        actor = self.actors.get(request.match_info["name"])
        refusal = await self._record(request, enforce=self.require_signed_gets)
        if refusal is not None:
            return refusal
        if self.actor_gate is not None:
            await self.actor_gate.wait()
        if actor is None:
            return web.json_response({"error": "no such actor"}, status=404)
        if actor.document_bytes is not None:
            return web.Response(body=actor.document_bytes, content_type=ACTIVITY_JSON)
        return _activity_json(actor.document())

    async def _key_document(self, request: web.Request) -> web.Response:
        # GoToSocial serves public keys unsigned: a verifier cannot sign before it has a key.
        await self._record(request, enforce=False)
        actor = self.actors.get(request.match_info["name"])
        if actor is None or not actor.separate_key_document:
            return web.json_response({"error": "no such key"}, status=404)
        return _activity_json(actor.key_document())

    async def _collection(self, request: web.Request) -> web.Response:
        refusal = await self._record(request, enforce=self.require_signed_gets)
        if refusal is not None:
            return refusal
        actor = self.actors.get(request.match_info["name"])
        if actor is None:
            return web.json_response({"error": "no such actor"}, status=404)
        collection = {"@context": AS2_CONTEXT, "id": f"{actor.id}/{request.match_info['collection']}",
                      "type": "OrderedCollection", "totalItems": 0}
        return _activity_json(collection)

    async def _document(self, request: web.Request) -> web.Response:
        # Not in ``requests`` (the signature checks of actor, key and inbox traffic): documents go to
        # anyone, and tests ask how often they were fetched, not by whom.
        self.document_gets.append(request.path)
        document = self.documents.get(request.path)
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        return _activity_json(document)

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        key_id, problem = await self._verify(request, body)
        self.requests.append(ReceivedRequest(request.method, request.path, key_id, problem is None, problem))
        try:
            activity = json.loads(body)
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        self.inbox.append(InboxDelivery(request.path, activity, key_id, problem is None))
        if problem is not None and not self.accept_unsigned_posts:
            return web.json_response({"error": problem}, status=401)
        return web.Response(status=202)

    async def _record(self, request: web.Request, *, enforce: bool) -> web.Response | None:
        """Record the request and who signed it; the 401 to send when signatures are enforced and missing."""
        key_id, problem = await self._verify(request, None)
        self.requests.append(ReceivedRequest(request.method, request.path, key_id, problem is None, problem))
        if enforce and problem is not None:
            return web.json_response({"error": f"signed GETs only: {problem}"}, status=401)
        if self.discovers_signers and key_id is not None and not await self._discovered(_origin_of(key_id)):
            return web.json_response({"error": f"could not find out who {_origin_of(key_id)} is"}, status=503)
        return None

    # -- first contact: who is asking (GoToSocial) -------------------------------------------------

    async def _discovered(self, origin: str) -> bool:
        """Discover ``origin`` once; concurrent requests from it wait for that one discovery."""
        if origin == self.base_url:
            return True
        task = self._discovering.get(origin)
        if task is None:
            task = asyncio.ensure_future(self._discover(origin))
            self._discovering[origin] = task
        return await asyncio.shield(task)

    async def _discover(self, origin: str) -> bool:
        try:
            async with asyncio.timeout(self.discovery_timeout):
                status, _ = await self._discovery_get(f"{origin}/api/v1/instance")
                if status == 200:
                    found = True
                else:  # not a Mastodon API: NodeInfo says what the server is
                    status, links = await self._discovery_get(f"{origin}/.well-known/nodeinfo")
                    hrefs = [link.get("href") for link in (links or {}).get("links", []) if isinstance(link, dict)]
                    found = status == 200 and bool(hrefs) and (await self._discovery_get(str(hrefs[-1])))[0] == 200
        except TimeoutError:
            found = False
        self.discoveries[origin] = found
        return found

    async def _discovery_get(self, url: str) -> tuple[int | None, Any]:
        """A signed ``Accept: application/json`` GET of ``url``, sent where its origin really listens."""
        parts = urlsplit(url)
        actual = self._origins.get(f"{parts.scheme}://{parts.netloc}")
        if actual is None:
            self.discovery_requests.append((url, None))
            return None, None
        headers = {"Accept": "application/json", **self.instance_actor.sign("GET", url)}
        entry = len(self.discovery_requests)
        self.discovery_requests.append((url, None))
        async with self._client().get(actual + parts.path, headers=headers) as response:
            self.discovery_requests[entry] = (url, response.status)
            body = await response.json(content_type=None) if response.status == 200 else None
            return response.status, body

    # -- signature checks (httpsig: independent of the code under test) ----------------------------

    async def _verify(self, request: web.Request, body: bytes | None) -> tuple[str | None, str | None]:
        """(keyId, None) when the signature verifies; (keyId or None, reason) when it does not."""
        header = request.headers.get("Signature")
        if not header:
            return None, "not signed"
        params = parse_signature_header(header)
        key_id = params.get("keyid")  # httpsig's dict lowercases keys but not its .get()
        if not key_id:
            return None, "signature has no keyId"
        covered = ["(request-target)", "host", "date"] + (["digest"] if body is not None else [])
        pem = await self._public_pem(key_id)
        if pem is None:
            return key_id, f"cannot find key {key_id}"
        try:
            verifier = httpsig.HeaderVerifier(
                headers=dict(request.headers),
                secret=pem,
                required_headers=covered,
                method=request.method,
                path=request.raw_path,
                sign_header="signature",
            )
            valid = verifier.verify()
        except Exception as exc:  # httpsig raises bare Exceptions for missing headers
            return key_id, f"signature rejected: {exc}"
        if not valid:
            return key_id, "signature does not verify"
        try:
            sent = parsedate_to_datetime(request.headers["Date"]).timestamp()
        except (KeyError, TypeError, ValueError):
            return key_id, "no usable Date header"
        if abs(time.time() - sent) > CLOCK_WINDOW_S:
            return key_id, "Date outside the clock window"
        if body is not None and request.headers.get("Digest") != sha256_digest(body):
            return key_id, "Digest does not match the body"
        return key_id, None

    async def _public_pem(self, key_id: str) -> str | None:
        own = next((a for a in self.actors.values() if a.key_id == key_id), None)
        if own is not None:
            return public_pem(own.rsa_key)
        if key_id not in self._foreign_keys:
            pem = await self._fetch_foreign_key(key_id)
            if pem is None:
                return None
            self._foreign_keys[key_id] = pem
        return self._foreign_keys[key_id]

    async def _fetch_foreign_key(self, key_id: str) -> str | None:
        """Fetch the key document (or the actor holding it) like a real server, via route_origin."""
        parts = urlsplit(key_id)
        origin = f"{parts.scheme}://{parts.netloc}"
        actual = self._origins.get(origin)
        if actual is None:
            return None
        url = actual + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": ACTIVITY_JSON, "Host": parts.netloc}
        async with self._client().get(url, headers=headers) as response:
            if response.status != 200:
                return None
            document = await response.json(content_type=None)
        entries = document.get("publicKey")
        for entry in entries if isinstance(entries, list) else [entries or document]:
            if isinstance(entry, dict) and entry.get("id") == key_id and isinstance(entry.get("publicKeyPem"), str):
                return str(entry["publicKeyPem"])
        return None


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _activity_json(document: Mapping[str, Any]) -> web.Response:
    return web.Response(body=json.dumps(document).encode(), content_type=ACTIVITY_JSON)
