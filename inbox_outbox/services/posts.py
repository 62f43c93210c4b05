"""Posts of local people: write and reply (votes: .votes; edits and deletes: .post_edits) (DESIGN.md "How an outgoing activity flows").

Each function works in the caller's transaction: the state change, the activity (dereferenceable at its
id, in the actor's outbox) and its delivery rows are committed together or not at all; nothing is sent
from here. Where a post lives decides who hears of it:

- **one of our groups**: the member's activity is stored, and the group announces it to its members
  (FEP-1b12: ``Announce{activity}``, plus ``Announce{object id}`` for Mastodon-family members). Public
  groups address ``to: [group, Public]``; private groups the group and its followers only, never Public.
- **a remote group** (Lemmy community, PieFed, another Made Open): the activity goes to the group's inbox,
  ``to: group``, ``cc: [Public, group followers]``, ``audience: group``; the group announces it.
- **the author's profile**: ``to: Public``, ``cc: followers``, delivered to the author's remote followers.

Replies also go to the author of the post replied to (and mention them, so Mastodon notifies them).
Bodies are Markdown, rendered with markdown-it-py (raw HTML off) and then sanitised like remote HTML.

Mastodon-family members of our groups (Mastodon, GoToSocial, Akkoma, Misskey) drop the group's
``Announce{Update}``/``Announce{Delete}``, take edits and deletes only from a post's author, and show a
non-public post only to those it names (PROTOCOL.md "Addressing per server family"). So the author's own
Update and Delete of a post in one of our groups also go, signed by the author, straight to every remote
member inbox (each inbox once); and in a private group the author's Create and Update reach each member
inbox as a copy whose post also names, in ``cc`` and a ``Mention``, the members behind that inbox (and
nobody else: a host learns only its own members). A moderator's removal of a local author's post is also
said by the author's actor, as Mastodon's own moderation does.

Posts in groups (ours or remote) are signed: the Create or Update and the object it embeds each carry an
FEP-8b32 integrity proof by the author's Ed25519 key (eddsa-jcs-2022, federation.proofs), the object
with its own ``@context`` as in FEP-8b32's example "Signed activity with embedded signed object". The group
relays the activity as signed, and its members on other servers check the proof instead of fetching the
post from us, which we could not allow for a private remote group (we do not know its member list).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications, watchers
from actors.errors import Forbidden, InvalidInput
from actors.memberships import can_post, local_actor_by_uri
from actors.urls import Urls
from content import acceptance
from content.documents import board_document, response_document
from content.kinds import DISCUSSION, check_kind, first_status, stored_kind
from content.rules import check_post_text
from content.store import note_reply, thread_locked, thread_root
from content.audience import record_recipients
from content.post_extras import set_hashtags, set_local_attachments
from federation.markdown import render as render_markdown
from federation.object_fields import Hashtag, Mention
from federation.object_render import DocSection, LocalAttachment, LocalPost, context_url, render_object
from inbox_outbox.ids import new_object_id
from inbox_outbox.services import mentions as mention_links
from inbox_outbox.services.mentions import Resolved
from inbox_outbox.services.common import uri_of
from inbox_outbox.services.post_delivery import VISIBILITIES, Place, authored, deliver, live_post
from storage.models import LocalActor, Object, RemoteActor, utcnow


async def _check_may_post(
    session: AsyncSession, urls: Urls, author: LocalActor, place: Place, *, starting_thread: bool
) -> None:
    if author.actor_type != "person":
        raise Forbidden("only people write posts")
    if place.group is not None and not await can_post(session, urls, place.group, uri_of(urls, author),
                                                      starting_thread=starting_thread):
        what = "start threads" if starting_thread else "post"
        raise Forbidden(f"{author.username} may not {what} in {place.group.username}")


async def _mention(session: AsyncSession, urls: Urls, actor_uri: str) -> Mention | None:
    """A Mention tag for ``actor_uri`` (Mastodon notifies people mentioned, not merely replied to)."""
    remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == actor_uri))
    if remote is not None:
        return Mention(href=remote.uri, name=f"@{remote.username}@{remote.domain}")
    local = await local_actor_by_uri(session, urls, actor_uri)
    if local is not None:
        return Mention(href=actor_uri, name=f"@{local.username}@{urls.domain}")
    return None


async def _store_post(
    session: AsyncSession,
    urls: Urls,
    author: LocalActor,
    place: Place,
    *,
    kind: str,
    title: str,
    body: str,
    parent: Object | None = None,
    thread_kind: str | None = None,
    official_status: str | None = None,
    mentioned: Resolved | None = None,
    attachments: tuple[LocalAttachment, ...] = (),
    section: DocSection | None = None,
) -> Object:
    """Store and deliver a post. ``thread_kind``: a board thread's kind (idea, concern, question);
    ``official_status``: the post is the team's official response announcing that status;
    ``mentioned``: the handles its body writes, resolved (services.mentions), linked and addressed;
    ``attachments``: images stored on this node (actors.post_images), with their alt text."""
    author_uri = uri_of(urls, author)
    object_uri = new_object_id(urls)
    now = utcnow()
    to, cc = place.addressing(urls, author_uri)
    mentions: tuple[Mention, ...] = ()
    context: str | None = context_url(object_uri)
    if parent is not None:
        if parent.author_uri != author_uri:
            mention = await _mention(session, urls, parent.author_uri)
            mentions = (mention,) if mention is not None else ()
            cc = cc + [parent.author_uri]
        root = await thread_root(session, parent)
        context = context_url(root.uri) if root.local else (root.document or {}).get("context")
    rendered = render_markdown(body, urls.base)
    linked = await mention_links.link(session, urls, place.group, place.public, rendered.html, mentioned,
                                      author_uri, profile=not place.in_group)
    mentions = mentions + tuple(m for m in linked.tags if m.href not in {n.href for n in mentions})
    cc = cc + list(linked.addressed)
    post = LocalPost(
        id=object_uri,
        type=kind,
        author=author_uri,
        content=linked.html,
        source=body,
        published=now,
        to=tuple(to),
        cc=tuple(dict.fromkeys(cc)),
        name=title,
        audience=place.audience(urls),
        in_reply_to=parent.uri if parent is not None else None,
        context=context if isinstance(context, str) else None,
        mentions=mentions,
        hashtags=hashtag_fields(urls, rendered.hashtags),
        attachments=attachments,
        section=section,
    )
    document = render_object(post)
    obj = Object(
        uri=object_uri,
        local=True,
        type=kind,
        author_uri=author_uri,
        group_id=place.group.id if place.group is not None else None,
        audience_uri=post.audience,
        in_reply_to_uri=post.in_reply_to,
        context_uri=(parent.context_uri or parent.uri) if parent is not None else object_uri,
        name=title,
        content=post.content,
        source=body,
        public=place.public,
        document=document,
        published=now,
        last_activity_at=now,
        # A remote group takes it in only when it announces it (content.acceptance).
        acceptance=acceptance.PENDING if place.remote_group is not None else None,
        kind=thread_kind,
        status=first_status(thread_kind),
        official=official_status is not None,
    )
    if thread_kind is not None:
        document = obj.document = board_document(obj, document)
    elif official_status is not None:
        document = obj.document = response_document(document, official_status)
    session.add(obj)
    await session.flush()
    await set_hashtags(session, obj, rendered.hashtags)
    await set_local_attachments(session, obj, attachments)
    if not place.in_group and not place.public:
        await record_recipients(session, obj, [*post.to, *post.cc])  # who may read it (content.audience)
    create = authored(urls, author, place, "Create", document, to=list(post.to), cc=list(post.cc),
                       audience=post.audience, published=now)
    await deliver(session, urls, author, place, create,
                   also=([parent.author_uri] if parent is not None else []) + list(linked.addressed),
                   post=document, to_members=True)
    if parent is None:  # authors follow the threads they start (actors.watchers)
        await watchers.set_thread_state(session, obj.id, author_uri, "following")
    if obj.acceptance is None:  # a post a remote group must accept counts once it does (content.acceptance)
        if parent is not None:
            await note_reply(session, parent)
        await notifications.post_arrived(session, urls, obj, linked.local)
    return obj


def hashtag_fields(urls: Urls, tags: tuple[str, ...]) -> tuple[Hashtag, ...]:
    """Hashtag tags as Mastodon sends them: ``#name`` and the tag page here."""
    return tuple(Hashtag(name=f"#{tag}", href=f"{urls.base}/tags/{tag}") for tag in tags)


