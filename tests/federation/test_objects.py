"""Parsing remote posts and votes (federation.objects, federation.object_fields), no database.

The payloads (tests/federation/post_payloads.py) are written by hand after the shapes Lemmy, PieFed
and Mastodon send; hosts and ids are made up. Rendering is tested in test_object_render.py.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from federation.object_fields import Mention, parse_time
from federation.object_render import stored_document
from federation.objects import InvalidObject, parse_object, parse_vote, tombstone_id
from tests.federation.post_payloads import LEMMY_PAGE, MASTODON_NOTE, OUR_GROUP, PIEFED_PAGE, PUBLIC


def test_lemmy_page_with_audience() -> None:
    post = parse_object(LEMMY_PAGE)
    assert post.type == "Page"
    assert post.author == "https://lemmy.example/u/picard"
    assert post.name == "Tomato blight: what worked for you?"
    assert post.content == "<p>Our tomatoes got blight.</p>\n"
    assert post.audience == OUR_GROUP
    assert post.addressed[0] == OUR_GROUP  # FEP-1b12: audience first
    assert post.public
    assert post.context == "https://lemmy.example/post/55143/context"
    assert post.comments_enabled is True
    assert post.published == datetime(2024, 2, 26, 12, 35, 34, 292626, tzinfo=timezone.utc)
    assert [a.url for a in post.attachments] == ["https://lemmy.example/pictrs/image/blight.png"]


def test_lemmy_comment_old_style_lists() -> None:
    """Old Lemmy: inReplyTo [post, parent comment], attributedTo a list, `to` a bare string."""
    comment = {
        "id": "https://lemmy.example/comment/95",
        "type": "Note",
        "attributedTo": ["https://lemmy.example/u/picard"],
        "to": OUR_GROUP,
        "content": "mmmk",
        "inReplyTo": ["https://lemmy.example/post/38", "https://other.example/comment/73"],
    }
    post = parse_object(comment)
    assert post.in_reply_to == "https://other.example/comment/73"
    assert post.author == "https://lemmy.example/u/picard"
    assert post.to == (OUR_GROUP,)
    assert not post.public


def test_mastodon_note_mentioning_a_group() -> None:
    post = parse_object(MASTODON_NOTE)
    assert post.mentions == (Mention(href=OUR_GROUP, name="@garden@node.test"),)
    assert [tag.name for tag in post.hashtags] == ["#seeds"]
    assert OUR_GROUP in post.addressed and post.audience is None
    assert post.context == MASTODON_NOTE["conversation"]
    assert post.url == "https://mastodon.example/@carol/111222333"
    assert post.public
    # Mastodon's mention markup keeps its microformat classes, and `translate` is dropped.
    assert 'class="u-url mention"' in post.content and "translate" not in post.content
    assert 'rel="nofollow noopener"' in post.content


def test_mastodon_content_map_only() -> None:
    doc = {**MASTODON_NOTE}
    del doc["content"]
    assert parse_object(doc).content == "<p>Seed swap on Saturday?</p>"


def test_piefed_page_with_hashtags() -> None:
    post = parse_object(PIEFED_PAGE)
    assert post.audience == "https://piefed.example/c/playground"
    assert [(t.name, t.href) for t in post.hashtags] == [
        ("#tagone", "https://piefed.example/tag/tagone"),
        ("#tagtwo", "https://piefed.example/tag/tagtwo"),
    ]
    assert post.name == "Example Discussion Post Title"


def test_peertube_style_attributed_to_person_and_group() -> None:
    doc = {
        "id": "https://tube.example/videos/watch/1",
        "type": "Note",
        "content": "hi",
        "attributedTo": [
            {"type": "Person", "id": "https://tube.example/accounts/ann"},
            {"type": "Group", "id": "https://tube.example/video-channels/garden"},
        ],
    }
    post = parse_object(doc)
    assert post.author == "https://tube.example/accounts/ann"
    assert post.attributed_groups == ("https://tube.example/video-channels/garden",)


def test_question_and_event_and_article() -> None:
    poll = parse_object({
        "id": "https://mastodon.example/users/carol/statuses/9",
        "type": "Question",
        "attributedTo": "https://mastodon.example/users/carol",
        "content": "<p>Which day?</p>",
        "endTime": "2024-03-08T09:15:00Z",
        "oneOf": [
            {"type": "Note", "name": "Saturday", "replies": {"type": "Collection", "totalItems": 4}},
            {"type": "Note", "name": "<b>Sunday</b>", "replies": {"type": "Collection", "totalItems": -3}},
        ],
        "to": [PUBLIC],
    })
    assert [(o.name, o.votes) for o in poll.options] == [("Saturday", 4), ("Sunday", 0)]
    assert not poll.multiple_choice and poll.end_time == datetime(2024, 3, 8, 9, 15, tzinfo=timezone.utc)
    assert stored_document(poll)["oneOf"][0]["replies"]["totalItems"] == 4

    event = parse_object({
        "id": "https://events.example/events/7",
        "type": "Event",
        "attributedTo": "https://events.example/@ann",
        "name": "Seed swap",
        "startTime": "2024-03-09T10:00:00+01:00",
        "location": {"type": "Place", "name": "Community hall <script>x</script>"},
        "to": [PUBLIC],
    })
    assert event.start_time == datetime(2024, 3, 9, 9, 0, tzinfo=timezone.utc)
    assert event.location == "Community hall"

    article = parse_object({
        "id": "https://blog.example/posts/1", "type": "Article", "attributedTo": "https://blog.example/ann",
        "name": "Composting", "content": "<h2>Why</h2><p>Because.</p>",
    })
    assert article.name == "Composting" and article.content == "Why<p>Because.</p>"


def test_hostile_html_is_sanitised() -> None:
    doc = {
        **LEMMY_PAGE,
        "name": '<img src=x onerror="alert(1)">Free <b>seeds</b>',
        "summary": '<p style="color:red" onclick="x()">CW</p>',
        "content": (
            '<p onclick="steal()">Hi <script>alert(document.cookie)</script>'
            '<a href="javascript:alert(1)">click</a> <a href="/settings/delete">here</a>'
            '<iframe src="https://evil.example"></iframe><img src="https://evil.example/t.gif">'
            '<a class="evil mention" href="https://ok.example">ok</a></p>'
        ),
    }
    post = parse_object(doc)
    for bad in ("script", "onclick", "javascript:", "iframe", "<img", "/settings/delete", "evil ", "style"):
        assert bad not in post.content + post.summary, bad
    assert '<a class="mention" href="https://ok.example" rel="nofollow noopener">ok</a>' in post.content
    assert post.name == "Free seeds"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "id"),
        ({"id": "ftp://lemmy.example/post/1"}, "id"),
        ({"type": "Tombstone"}, "not a post"),
        ({"attributedTo": None}, "no author"),
        ({"attributedTo": "https://elsewhere.example/u/mallory"}, "another host"),
    ],
)
def test_invalid_objects_are_refused(change: dict[str, Any], reason: str) -> None:
    doc = {**copy.deepcopy(LEMMY_PAGE), **change}
    with pytest.raises(InvalidObject, match=reason):
        parse_object(doc)


def test_votes_and_undo_like() -> None:
    like = {
        "actor": "https://lemmy.example/u/alpha",
        "object": "https://node.test/objects/1",
        "type": "Like",
        "id": "https://lemmy.example/activities/like/efcf7ae2",
        "audience": OUR_GROUP,
    }
    assert parse_vote(like).kind == "like" and parse_vote(like).object == "https://node.test/objects/1"
    dislike = {**like, "type": "Dislike", "id": "https://lemmy.example/activities/dislike/64d4",
               "cc": [PUBLIC]}
    assert parse_vote(dislike).kind == "dislike"
    undo = {"actor": like["actor"], "object": like, "type": "Undo",
            "id": "https://lemmy.example/activities/undo/3518"}
    assert parse_vote(undo["object"]).id == like["id"]
    # Mastodon: a favourite's id is a fragment of the actor; the object may be embedded.
    favourite = {"id": "https://mastodon.example/users/carol#likes/42", "type": "Like",
                 "actor": "https://mastodon.example/users/carol", "object": {"id": "https://node.test/objects/1"}}
    assert parse_vote(favourite).object == "https://node.test/objects/1"
    with pytest.raises(InvalidObject):
        parse_vote({**like, "type": "EmojiReact"})
    with pytest.raises(InvalidObject):
        parse_vote({**like, "object": None})


def test_delete_object_forms() -> None:
    # Lemmy: the id; Mastodon: an embedded Tombstone.
    assert tombstone_id("https://lemmy.example/post/1") == "https://lemmy.example/post/1"
    mastodon = {"id": "https://mastodon.example/users/carol/statuses/1", "type": "Tombstone",
                "atomUri": "https://mastodon.example/users/carol/statuses/1"}
    assert tombstone_id(mastodon) == mastodon["id"]
    assert tombstone_id(None) is None and tombstone_id("javascript:alert(1)") is None


def test_parse_time_variants() -> None:
    utc = timezone.utc
    assert parse_time("2021-11-01T11:45:49.794920+00:00") == datetime(2021, 11, 1, 11, 45, 49, 794920, tzinfo=utc)
    assert parse_time("2024-01-01T00:00:00Z") == datetime(2024, 1, 1, tzinfo=utc)
    assert parse_time("2024-01-01T00:00:00") == datetime(2024, 1, 1, tzinfo=utc)
    assert parse_time("yesterday") is None and parse_time(12) is None
