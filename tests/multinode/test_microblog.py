"""Microblogging across servers (issue #16): alice on node A posts an update to her followers with a
hashtag, an image and a PDF; bea on node B (another Made Open, following her) sees it, with the tag indexed and
the image linked, likes it and replies, and A counts both. A bare peer playing Mastodon (signed GETs
only), also following alice, receives the Note signed by her, with its Hashtag tag, its Image
attachment named by the alt text and its Document attachment named by its description."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import aiohttp
from PIL import Image
from sqlalchemy import select

from actors import post_files, post_images
from inbox_outbox.services import membership, threads
from storage.models import Follow, Object, PostAttachment, PostHashtag
from tests.multinode.conftest import Databases, no_tracebacks
from tests.support.cluster import RunningNode, eventually, running_nodes
from tests.support.peer import Peer, mastodon_shows
from tests.support.peer_actor import PUBLIC

AS2 = "https://www.w3.org/ns/activitystreams"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def _follow_state(node: RunningNode, follower: str, followee: str) -> str | None:
    return await node.scalar(select(Follow.state).where(Follow.follower_uri == follower, Follow.followee_uri == followee))


async def _with(node: RunningNode, uri: str, **values: object) -> Object | None:
    obj = await node.post(uri)
    return obj if obj is not None and all(getattr(obj, k) == v for k, v in values.items()) else None


async def test_a_microblog_post_across_a_second_node_and_a_mastodon_peer(databases: Databases, tmp_path: Path) -> None:
    urls = [await databases.postgresql_or_sqlite(), await databases.sqlite()]
    async with running_nodes(urls, tmp_path) as (a, b), Peer(require_signed_gets=True) as peer:
        peer.route_origin(a.base_url, a.base_url)
        peer.route_origin(b.base_url, b.base_url)
        await a.create_person("alice")
        await b.create_person("bea")
        alice = a.user("alice")
        assert await membership.follow_actor(b.fed, "bea", a.handle("alice")) in ("pending", "accepted")
        await eventually(lambda: b.follow_state("bea", alice), equals="accepted", what="bea follows alice")
        pat = peer.add_actor("pat")
        follow = {"@context": AS2, "id": f"{pat.id}/follows/{uuid.uuid4().hex}", "type": "Follow",
                  "actor": pat.id, "object": alice}
        assert (await peer.deliver(pat, f"{a.base_url}/inbox", follow))[0] == 202
        await eventually(lambda: _follow_state(a, pat.id, alice), equals="accepted", what="pat follows alice")

        media_dir = a.services.settings.data_dir / "media"
        name = post_images.store_post_image(media_dir, _png(), 1024 * 1024)
        image = post_images.attachment(media_dir, a.services.urls, name, "A red square on the allotment shed")
        assert image is not None
        pdf_bytes = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
        pdf = post_files.attachment(media_dir, a.services.urls, post_files.store_post_file(media_dir, pdf_bytes, 1024),
                                    "Allotment watering rota")
        assert pdf is not None
        posted = await threads.post_status(a.fed, "alice", "First tomatoes this year! #Gardening", "public",
                                           (image, pdf))

        # B: the Note, its hashtag indexed, its image linked (never loaded from A by B's pages).
        on_b = await eventually(lambda: _with(b, posted.uri, type="Note"), what="the update on B")
        assert "First tomatoes" in on_b.content
        tags = await b.scalars(select(PostHashtag.tag).where(PostHashtag.object_id == on_b.id))
        assert tags == ["gardening"]
        attached = await b.scalars(select(PostAttachment).where(PostAttachment.object_id == on_b.id))
        assert [(x.kind, x.url, x.name, x.local) for x in attached] == [
            ("Image", image.url, "A red square on the allotment shed", False),
            ("Document", pdf.url, "Allotment watering rota", False)]
        async with aiohttp.ClientSession() as client, client.get(f"{b.base_url}/posts/{on_b.id}") as response:
            page_on_b = await response.text()
        # B links the file by its description and type, with A's name; it never loads it.
        assert f'<a href="{pdf.url}" rel="nofollow noopener">File: Allotment watering rota</a>' in page_on_b
        assert f"(PDF, {a.base_url.split('//')[1]})" in page_on_b

        # bea likes and answers; A counts the like and has the reply.
        await b.like("bea", posted.uri)
        await eventually(lambda: _with(a, posted.uri, like_count=1), what="bea's like on A")
        answer = await b.reply("bea", posted.uri, "Congratulations!")
        reply_on_a = await eventually(lambda: a.post(answer), what="bea's reply on A")
        assert reply_on_a.in_reply_to_uri == posted.uri
        await eventually(lambda: _with(a, posted.uri, reply_count=1), what="the reply counted on A")

        # The Mastodon-like peer: the Create, signed by alice, shows to pat, with Hashtag and Image.
        async def created() -> dict[str, object] | None:
            for delivery in peer.inbox:
                doc = delivery.activity
                if doc.get("type") == "Create" and isinstance(doc.get("object"), dict) \
                        and doc["object"].get("id") == posted.uri and delivery.verified:
                    return doc
            return None
        create = await eventually(created, what="the Create at the peer")
        note = create["object"]
        assert isinstance(note, dict) and note["type"] == "Note" and mastodon_shows(note, pat.id)
        assert note["to"] == [PUBLIC] and note["cc"] == [f"{alice}/followers"]
        assert {"type": "Hashtag", "name": "#gardening", "href": f"{a.base_url}/tags/gardening"} in note["tag"]
        assert note["attachment"] == [{"type": "Image", "mediaType": "image/png", "url": image.url,
                                       "name": "A red square on the allotment shed", "width": 20, "height": 10},
                                      {"type": "Document", "mediaType": "application/pdf", "url": pdf.url,
                                       "name": "Allotment watering rota"}]
        # bea boosts it from B: her followers (pat, on the peer, follows her too) get the Announce, signed.
        follow_bea = {"@context": AS2, "id": f"{pat.id}/follows/{uuid.uuid4().hex}", "type": "Follow",
                      "actor": pat.id, "object": b.user("bea")}
        assert (await peer.deliver(pat, f"{b.base_url}/inbox", follow_bea))[0] == 202
        await eventually(lambda: _follow_state(b, pat.id, b.user("bea")), equals="accepted", what="pat follows bea")
        await threads.boost(b.fed, "bea", on_b.id, True)

        async def boosted() -> dict[str, object] | None:
            return next((d.activity for d in peer.inbox if d.activity.get("type") == "Announce"
                         and d.activity.get("object") == posted.uri and d.verified
                         and d.activity.get("actor") == b.user("bea")), None)
        announce = await eventually(boosted, what="bea's boost at the peer")
        assert announce["to"] == [PUBLIC]

        async with aiohttp.ClientSession() as client, client.get(image.url) as response:
            served = await response.read()
        assert response.status == 200 and response.content_type == "image/png" and served.startswith(b"\x89PNG")
        async with aiohttp.ClientSession() as client, client.get(pdf.url) as response:
            assert await response.read() == pdf_bytes and response.content_type == "application/pdf"
            assert response.headers["Content-Disposition"].startswith("attachment;")
            assert response.headers["X-Content-Type-Options"] == "nosniff"
    no_tracebacks(tmp_path)