async def create_post(
    session: AsyncSession,
    urls: Urls,
    author: LocalActor,
    group: LocalActor | RemoteActor | None,
    title: str,
    body: str,
    kind: str = DISCUSSION,
    mentioned: Resolved | None = None,
    attachments: tuple[LocalAttachment, ...] = (),
    visibility: str = "public",
) -> Object:
    """A new thread: in one of our groups, in a remote group (``group`` a cached RemoteActor), or on the
    author's profile (``group`` None: a microblog post to their followers, as on Mastodon, whose
    ``visibility`` is one of VISIBILITIES). Group threads need a title: Lemmy and PieFed show it. ``kind``
    (content.kinds): a discussion, or an idea, concern or question on the group's board."""
    kind = check_kind(kind)
    if isinstance(group, RemoteActor):
        if group.actor_type != "Group":
            raise InvalidInput(f"{group.uri} is not a group")
        place = Place(remote_group=group)
    elif group is not None:
        if group.actor_type != "group":
            raise InvalidInput(f"{group.username} is not a group")
        place = Place(group=group)
    else:
        if visibility not in VISIBILITIES:
            raise InvalidInput(f"who sees it: one of {', '.join(VISIBILITIES)}")
        place = Place(visibility=visibility)
    in_group = place.in_group
    if kind != DISCUSSION and not in_group:
        raise InvalidInput("ideas, concerns and questions are started in a group")
    title, body = check_post_text(title, body, title_required=in_group)
    await _check_may_post(session, urls, author, place, starting_thread=True)
    # FEP-1b12 threads are Pages with a name; profile posts are Notes (an Article when titled).
    object_type = "Page" if in_group else ("Article" if title else "Note")
    return await _store_post(session, urls, author, place, kind=object_type, title=title, body=body,
                             thread_kind=stored_kind(kind), mentioned=mentioned, attachments=attachments)


async def reply(
    session: AsyncSession, urls: Urls, author: LocalActor, parent_uri: str, body: str,
    *, official_status: str | None = None, mentioned: Resolved | None = None,
    attachments: tuple[LocalAttachment, ...] = (), section: DocSection | None = None,
) -> Object:
    """A reply (a Note) to any post we have, in the parent's group or thread. ``official_status``: the
    reply is the team's official response announcing that status (inbox_outbox.services.board);
    ``mentioned``: the handles of ``body`` resolved (services.mentions.resolve); ``section``: a comment
    about one section of a doc (services.docs)."""
    parent, place = await live_post(session, urls, parent_uri, missing=f"no post {parent_uri} here to reply to",
                                    deleted="that post was deleted; it takes no replies")
    _, body = check_post_text("", body, title_required=False)
    await _check_may_post(session, urls, author, place, starting_thread=False)
    if official_status is None and await thread_locked(session, parent):  # the team still answers
        raise Forbidden("this thread is locked: no new replies")
    return await _store_post(session, urls, author, place, kind="Note", title="", body=body, parent=parent,
                             official_status=official_status, mentioned=mentioned, attachments=attachments,
                             section=section)
