"""Rendering our posts and the stored copy of remote ones as AS2 (federation.object_render), no database.

Each rendered document is parsed back with federation.objects: what we serve must read as what we meant.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

from federation.object_render import LocalPost, render_object, render_tombstone, stored_document
from federation.objects import parse_object
from tests.federation.post_payloads import LEMMY_PAGE, OUR_GROUP, PUBLIC


def test_stored_document_keeps_only_validated_fields() -> None:
    doc = {**LEMMY_PAGE, "content": "<p>x<script>y</script></p>", "evil": {"$where": "1"}, "@context": "whatever"}
    stored = stored_document(parse_object(doc))
    assert "evil" not in stored and "@context" not in stored and "source" not in stored
    assert stored["content"] == "<p>x</p>"
    assert stored["audience"] == OUR_GROUP and stored["to"] == [OUR_GROUP, PUBLIC]
    # Parsing what we stored gives back what we parsed (times to the second).
    again = parse_object({**doc, "content": "<p>x</p>", "attachment": stored["attachment"]})
    assert parse_object(stored) == dataclasses.replace(again, published=again.published.replace(microsecond=0))


def test_render_local_post_round_trips() -> None:
    published = datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    post = LocalPost(
        id="https://node.test/objects/abc",
        type="Page",
        author="https://node.test/users/alice",
        content="<p>Hello <strong>garden</strong></p>",
        source="Hello **garden**",
        published=published,
        to=(OUR_GROUP, PUBLIC),
        name="Hello",
        audience=OUR_GROUP,
        context="https://node.test/objects/abc/context",
    )
    doc = render_object(post)
    assert doc["audience"] == OUR_GROUP and doc["to"] == [OUR_GROUP, PUBLIC]
    assert doc["replies"] == {  # Mastodon's shape, empty for a new post (federation.collections)
        "id": "https://node.test/objects/abc/replies", "type": "Collection", "totalItems": 0,
        "first": {"id": "https://node.test/objects/abc/replies?page=1", "type": "CollectionPage",
                  "partOf": "https://node.test/objects/abc/replies", "totalItems": 0, "items": []},
    }
    assert doc["context"] == "https://node.test/objects/abc/context"
    assert doc["source"] == {"content": "Hello **garden**", "mediaType": "text/markdown"}
    assert doc["published"] == "2024-05-01T08:00:00Z" and doc["commentsEnabled"] is True
    parsed = parse_object(doc)
    assert (parsed.author, parsed.name, parsed.content, parsed.audience) == (
        post.author, post.name, post.content, post.audience)

    tomb = render_tombstone(post.id, "Page", published)
    assert tomb["type"] == "Tombstone" and tomb["formerType"] == "Page" and "content" not in tomb


def _thread(name: str, content: str, source: str, kind: str = "Page") -> LocalPost:
    return LocalPost(id="https://node.test/objects/t1", type=kind, author="https://node.test/users/alice",
                     content=content, source=source, published=datetime(2024, 5, 1, tzinfo=timezone.utc),
                     to=(OUR_GROUP, PUBLIC), name=name, audience=OUR_GROUP)


def test_thread_title_is_the_name_and_the_first_line_of_the_content() -> None:
    # PROTOCOL.md "Thread titles": Lemmy/PieFed read `name` and `source`; Mastodon shows a Page's name;
    # Misskey shows `content` only, GoToSocial `summary or name` as a warning and then `content`.
    doc = render_object(_thread("Sun & \"shade\" <3", "<p>Tomatoes <strong>need</strong> sun.</p>",
                                "Tomatoes **need** sun."))
    assert (doc["type"], doc["name"]) == ("Page", 'Sun & "shade" <3')
    assert doc["content"] == '<p><strong>Sun &amp; "shade" &lt;3</strong></p><p>Tomatoes <strong>need</strong> sun.</p>'
    assert doc["source"] == {"content": "Tomatoes **need** sun.", "mediaType": "text/markdown"}  # no title
    assert "summary" not in doc  # a summary is a content warning on Mastodon, GoToSocial and Misskey

    # Another Made Open node reads the title once, as the title.
    parsed = parse_object(doc)
    assert parsed.name == 'Sun & "shade" <3'
    assert parsed.content == "<p>Tomatoes <strong>need</strong> sun.</p>"


def test_untitled_posts_and_other_servers_content_are_left_alone() -> None:
    reply = render_object(_thread("", "<p>Agreed.</p>", "Agreed.", kind="Note"))
    assert reply["content"] == "<p>Agreed.</p>" and "name" not in reply
    # A Lemmy page whose body merely starts in bold is not cut.
    lemmy = {**LEMMY_PAGE, "name": "Post title", "content": "<p><strong>Bold start</strong></p><p>rest</p>"}
    assert parse_object(lemmy).content == "<p><strong>Bold start</strong></p><p>rest</p>"


def test_a_microblog_note_with_image_and_hashtag_as_mastodon_reads_it() -> None:
    """Issue #16: ``Image`` attachments with ``name`` = the alt text and the size, ``Hashtag`` tags with
    ``#name`` and our tag page, as Mastodon sends them; parsed back as an attachment and a hashtag."""
    from federation.object_fields import Hashtag
    from federation.object_render import LocalAttachment

    image = LocalAttachment(url="https://node.test/media/abcdefghijklmnopqrstuvwx.png", media_type="image/png",
                            name="Two rows of leeks", width=640, height=480)
    pdf = LocalAttachment(url="https://node.test/media/plan.pdf", media_type="application/pdf", name="Plan")
    post = LocalPost(
        id="https://node.test/objects/n1", type="Note", author="https://node.test/users/alice",
        content='<p>Leeks <a href="https://node.test/tags/leeks" class="mention hashtag">#<span>leeks</span></a></p>',
        published=datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc), to=(PUBLIC,),
        cc=("https://node.test/users/alice/followers",),
        hashtags=(Hashtag(name="#leeks", href="https://node.test/tags/leeks"),), attachments=(image, pdf),
    )
    doc = render_object(post)
    assert doc["attachment"] == [
        {"type": "Image", "mediaType": "image/png", "url": image.url, "name": "Two rows of leeks",
         "width": 640, "height": 480},
        {"type": "Document", "mediaType": "application/pdf", "url": pdf.url, "name": "Plan"},
    ]
    assert doc["tag"] == [{"type": "Hashtag", "name": "#leeks", "href": "https://node.test/tags/leeks"}]
    parsed = parse_object(doc)
    assert [(a.url, a.media_type, a.name) for a in parsed.attachments] == [
        (image.url, "image/png", "Two rows of leeks"), (pdf.url, "application/pdf", "Plan")]
    assert [(tag.name, tag.href) for tag in parsed.hashtags] == [("#leeks", "https://node.test/tags/leeks")]


def test_a_file_is_a_document_without_our_size() -> None:
    """Issue #16, files: a PDF or text file goes out as an AS2 ``Document`` with ``mediaType``, ``url`` and
    ``name`` (its description), as Mastodon sends files; the byte size we keep for our pages has no AS2
    term and stays home."""
    from federation.object_render import LocalAttachment

    text = LocalAttachment(url="https://node.test/media/abcdefghijklmnopqrstuvwx.txt", media_type="text/plain",
                           name="Sowing notes", size=2048)
    post = LocalPost(id="https://node.test/objects/n2", type="Note", author="https://node.test/users/alice",
                     content="<p>Notes</p>", published=datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc), to=(PUBLIC,),
                     attachments=(text,))
    doc = render_object(post)
    assert doc["attachment"] == [{"type": "Document", "mediaType": "text/plain", "url": text.url,
                                  "name": "Sowing notes"}]
    assert [(a.url, a.media_type, a.name) for a in parse_object(doc).attachments] == [
        (text.url, "text/plain", "Sowing notes")]
