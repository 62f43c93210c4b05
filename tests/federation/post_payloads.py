"""Remote post payloads shared by the parse and render tests of tests/federation.

Written by hand after the shapes Lemmy documents (crates/apub/assets/lemmy), PieFed documents (its
"Posts as ActivityPub Objects" page) and Mastodon sends; hosts and ids are made up.
"""

from __future__ import annotations

from typing import Any

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
OUR_GROUP = "https://node.test/groups/garden"

LEMMY_PAGE: dict[str, Any] = {
    "id": "https://lemmy.example/post/55143",
    "type": "Page",
    "attributedTo": "https://lemmy.example/u/picard",
    "to": [OUR_GROUP, PUBLIC],
    "name": "Tomato blight: what worked for you?",
    "content": "<p>Our tomatoes got blight.</p>\n",
    "mediaType": "text/html",
    "source": {"content": "Our tomatoes got blight.", "mediaType": "text/markdown"},
    "attachment": [{"type": "Link", "href": "https://lemmy.example/pictrs/image/blight.png"}],
    "sensitive": False,
    "commentsEnabled": True,
    "language": {"identifier": "en", "name": "English"},
    "published": "2024-02-26T12:35:34.292626Z",
    "audience": OUR_GROUP,
    "context": "https://lemmy.example/post/55143/context",
}

MASTODON_NOTE: dict[str, Any] = {
    "id": "https://mastodon.example/users/carol/statuses/111222333",
    "type": "Note",
    "summary": None,
    "inReplyTo": None,
    "published": "2024-03-01T09:15:00Z",
    "url": "https://mastodon.example/@carol/111222333",
    "attributedTo": "https://mastodon.example/users/carol",
    "to": [PUBLIC],
    "cc": ["https://mastodon.example/users/carol/followers", OUR_GROUP],
    "sensitive": False,
    "atomUri": "https://mastodon.example/users/carol/statuses/111222333",
    "conversation": "tag:mastodon.example,2024-03-01:objectId=4455:objectType=Conversation",
    "content": '<p><span class="h-card" translate="no"><a href="https://node.test/groups/garden" '
    'class="u-url mention">@<span>garden</span></a></span> Seed swap on Saturday? '
    '<a href="https://mastodon.example/tags/seeds" class="mention hashtag" rel="tag">#<span>seeds</span></a></p>',
    "contentMap": {"en": "<p>Seed swap on Saturday?</p>"},
    "attachment": [],
    "tag": [
        {"type": "Mention", "href": OUR_GROUP, "name": "@garden@node.test"},
        {"type": "Hashtag", "href": "https://mastodon.example/tags/seeds", "name": "#seeds"},
        {"type": "Emoji", "name": ":blobcat:", "icon": {"type": "Image", "url": "https://mastodon.example/e.png"}},
    ],
    "replies": {"id": "https://mastodon.example/users/carol/statuses/111222333/replies", "type": "Collection"},
}

PIEFED_PAGE: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    "attachment": [],
    "attributedTo": "https://piefed.example/u/jolly",
    "audience": "https://piefed.example/c/playground",
    "cc": [],
    "commentsEnabled": True,
    "content": "<p>Example Discussion Post Body</p>\n",
    "id": "https://piefed.example/post/79757",
    "mediaType": "text/html",
    "name": "Example Discussion Post Title",
    "published": "2024-11-24T22:18:50.230305+00:00",
    "replies": [],
    "sensitive": False,
    "stickied": False,
    "tag": [
        {"href": "https://piefed.example/tag/tagone", "name": "#tagone", "type": "Hashtag"},
        {"href": "https://piefed.example/tag/tagtwo", "name": "#tagtwo", "type": "Hashtag"},
    ],
    "to": ["https://piefed.example/c/playground", PUBLIC],
    "type": "Page",
}
