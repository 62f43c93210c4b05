"""A foreign ActivityPub actor built from bovine 0.5, as a real process on loopback.

`BovineActorProcess.start()` runs this module as a script (`python -m`, see `processes.ScriptServer`).
The script is a small aiohttp server for one actor, `http://127.0.0.1:PORT/cow` (key `#main-key`,
RSA-2048 from `bovine.crypto.generate_rsa_public_private_key`), written only with bovine's building
blocks and none of our code (of the tests' own, only `processes.block_jsonld_contexts`):

- documents: `bovine.activitystreams.Actor` (actor), `factories_for_actor_object` (Follow, Create,
  Note), `bovine.utils.webfinger_response_json`;
- outgoing requests: `bovine.BovineActor` (draft-cavage `rsa-sha256`; POST signs
  `(request-target) host date digest content-type` with a lowercase `digest: sha-256=...`; GET signs
  `(request-target) host date accept`);
- incoming requests: `bovine.crypto.build_validate_http_signature_raw` (bovine's `SignatureChecker`:
  digest, date window, signature) with a key retriever that fetches the `keyId` by a signed
  `BovineActor.get` (its own key it reads locally) and reads it with `bovine.parse.Actor(...).cryptographic_identifiers` (bovine's
  JSON-LD compaction to its `about:bovine` context); an `Accept` is read with
  `bovine.parse.Activity.accept_for_follow`.

The inbox answers 202 only when bovine verified the signature and the key's controller is the
activity's `actor`, else 401; every POST (and every GET of the actor) is recorded with what bovine
made of its signature. The test drives the actor through `/_control/*` endpoints on the same port
(follow a group, post a note, read the record).

JSON-LD: like tests/support/pasture.py, bovine's document loader is replaced (with
`processes.block_jsonld_contexts`) so nothing is fetched from the network. Refusing everything is not
enough here: `bovine.parse.Actor` compacts the actor document, and with `https://w3id.org/security/v1`
unresolved `publicKey`/`owner`/`publicKeyPem` are undefined terms, so compaction renames them
`_:publicKey` and bovine finds no key at all. The loader therefore answers that one URL with the three
term definitions of the published context (copied from https://w3id.org/security/v1, what a deployed
bovine would download and cache) and refuses the rest, which bovine then treats as empty contexts.
bovine's context cache (`bovine_jsonld_cache.sqlite`, created in the working directory at import)
lands in the process's working directory, a temp dir.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from tests.support.processes import ScriptServer, block_jsonld_contexts

ACTOR_NAME = "cow"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# The terms of https://w3id.org/security/v1 that an RSA `publicKey` needs (verbatim definitions).
SECURITY_V1_EXCERPT = {
    "id": "@id",
    "type": "@type",
    "sec": "https://w3id.org/security#",
    "owner": {"@id": "sec:owner", "@type": "@id"},
    "publicKey": {"@id": "sec:publicKey", "@type": "@id"},
    "publicKeyPem": "sec:publicKeyPem",
}


# --------------------------------------------------------------------------------------------------
# Test side: start/stop the process and drive it


@dataclass
class BovineActorProcess(ScriptServer):
    module: ClassVar[str] = __name__  # this file: the test side and the process side are one module
    label: ClassVar[str] = "bovine actor"
    ready_path: ClassVar[str] = "/_control/record"
    log_name: ClassVar[str] = "bovine.log"

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/{ACTOR_NAME}"

    @property
    def inbox(self) -> str:
        return f"{self.actor_id}/inbox"

    async def _control(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            if payload is None:
                response = await session.get(f"{self.base_url}/_control/{path}")
            else:
                response = await session.post(f"{self.base_url}/_control/{path}", json=payload)
            async with response:
                text = await response.text()
                if response.status != 200:
                    raise AssertionError(f"bovine control {path}: {response.status} {text}\n{self.log_text()[-3000:]}")
                return json.loads(text)

    async def follow(self, target: str) -> dict[str, Any]:
        """Fetch ``target`` (signed GET), POST a bovine Follow to its inbox: {activity, status, body}."""
        return await self._control("follow", {"object": target})

    async def post_note(self, group: str, *, name: str, content: str, audience: bool = True) -> dict[str, Any]:
        """POST a bovine Create{Note} addressed to ``group`` (to: group, Public) to the group's inbox."""
        return await self._control("note", {"group": group, "name": name, "content": content, "audience": audience})

    async def record(self) -> dict[str, list[dict[str, Any]]]:
        """{"inbox": [POSTs received], "gets": [signed GETs of the actor], "key_fetches": [...]}."""
        return await self._control("record")

    async def inbox_items(self) -> list[dict[str, Any]]:
        return (await self.record())["inbox"]


