"""Edits and deletes of posts by their authors, and removals by a group's moderators, delivered where
the post lives (.post_delivery; posts.py's docstring says why the author's Update and Delete also go
straight to Mastodon-family members)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Forbidden, InvalidInput, NotFound
from actors.memberships import is_moderator
from actors.urls import Urls
from content.documents import board_document
from content.rules import check_post_text
from content.store import object_by_uri, tombstone
from federation.activities import activity, iso
from content.audience import record_recipients
from content.post_extras import set_hashtags
from federation.markdown import render as render_markdown
from federation.object_render import section_lead
from federation.thread_title import titled_content
from inbox_outbox.fanout import author_withdraws, withdraw_boost
from inbox_outbox.ids import new_activity_id
from inbox_outbox.services import mentions as mention_links
from inbox_outbox.services.mentions import Resolved
from inbox_outbox.services.common import uri_of
from inbox_outbox.services.post_delivery import authored, deliver, place_of
from inbox_outbox.services.posts import hashtag_fields
from storage.models import LocalActor, Object, utcnow


async def _own_local_post(session: AsyncSession, object_uri: str) -> Object:
    obj = await object_by_uri(session, object_uri)
    if obj is None or not obj.local:
        raise NotFound(f"no post {object_uri} of ours")
    if obj.deleted:
        raise InvalidInput("that post was deleted")
    return obj


async def update_post(
    session: AsyncSession, urls: Urls, author: LocalActor, object_uri: str, body: str, title: str | None = None,
    *, mentioned: Resolved | None = None,
) -> Object:
    """Edit a post: only its author may. Peers get ``Update`` with the new version (the group re-announces).
    ``mentioned``: the handles of the new text, resolved: linked again, and people newly mentioned are
    tagged, addressed and sent the Update (those mentioned before keep their tag: they have the post)."""
    obj = await _own_local_post(session, object_uri)
    author_uri = uri_of(urls, author)
    if obj.author_uri != author_uri:
        raise Forbidden("only the author may edit a post")
    new_title, body = check_post_text(obj.name if title is None else title, body,
                                  title_required=obj.type == "Page" and obj.in_reply_to_uri is None)
    now = utcnow()
    rendered = render_markdown(body, urls.base)
    obj.name = new_title
    obj.source = body
    place = await place_of(session, urls, obj)
    linked = await mention_links.link(session, urls, place.group, place.public, rendered.html, mentioned,
                                      author_uri, profile=not place.in_group)
    obj.content = linked.html
    obj.updated = now
    others = [tag for tag in obj.document.get("tag", []) if not (isinstance(tag, dict) and tag.get("type") == "Hashtag")]
    document = {**obj.document, "content": section_lead(obj.document) + titled_content(new_title, obj.content),
                "source": {"content": body, "mediaType": "text/markdown"},
                "tag": others + [{"type": "Hashtag", "name": t.name, "href": t.href}
                                 for t in hashtag_fields(urls, rendered.hashtags)]}
    await set_hashtags(session, obj, rendered.hashtags)
    tagged = {tag.get("href") for tag in document.get("tag", []) if isinstance(tag, dict)}
    added = [tag for tag in linked.tags if tag.href not in tagged]
    if added:
        document["tag"] = [*document.get("tag", []), *({"type": "Mention", "href": m.href, "name": m.name} for m in added)]
        document["cc"] = list(dict.fromkeys([*document.get("cc", []), *(m.href for m in added)]))
        if not place.in_group and not place.public:  # the newly mentioned may read it now (content.audience)
            await record_recipients(session, obj, [*document.get("to", []), *document["cc"]])
    document["updated"] = iso(now)
    if new_title:
        document["name"] = new_title
    else:
        document.pop("name", None)
    if obj.kind is not None:
        document = board_document(obj, document)  # the status line and terms stay
    obj.document = document
    parent = await object_by_uri(session, obj.in_reply_to_uri)
    edit = authored(urls, author, place, "Update", document, to=list(document.get("to", [])),
                     cc=list(document.get("cc", [])), audience=obj.audience_uri, published=now)
    await deliver(session, urls, author, place, edit,
                   also=([parent.author_uri] if parent is not None else []) + list(linked.addressed),
                   post=document, to_members=True)
    return obj


async def delete_post(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Object:
    """Delete a post: its author, or a moderator of our group it is in (any post there, remote ones too).

    The post becomes a tombstone; peers get ``Delete`` (object: the id, which Lemmy and Mastodon both
    take), announced by the group, and the author of a removed post hears of it too.
    """
    obj = await object_by_uri(session, object_uri)
    if obj is None:
        raise NotFound(f"no post {object_uri} here")
    if obj.deleted:
        raise InvalidInput("that post was deleted already")
    actor_uri = uri_of(urls, actor)
    place = await place_of(session, urls, obj)
    moderating = obj.author_uri != actor_uri
    if moderating and not (place.group is not None and await is_moderator(session, urls, place.group, actor_uri)):
        raise Forbidden("only the author or a moderator of the group may delete a post")
    if not obj.local and not moderating:
        raise Forbidden("that post lives on another server")
    document = obj.document or {}
    to = list(document.get("to", [])) or place.addressing(urls, obj.author_uri)[0]
    cc = list(document.get("cc", []))
    tombstone(obj)
    removal = activity(new_activity_id(urls), "Delete", actor_uri, obj.uri, to=to, cc=cc,
                       audience=obj.audience_uri, published=utcnow())
    await deliver(session, urls, actor, place, removal, also=[obj.author_uri] if moderating else [],
                   to_members=not moderating)
    if place.group is not None:
        if moderating:
            await author_withdraws(session, urls, place.group, obj)
        await withdraw_boost(session, urls, place.group, obj.uri)
    return obj
