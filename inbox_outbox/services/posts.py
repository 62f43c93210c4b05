"""Posts of local people: write, reply, vote, edit, delete (DESIGN.md "How an outgoing activity flows").

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

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications, watchers
from actors.errors import Forbidden, InvalidInput, NotFound
from actors.memberships import can_post, can_read, is_banned, is_moderator, local_actor_by_uri
from actors.signing import with_proof
from actors.urls import Urls
from content import acceptance
from content.documents import board_document, response_document
from content.kinds import DISCUSSION, check_kind, first_status, stored_kind
from content.rules import check_post_text
from content.store import group_of, note_reply, object_by_uri, thread_locked, thread_root, tombstone
from content.votes import add_reaction, find_reaction, remove_reaction
from federation.activities import activity, iso, strip_context
from federation.context import PUBLIC
from content.audience import record_recipients
from content.post_extras import set_hashtags, set_local_attachments
from federation.markdown import render as render_markdown
from federation.object_fields import Hashtag, Mention
from federation.object_render import LocalAttachment, LocalPost, context_url, render_object
from federation.thread_title import titled_content
from inbox_outbox.addressing import MemberRef, actor_inboxes, dedupe, follower_inboxes, group_members_by_inbox
from inbox_outbox.fanout import announce_to_members, author_withdraws, withdraw_boost
from inbox_outbox.ids import is_local, new_activity_id, new_object_id
from inbox_outbox.outbox import publish
from inbox_outbox.services import mentions as mention_links
from inbox_outbox.services.mentions import Resolved
from storage.models import Activity, LocalActor, Object, RemoteActor, utcnow

_VOTE_TYPES = {"like": "Like", "dislike": "Dislike"}


# --------------------------------------------------------------------------------------------------
# Where a post lives and who hears of it


VISIBILITIES = ("public", "followers", "mentioned")


@dataclass(frozen=True)
class Place:
    """A post's home: one of our groups, a remote group, or (both None) its author's profile, where
    ``visibility`` says who it is for, as Mastodon's: ``public``, ``followers`` (followers-only) or
    ``mentioned`` (the people it mentions alone, Mastodon's "direct")."""

    group: LocalActor | None = None
    remote_group: RemoteActor | None = None
    visibility: str = "public"

    def audience(self, urls: Urls) -> str | None:
        if self.group is not None:
            return urls.group(self.group.username)
        return self.remote_group.uri if self.remote_group is not None else None

    def addressing(self, urls: Urls, author_uri: str) -> tuple[list[str], list[str]]:
        if self.group is not None:
            assert self.group.group is not None
            group_id = urls.group(self.group.username)
            if self.group.group.visibility == "public":
                return [group_id, PUBLIC], []
            return [group_id], [f"{group_id}/followers"]  # private: never Public (PROTOCOL.md)
        if self.remote_group is not None:
            followers = self.remote_group.followers
            public = [PUBLIC] if self.public else []  # a private remote group: never Public either
            return [self.remote_group.uri], public + ([followers] if followers else [])
        if self.visibility == "followers":
            return [f"{author_uri}/followers"], []  # Mastodon "private": no Public anywhere
        if self.visibility == "mentioned":
            return [], []  # Mastodon "direct": the mentioned people are added to cc
        return [PUBLIC], [f"{author_uri}/followers"]

    @property
    def in_group(self) -> bool:
        return self.group is not None or self.remote_group is not None

    @property
    def public(self) -> bool:
        if self.remote_group is not None:
            # A group that approves its followers is a private group (PROTOCOL.md "Private groups").
            return (self.remote_group.document or {}).get("manuallyApprovesFollowers") is not True
        if self.group is None:
            return self.visibility == "public"
        return self.group.group is not None and self.group.group.visibility == "public"


async def _place_of(session: AsyncSession, urls: Urls, obj: Object) -> Place:
    group = await group_of(session, obj)
    if group is not None:
        return Place(group=group)
    if obj.audience_uri and not is_local(urls, obj.audience_uri):
        remote = await session.scalar(select(RemoteActor).where(RemoteActor.uri == obj.audience_uri))
        if remote is not None and remote.actor_type == "Group":
            return Place(remote_group=remote)
    if obj.public:
        return Place()
    # A followers-only or mentioned-only post: its replies, edits and deletes reach no wider audience.
    followers_only = f"{obj.author_uri}/followers" in (obj.document or {}).get("to", [])
    return Place(visibility="followers" if followers_only else "mentioned")


async def _deliver(
    session: AsyncSession,
    urls: Urls,
    actor: LocalActor,
    place: Place,
    document: dict[str, Any],
    *,
    also: list[str] | None = None,
    post: dict[str, Any] | None = None,
    to_members: bool = False,
) -> Activity:
    """Store ``document`` with its deliveries; a group of ours then announces it to its members.

    ``to_members``: ``document`` is the author's own Create, Update or Delete of a post in our group, which
    Mastodon-family members must get from the author (module docstring): an Update or Delete also goes to
    every remote member inbox; in a private group a Create or Update of ``post`` (the unsigned post) goes
    to each member inbox as its own copy naming the members there, in place of ``document``.
    """
    actor_uri = _uri(urls, actor)
    inboxes = await actor_inboxes(session, [uri for uri in also or [] if uri != actor_uri])
    if place.remote_group is not None:
        inboxes = [place.remote_group.inbox] + inboxes
    elif place.group is None and place.visibility != "mentioned":
        inboxes = await follower_inboxes(session, actor_uri) + inboxes
    copies: dict[str, list[MemberRef]] = {}
    if to_members and place.group is not None:
        members = await group_members_by_inbox(session, place.group.id)
        if post is not None and not place.public:
            copies = members
            inboxes = [inbox for inbox in inboxes if inbox not in copies]  # the copy there names them too
        elif document["type"] != "Create":  # a new post in a public group reaches them as the group's boost
            inboxes += list(members)
    stored = await publish(session, urls, actor, document, dedupe(inboxes))
    for inbox, named in copies.items():
        assert post is not None
        await publish(session, urls, actor, _naming(urls, actor, place, document, post, named), [inbox])
    if place.group is not None:
        await announce_to_members(session, urls, place.group, document)
    return stored


def _naming(
    urls: Urls, author: LocalActor, place: Place, document: dict[str, Any], post: dict[str, Any],
    members: list[MemberRef],
) -> dict[str, Any]:
    """The author's Create or Update of ``post`` once more, the post also addressed (``cc``) to ``members``
    and mentioning them. Mastodon reads the audience from the object, not the activity, makes a post
    naming nobody it knows a direct message to nobody, and shows a mentioned account what mentions it
    (app/lib/activitypub/parser/status_parser.rb ``visibility``, activity/create.rb ``process_audience``);
    GoToSocial shows a direct post only to the accounts it mentions (internal/ap/extract.go
    ``ExtractVisibility``, internal/filter/visibility/status.go). Signed anew: the proof covers the copy."""
    uris = [member.uri for member in members]
    mentioned = {tag.get("href") for tag in post.get("tag", []) if isinstance(tag, dict)}
    named = {
        **post,
        "cc": list(dict.fromkeys([*post.get("cc", []), *uris])),
        "tag": [*post.get("tag", []),
                *({"type": "Mention", "href": m.uri, "name": m.handle} for m in members if m.uri not in mentioned)],
    }
    return _authored(urls, author, place, document["type"], named, to=list(named.get("to", [])), cc=named["cc"],
                     audience=document.get("audience"), published=utcnow())


async def deliver_in_group(
    session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor, document: dict[str, Any]
) -> Activity:
    """Store ``document`` by ``actor`` and have our ``group`` announce it to its members (the board's
    Update{Page}, inbox_outbox.services.board)."""
    return await _deliver(session, urls, actor, Place(group=group), document)


def _uri(urls: Urls, actor: LocalActor) -> str:
    return urls.actor(actor.actor_type, actor.username)


def _authored(
    urls: Urls, author: LocalActor, place: Place, kind: str, document: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    """``kind`` (Create or Update) of the post ``document`` by ``author``; signed in a group, with the
    signed object embedded whole (see the module docstring). Elsewhere nobody relays it: as before."""
    author_uri = _uri(urls, author)
    if not place.in_group:
        return activity(new_activity_id(urls), kind, author_uri, strip_context(document), **fields)
    signed_object = with_proof(author, urls, document)
    return with_proof(author, urls, activity(new_activity_id(urls), kind, author_uri, signed_object, **fields))


# --------------------------------------------------------------------------------------------------
# Writing


async def _check_may_post(
    session: AsyncSession, urls: Urls, author: LocalActor, place: Place, *, starting_thread: bool
) -> None:
    if author.actor_type != "person":
        raise Forbidden("only people write posts")
    if place.group is not None and not await can_post(session, urls, place.group, _uri(urls, author),
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
) -> Object:
    """Store and deliver a post. ``thread_kind``: a board thread's kind (idea, concern, question);
    ``official_status``: the post is the team's official response announcing that status;
    ``mentioned``: the handles its body writes, resolved (services.mentions), linked and addressed;
    ``attachments``: images stored on this node (actors.post_images), with their alt text."""
    author_uri = _uri(urls, author)
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
        hashtags=_hashtags(urls, rendered.hashtags),
        attachments=attachments,
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
    create = _authored(urls, author, place, "Create", document, to=list(post.to), cc=list(post.cc),
                       audience=post.audience, published=now)
    await _deliver(session, urls, author, place, create,
                   also=([parent.author_uri] if parent is not None else []) + list(linked.addressed),
                   post=document, to_members=True)
    if parent is None:  # authors follow the threads they start (actors.watchers)
        await watchers.set_thread_state(session, obj.id, author_uri, "following")
    if obj.acceptance is None:  # a post a remote group must accept counts once it does (content.acceptance)
        if parent is not None:
            await note_reply(session, parent)
        await notifications.post_arrived(session, urls, obj, linked.local)
    return obj


def _hashtags(urls: Urls, tags: tuple[str, ...]) -> tuple[Hashtag, ...]:
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
    attachments: tuple[LocalAttachment, ...] = (),
) -> Object:
    """A reply (a Note) to any post we have, in the parent's group or thread. ``official_status``: the
    reply is the team's official response announcing that status (inbox_outbox.services.board);
    ``mentioned``: the handles of ``body`` resolved (services.mentions.resolve)."""
    parent = await object_by_uri(session, parent_uri)
    if parent is None:
        raise NotFound(f"no post {parent_uri} here to reply to")
    if parent.deleted:
        raise InvalidInput("that post was deleted; it takes no replies")
    place = await _place_of(session, urls, parent)
    _, body = check_post_text("", body, title_required=False)
    await _check_may_post(session, urls, author, place, starting_thread=False)
    if official_status is None and await thread_locked(session, parent):  # the team still answers
        raise Forbidden("this thread is locked: no new replies")
    return await _store_post(session, urls, author, place, kind="Note", title="", body=body, parent=parent,
                             official_status=official_status, mentioned=mentioned, attachments=attachments)


# --------------------------------------------------------------------------------------------------
# Votes


async def _votable(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> tuple[Object, Place]:
    obj = await object_by_uri(session, object_uri)
    if obj is None:
        raise NotFound(f"no post {object_uri} here")
    if obj.deleted:
        raise InvalidInput("that post was deleted")
    place = await _place_of(session, urls, obj)
    if place.group is not None:
        actor_uri = _uri(urls, actor)
        if await is_banned(session, urls, place.group, actor_uri) or not await can_read(
            session, urls, place.group, actor_uri
        ):
            raise Forbidden(f"{actor.username} may not vote in {place.group.username}")
    return obj, place


def _vote_addressing(urls: Urls, obj: Object, place: Place) -> tuple[list[str], list[str]]:
    if place.group is not None and not place.public:
        return [obj.author_uri], [f"{urls.group(place.group.username)}/followers"]
    if place.remote_group is not None and not place.public:
        followers = place.remote_group.followers
        return [obj.author_uri], [followers] if followers else []
    return [obj.author_uri], [PUBLIC]


async def _vote(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str, kind: str) -> Activity | None:
    obj, place = await _votable(session, urls, actor, object_uri)
    actor_uri = _uri(urls, actor)
    existing = await find_reaction(session, actor_uri=actor_uri, object_uri=obj.uri)
    if existing is not None and existing.kind == kind:
        return None  # voted so already
    if existing is not None:
        # Switching: take the old vote back first, so Mastodon (which ignores Dislike) forgets the Like.
        await _undo_vote(session, urls, actor, obj, place, existing.kind, existing.activity_uri)
    to, cc = _vote_addressing(urls, obj, place)
    vote = activity(new_activity_id(urls), _VOTE_TYPES[kind], actor_uri, obj.uri, to=to, cc=cc,
                    audience=place.audience(urls), published=utcnow())
    await add_reaction(session, actor_uri, obj.uri, kind, vote["id"])
    if kind == "like":
        await notifications.liked(session, urls, actor_uri, obj)
    return await _deliver(session, urls, actor, place, vote, also=[obj.author_uri])


async def like(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Like (an up-vote for Lemmy, a favourite for Mastodon); None when already liked."""
    return await _vote(session, urls, actor, object_uri, "like")


async def dislike(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Dislike (a Lemmy down-vote); None when already disliked."""
    return await _vote(session, urls, actor, object_uri, "dislike")


async def _undo_vote(
    session: AsyncSession, urls: Urls, actor: LocalActor, obj: Object, place: Place, kind: str,
    vote_uri: str | None,
) -> Activity:
    actor_uri = _uri(urls, actor)
    sent = await session.scalar(select(Activity).where(Activity.uri == vote_uri)) if vote_uri else None
    inner = strip_context(sent.document) if sent is not None else {
        "id": vote_uri or new_activity_id(urls), "type": _VOTE_TYPES[kind], "actor": actor_uri, "object": obj.uri,
    }
    reaction = await find_reaction(session, actor_uri=actor_uri, object_uri=obj.uri, kind=kind)
    if reaction is not None:
        await remove_reaction(session, reaction)
    to, cc = _vote_addressing(urls, obj, place)
    undo = activity(new_activity_id(urls), "Undo", actor_uri, inner, to=to, cc=cc,
                    audience=place.audience(urls), published=utcnow())
    return await _deliver(session, urls, actor, place, undo, also=[obj.author_uri])


async def undo_reaction(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Activity | None:
    """Take back this person's vote on the post, whichever it was; None when there was none."""
    obj, place = await _votable(session, urls, actor, object_uri)
    existing = await find_reaction(session, actor_uri=_uri(urls, actor), object_uri=obj.uri)
    if existing is None:
        return None
    return await _undo_vote(session, urls, actor, obj, place, existing.kind, existing.activity_uri)


# --------------------------------------------------------------------------------------------------
# Editing and deleting


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
    author_uri = _uri(urls, author)
    if obj.author_uri != author_uri:
        raise Forbidden("only the author may edit a post")
    new_title, body = check_post_text(obj.name if title is None else title, body,
                                  title_required=obj.type == "Page" and obj.in_reply_to_uri is None)
    now = utcnow()
    rendered = render_markdown(body, urls.base)
    obj.name = new_title
    obj.source = body
    place = await _place_of(session, urls, obj)
    linked = await mention_links.link(session, urls, place.group, place.public, rendered.html, mentioned,
                                      author_uri, profile=not place.in_group)
    obj.content = linked.html
    obj.updated = now
    others = [tag for tag in obj.document.get("tag", []) if not (isinstance(tag, dict) and tag.get("type") == "Hashtag")]
    document = {**obj.document, "content": titled_content(new_title, obj.content),
                "source": {"content": body, "mediaType": "text/markdown"},
                "tag": others + [{"type": "Hashtag", "name": t.name, "href": t.href}
                                 for t in _hashtags(urls, rendered.hashtags)]}
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
    edit = _authored(urls, author, place, "Update", document, to=list(document.get("to", [])),
                     cc=list(document.get("cc", [])), audience=obj.audience_uri, published=now)
    await _deliver(session, urls, author, place, edit,
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
    actor_uri = _uri(urls, actor)
    place = await _place_of(session, urls, obj)
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
    await _deliver(session, urls, actor, place, removal, also=[obj.author_uri] if moderating else [],
                   to_members=not moderating)
    if place.group is not None:
        if moderating:
            await author_withdraws(session, urls, place.group, obj)
        await withdraw_boost(session, urls, place.group, obj.uri)
    return obj
