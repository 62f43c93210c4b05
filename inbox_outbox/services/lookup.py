"""Finding people and groups across servers, following them, and remote follow (PROTOCOL.md "Discovery").

- :func:`lookup`: what a person pasted into the lookup box — ``@name@host``, Lemmy's ``!group@host``,
  ``name@host``, ``acct:name@host`` or a URL (an actor, or a post: then its author and group) — found
  by WebFinger and a signed fetch, fresh each time (the person asked now). Failures are told apart:
  bad syntax (400), nobody of that name (404), a server that cannot be reached or answers nonsense
  (502), something that is not a person or group (422). A failed lookup stores nothing.
- :func:`follow` / :func:`unfollow`: join or leave a group, follow or unfollow anyone else
  (services.membership does the work: a ``Follow`` to remote actors, a membership for our groups).
- :func:`remote_follow_url`: a visitor from another server types their own address on one of our
  actor pages; their server's WebFinger names its "subscribe" template (OStatus, served by Mastodon,
  Pleroma/Akkoma, Misskey, GoToSocial-compatible clients and us), and we send them there with our
  actor's id, where they confirm the follow while logged in at home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import quote, urldefrag, urlsplit

from sqlalchemy import select

from actors import accounts, person_blocks, suspensions
from actors.errors import DomainError, InvalidInput, NotFound
from actors.memberships import local_actor_by_uri
from actors.usernames import lookup_key
from content.store import object_by_uri
from federation import discovery
from federation.http_errors import (
    AddressNotAllowed, BadContentType, FetchConnectionError, FetchError, FetchTimeout, HTTPStatusError,
)
from federation.objects import InvalidObject, is_post, parse_object
from federation.remote_actor import ACTOR_TYPES, InvalidActor, origin, parse_actor
from inbox_outbox.federation import Federation
from inbox_outbox.ids import is_local
from inbox_outbox.services import membership
from inbox_outbox.services.common import uri_of
from inbox_outbox.services.refs import resolve_actor
from storage.models import Follow, LocalActor, Membership, Object, RemoteActor

MAX_QUERY = 2048


class Unreachable(DomainError):
    """The other server could not be reached, or answered something unusable."""

    status = 502


class NotAnActor(DomainError):
    """It exists, but is not a person or group we could follow."""

    status = 422


@dataclass(frozen=True)
class ActorCard:
    uri: str
    kind: str  # group | person
    type: str  # the AS2 type: Group, Person, Service, ...
    name: str
    handle: str  # name@host
    summary_html: str  # sanitised (remote) or rendered (ours) HTML
    url: str  # its page
    local: bool
    relation: str = "none"  # none | pending | accepted | banned | self | blocked (by the viewer)
    suspended: bool = False  # by this node's admins (actors.suspensions): no Follow button


@dataclass(frozen=True)
class PostCard:
    uri: str
    url: str
    title: str
    content_html: str  # sanitised
    author: ActorCard | None
    group: ActorCard | None


@dataclass(frozen=True)
class LookupResult:
    query: str
    actor: ActorCard | None = None
    post: PostCard | None = None
    cards: list[ActorCard] = field(default_factory=list)  # everything followable, the actor or the post's


# --------------------------------------------------------------------------------------------------
# Lookup


async def lookup(fed: Federation, viewer: str, query: str) -> LookupResult:
    """Find what ``query`` names, as seen by the local person ``viewer`` (their relation to it)."""
    text = query.strip()
    if not text:
        raise InvalidInput("type a handle such as @name@example.social or !group@example.org, or paste a link")
    if len(text) > MAX_QUERY:
        raise InvalidInput(f"that is too long for a handle or a link (at most {MAX_QUERY} characters)")
    if text.startswith(("http://", "https://")):
        url = urldefrag(text).url
        if is_local(fed.urls, url):
            return await _local_url(fed, viewer, text, url)
        return await _remote_url(fed, viewer, text, url)
    try:
        parsed = discovery.parse_resource(text, fed.urls.domain)
    except discovery.BadResource:
        raise InvalidInput(
            f"{text!r} is not a handle or a link: write @name@host (people), !group@host (groups) or paste a URL"
        ) from None
    assert isinstance(parsed, discovery.Acct)
    if parsed.host == fed.urls.domain.lower():
        async with fed.sessions() as session:
            actor = await session.scalar(
                select(LocalActor).where(LocalActor.username == lookup_key(parsed.user),
                                         LocalActor.actor_type.in_(("person", "group")))
            )
            if actor is None:
                raise NotFound(f"there is nobody called {parsed.user} on this server")
            card = await _local_card(session, fed, viewer, actor)
        return LookupResult(query=text, actor=card, cards=[card])
    actor_url = await _webfinger_actor(fed, parsed)
    remote = await _fetch_actor(fed, actor_url, what=f"@{parsed.user}@{parsed.host}")
    card = await _remote_card(fed, viewer, remote)
    return LookupResult(query=text, actor=card, cards=[card])


async def _webfinger(fed: Federation, acct: discovery.Acct) -> dict[str, Any]:
    """The JRD of ``acct`` from its own server, with failures told apart."""
    who = f"{acct.user}@{acct.host}"
    query = quote(f"acct:{who}", safe=":@")
    url = f"{fed.remote.webfinger_scheme}://{acct.host}/.well-known/webfinger?resource={query}"
    try:
        return await fed.client.fetch_json(url)
    except HTTPStatusError as exc:
        if exc.status in (404, 410):
            raise NotFound(f"{acct.host} knows nobody called {acct.user}: check the spelling of @{who}") from None
        raise Unreachable(f"{acct.host} answered HTTP {exc.status} when asked who {who} is") from None
    except (FetchConnectionError, FetchTimeout) as exc:
        raise Unreachable(f"could not reach {acct.host}: {exc.reason}") from None
    except AddressNotAllowed:
        raise Unreachable(f"{acct.host} is a private or reserved network address; this server does not contact those") from None
    except FetchError as exc:
        raise Unreachable(f"{acct.host} did not answer like a fediverse server (WebFinger): {exc.reason}") from None


async def _webfinger_actor(fed: Federation, acct: discovery.Acct) -> str:
    jrd = await _webfinger(fed, acct)
    href = discovery.actor_link(jrd)
    if href is None:
        raise NotAnActor(f"{acct.user}@{acct.host} exists, but is not a person or group of the fediverse (no ActivityPub actor)")
    return urldefrag(href).url


async def _fetch(fed: Federation, url: str) -> dict[str, Any]:
    host = urlsplit(url).netloc
    try:
        return await fed.client.fetch_document(url)
    except HTTPStatusError as exc:
        if exc.status in (404, 410):
            raise NotFound(f"there is nothing at {url} (the server answered HTTP {exc.status})") from None
        raise Unreachable(f"{host} answered HTTP {exc.status} for {url}") from None
    except (FetchConnectionError, FetchTimeout) as exc:
        raise Unreachable(f"could not reach {host}: {exc.reason}") from None
    except AddressNotAllowed:
        raise Unreachable(f"{host} is a private or reserved network address; this server does not contact those") from None
    except BadContentType:
        raise NotAnActor(f"{url} is an ordinary web page, not a person, group or post of the fediverse") from None
    except FetchError as exc:
        raise Unreachable(f"{host} sent something unusable for {url}: {exc.reason}") from None


async def _fetch_actor(fed: Federation, url: str, *, what: str) -> RemoteActor:
    document = await _fetch(fed, url)
    if document.get("type") not in ACTOR_TYPES:
        raise NotAnActor(f"{what} is not a person or group (it is {_a(document.get('type'))})")
    return await _store_actor(fed, document, what)


async def _store_actor(fed: Federation, document: dict[str, Any], what: str) -> RemoteActor:
    try:
        data = parse_actor(document)
    except InvalidActor as exc:
        raise NotAnActor(f"{what} is not a usable person or group: {exc}") from None
    if origin(data.id) == origin(fed.urls.base):
        raise NotAnActor(f"{what} claims to be an actor of this server")
    return await fed.remote.store(data, document)


async def _remote_url(fed: Federation, viewer: str, text: str, url: str) -> LookupResult:
    document = await _fetch(fed, url)
    kind = document.get("type")
    if kind in ACTOR_TYPES:
        remote = await _store_actor(fed, document, url)
        card = await _remote_card(fed, viewer, remote)
        return LookupResult(query=text, actor=card, cards=[card])
    if not is_post(document):
        raise NotAnActor(f"{url} is not a person, group or post (it is {_a(kind)})")
    try:
        post = parse_object(document)
    except InvalidObject as exc:
        raise NotAnActor(f"{url} is not a post we can show: {exc}") from None
    author = await _card_for(fed, viewer, post.author)
    group = await _card_for(fed, viewer, post.audience) if post.audience else None
    card = PostCard(uri=post.id, url=post.url or post.id, title=post.name, content_html=post.content,
                    author=author, group=group)
    return LookupResult(query=text, post=card, cards=[c for c in (group, author) if c is not None])


async def _card_for(fed: Federation, viewer: str, uri: str) -> ActorCard | None:
    """A post's author or group (None when it cannot be had: the post is still worth showing)."""
    try:
        ref = await resolve_actor(fed, uri)
    except DomainError:
        return None
    if ref.local is not None:
        async with fed.sessions() as session:
            return await _local_card(session, fed, viewer, ref.local)
    assert ref.remote is not None
    return await _remote_card(fed, viewer, ref.remote)