# --------------------------------------------------------------------------------------------------
# Process side: the bovine actor itself


def _serve(port: int) -> None:  # noqa: C901 - one closure-based app, read top to bottom
    import logging
    import uuid

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    # Before bovine's other modules load, as before any JSON-LD is processed (see the module docstring).
    block_jsonld_contexts({"https://w3id.org/security/v1": SECURITY_V1_EXCERPT})

    import aiohttp
    from aiohttp import web
    from bovine import BovineActor
    from bovine.activitystreams import Actor, factories_for_actor_object
    from bovine.crypto import build_validate_http_signature_raw, generate_rsa_public_private_key
    from bovine.crypto.signature import Signature
    from bovine.parse import Activity as ParsedActivity
    from bovine.parse import Actor as ParsedActor
    from bovine.types import Visibility
    from bovine.utils import webfinger_response_json

    log = logging.getLogger("bovine-actor")
    base = f"http://127.0.0.1:{port}"
    actor_id = f"{base}/{ACTOR_NAME}"
    key_id = f"{actor_id}#main-key"
    public_pem, private_pem = generate_rsa_public_private_key()
    actor_document = Actor(
        id=actor_id,
        type="Person",
        preferred_username=ACTOR_NAME,
        name="A bovine cow",
        inbox=f"{actor_id}/inbox",
        outbox=f"{actor_id}/outbox",
        followers=f"{actor_id}/followers",
        following=f"{actor_id}/following",
        public_key=public_pem,
        public_key_name="main-key",
    ).build(visibility=Visibility.OWNER)

    def new_id() -> str:
        return f"{base}/objects/{uuid.uuid4()}"

    activity_factory, object_factory = factories_for_actor_object(actor_document, id_generator=new_id)
    published: dict[str, dict[str, Any]] = {}
    record: dict[str, list[dict[str, Any]]] = {"inbox": [], "gets": [], "key_fetches": []}
    state: dict[str, Any] = {}

    def as_json(data: object, status: int = 200) -> web.Response:
        return web.Response(text=json.dumps(data), status=status, content_type="application/activity+json")

    async def retrieve(object_id: str) -> dict[str, Any] | None:
        if object_id in published:
            return published[object_id]
        return await state["bovine"].get(object_id)

    async def key_retriever(requested_key_id: str):  # type: ignore[no-untyped-def]
        entry: dict[str, Any] = {"key_id": requested_key_id}
        record["key_fetches"].append(entry)
        try:
            if requested_key_id.split("#")[0] == actor_id:
                document = actor_document  # our own key: no request to ourselves
            else:
                document = await state["bovine"].get(requested_key_id)  # a signed GET, bovine's way
            entry["fetched_id"] = document.get("id") if isinstance(document, dict) else None
            identifiers = ParsedActor(document, validate=False).cryptographic_identifiers
            entry["identifiers"] = [(i.id, i.controller) for i in identifiers]
            for identifier in identifiers:
                if identifier.id == requested_key_id:
                    return identifier
            entry["error"] = "no key with that id in the document"
        except Exception as exc:  # recorded for the test's explanation
            entry["error"] = repr(exc)
            log.exception("key retrieval of %s failed", requested_key_id)
        return None

    validate = build_validate_http_signature_raw(key_retriever)

    def signature_key_id(request: web.Request) -> str | None:
        try:
            return Signature.from_signature_header(request.headers["signature"]).key_id
        except Exception:
            return None

    async def inbox(request: web.Request) -> web.Response:
        entry: dict[str, Any] = {
            "received_at": time.time(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "key_id": signature_key_id(request),
        }
        try:
            entry["status"] = await check_inbox_post(request, entry)
        finally:
            record["inbox"].append(entry)  # only once bovine is done with it: the test polls the record
        return web.Response(status=entry["status"])

    async def check_inbox_post(request: web.Request, entry: dict[str, Any]) -> int:
        try:
            activity = json.loads(await request.read())
        except ValueError:
            entry["error"] = "not JSON"
            return 400
        entry["activity"] = activity
        controller = await validate("post", str(request.url), request.headers, request.read)
        entry["verified_by"] = controller
        actor = activity.get("actor") if isinstance(activity, dict) else None
        actor = actor.get("id") if isinstance(actor, dict) else actor
        entry["owner_is_actor"] = controller is not None and controller == actor
        if not entry["owner_is_actor"]:
            log.warning("refused %s: verified_by=%s actor=%s", activity.get("id"), controller, actor)
            return 401
        try:
            follow = await ParsedActivity(activity).accept_for_follow(retrieve)
            entry["accept_of"] = follow.data.get("id") if follow is not None else None
        except Exception as exc:
            entry["accept_error"] = repr(exc)
        log.info("accepted %s %s from %s", activity.get("type"), activity.get("id"), controller)
        return 202

    async def actor_get(request: web.Request) -> web.Response:
        entry: dict[str, Any] = {"path": request.path, "key_id": signature_key_id(request),
                                 "user_agent": request.headers.get("user-agent")}
        if "signature" in request.headers:
            entry["verified_by"] = await validate("get", str(request.url), request.headers, None)
        record["gets"].append(entry)
        return as_json(actor_document)

    async def webfinger(request: web.Request) -> web.Response:
        if request.query.get("resource") != f"acct:{ACTOR_NAME}@127.0.0.1:{port}":
            return web.Response(status=404)
        return web.json_response(webfinger_response_json(request.query["resource"], actor_id),
                                 content_type="application/jrd+json")

    async def collection(request: web.Request) -> web.Response:
        return as_json({"@context": "https://www.w3.org/ns/activitystreams", "id": f"{base}{request.path}",
                        "type": "OrderedCollection", "totalItems": 0, "orderedItems": []})

    async def object_get(request: web.Request) -> web.Response:
        document = published.get(f"{base}{request.path}")
        return as_json(document) if document is not None else web.Response(status=404)

    async def send(target_actor: str, activity: dict[str, Any]) -> dict[str, Any]:
        target = await state["bovine"].get(target_actor)
        inbox_url = target["inbox"]
        response = await state["bovine"].client.post(inbox_url, json.dumps(activity))  # signed POST
        async with response:
            text = await response.text()
        return {"activity": activity, "inbox": inbox_url, "status": response.status, "body": text}

    async def control_follow(request: web.Request) -> web.Response:
        target = (await request.json())["object"]
        follow = activity_factory.follow(target).build()
        published[follow["id"]] = follow
        return web.json_response(await send(target, follow))

    async def control_note(request: web.Request) -> web.Response:
        data = await request.json()
        group = data["group"]
        note = object_factory.note(
            name=data["name"], content=data["content"], to={group, PUBLIC}, cc={actor_document["followers"]}
        ).build()
        if data.get("audience"):
            note["audience"] = group  # FEP-1b12; bovine's Object has no field for it
        create = activity_factory.create(note).build()
        if data.get("audience"):
            create["audience"] = group
        published[note["id"]] = note
        published[create["id"]] = create
        return web.json_response(await send(group, create))

    async def control_record(_request: web.Request) -> web.Response:
        return web.json_response(record)

    async def on_startup(_app: web.Application) -> None:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        bovine_actor = BovineActor(actor_id=actor_id, public_key_url=key_id, secret=private_pem)
        await bovine_actor.init(session=session)
        state["bovine"] = bovine_actor
        state["session"] = session

    async def on_cleanup(_app: web.Application) -> None:
        await state["session"].close()

    app = web.Application()
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get(f"/{ACTOR_NAME}", actor_get)
    app.router.add_post(f"/{ACTOR_NAME}/inbox", inbox)
    for name in ("outbox", "followers", "following"):
        app.router.add_get(f"/{ACTOR_NAME}/{name}", collection)
    app.router.add_get("/objects/{id}", object_get)
    app.router.add_post("/_control/follow", control_follow)
    app.router.add_post("/_control/note", control_note)
    app.router.add_get("/_control/record", control_record)
    web.run_app(app, host="127.0.0.1", port=port, print=None, handle_signals=True)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