async def _local_url(fed: Federation, viewer: str, text: str, url: str) -> LookupResult:
    async with fed.sessions() as session:
        actor = await local_actor_by_uri(session, fed.urls, url)
        if actor is not None:
            card = await _local_card(session, fed, viewer, actor)
            return LookupResult(query=text, actor=card, cards=[card])
        obj = await object_by_uri(session, url)
        if obj is None or not obj.local or obj.deleted or not obj.public:
            raise NotFound(f"there is no person, group or public post at {url} on this server")
    post = await _local_post_card(fed, viewer, obj)
    return LookupResult(query=text, post=post, cards=[c for c in (post.group, post.author) if c is not None])


async def _local_post_card(fed: Federation, viewer: str, obj: Object) -> PostCard:
    author = await _card_for(fed, viewer, obj.author_uri)
    group = await _card_for(fed, viewer, obj.audience_uri) if obj.audience_uri else None
    return PostCard(uri=obj.uri, url=obj.uri, title=obj.name, content_html=obj.content, author=author, group=group)


async def _local_card(session: Any, fed: Federation, viewer: str, actor: LocalActor) -> ActorCard:
    uri = uri_of(fed.urls, actor)
    is_group = actor.actor_type == "group"
    summary = escape(actor.summary) if is_group else accounts.bio_html(actor.summary)
    relation = "none"
    person = await session.scalar(select(LocalActor).where(LocalActor.username == viewer, LocalActor.actor_type == "person"))
    if person is not None:
        if person.id == actor.id:
            relation = "self"
        elif is_group:
            state = await session.scalar(
                select(Membership.state).where(Membership.group_id == actor.id, Membership.local_actor_id == person.id)
            )
            relation = state or "none"
        elif await person_blocks.blocks(session, person.id, uri):
            relation = "blocked"
        else:
            relation = await _follow_state(session, uri_of(fed.urls, person), uri)
    return ActorCard(
        uri=uri, kind="group" if is_group else "person", type="Group" if is_group else "Person",
        name=actor.display_name or actor.username, handle=f"{actor.username}@{fed.urls.domain}",
        summary_html=summary, url=uri, local=True, relation=relation,
    )


async def _remote_card(fed: Federation, viewer: str, remote: RemoteActor) -> ActorCard:
    async with fed.sessions() as session:
        relation = await _follow_state(session, fed.urls.person(viewer), remote.uri)
        if remote.actor_type != "Group":
            person_id = await session.scalar(select(LocalActor.id).where(LocalActor.username == viewer,
                                                                         LocalActor.actor_type == "person"))
            if person_id is not None and await person_blocks.blocks(session, person_id, remote.uri):
                relation = "blocked"
        suspended = await suspensions.is_suspended(session, remote.uri)
    handle = f"{remote.username}@{remote.domain}"
    return ActorCard(
        uri=remote.uri, kind="group" if remote.actor_type == "Group" else "person", type=remote.actor_type,
        name=remote.display_name or handle, handle=handle, summary_html=remote.summary,
        url=remote.url or remote.uri, local=False, relation=relation, suspended=suspended,
    )


async def _follow_state(session: Any, follower: str, followee: str) -> str:
    state = await session.scalar(
        select(Follow.state).where(Follow.follower_uri == follower, Follow.followee_uri == followee)
    )
    return state or "none"


# --------------------------------------------------------------------------------------------------
# Following


async def follow(fed: Federation, username: str, ref: str) -> tuple[str, str]:
    """Join the group or follow the person ``ref`` names; returns (state, what: "group" | "person")."""
    target = await resolve_actor(fed, ref)
    is_group = (target.local is not None and target.local.actor_type == "group") or (
        target.remote is not None and target.remote.actor_type == "Group"
    )
    if is_group:
        return await membership.join_group(fed, username, target.uri), "group"
    return await membership.follow_actor(fed, username, target.uri), "person"


async def unfollow(fed: Federation, username: str, ref: str) -> str:
    """Leave the group or unfollow the person; returns what it was ("group" | "person")."""
    target = await resolve_actor(fed, ref, fetch=False)
    if (target.local is not None and target.local.actor_type == "group") or (
        target.remote is not None and target.remote.actor_type == "Group"
    ):
        await membership.leave_group(fed, username, target.uri)
        return "group"
    await membership.unfollow_actor(fed, username, target.uri)
    return "person"


# --------------------------------------------------------------------------------------------------
# Remote follow (a visitor from another server)


async def remote_follow_url(fed: Federation, their_address: str, target_uri: str) -> str:
    """Where to send a visitor who typed ``their_address`` to follow our actor ``target_uri``."""
    async with fed.sessions() as session:
        target = await local_actor_by_uri(session, fed.urls, target_uri)
    if target is None:
        raise NotFound(f"there is no person or group {target_uri!r} on this server to follow")
    text = their_address.strip()
    if not text:
        raise InvalidInput("type your fediverse address, such as you@your.server")
    if len(text) > 300:
        raise InvalidInput("that is too long for a fediverse address (you@your.server)")
    try:
        parsed = discovery.parse_resource(text, fed.urls.domain)
    except discovery.BadResource:
        parsed = None
    if not isinstance(parsed, discovery.Acct) or ("." not in parsed.host and ":" not in parsed.host):
        raise InvalidInput(f"{text!r} is not a fediverse address: write it as you@your.server")
    if parsed.host == fed.urls.domain.lower():
        raise InvalidInput("that address is on this server: log in here and use the button on this page instead")
    jrd = await _webfinger(fed, parsed)
    template = discovery.subscribe_template(jrd)
    if template is None:
        raise NotAnActor(
            f"{parsed.host} does not offer following from other servers this way. Search for "
            f"{_handle_of(fed, target)} on {parsed.host} instead"
        )
    url = template.replace("{uri}", quote(target_uri, safe=""))
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Unreachable(f"{parsed.host} named a follow page this server will not send you to")
    return url


def _a(kind: object) -> str:
    name = kind if isinstance(kind, str) and kind.isascii() and kind.isalnum() else None
    if name is None:
        return "something else"
    return f"an {name[:40]}" if name[0] in "AEIOUaeiou" else f"a {name[:40]}"


def _handle_of(fed: Federation, actor: LocalActor) -> str:
    return f"@{actor.username}@{fed.urls.domain}"
