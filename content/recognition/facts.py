"""The facts points come from, one source per kind of fact; every source reads what happened, never a
stored score, so undoing a fact (a vote withdrawn, an answer unaccepted, a post deleted, an idea moved off
"done") takes its points with it on the next read.

Built-in sources: accepted answers (content.answers), votes on replies (content.votes), ideas reaching
"done" (content.statuses) and kudos (content.recognition.kudos). Another feature adds its own with
``register``, e.g. the projects feature's "tasks completed in a project" (kind ``task``, and
``project_finished`` for the "Project finisher" badge):

    @facts.register("task")
    async def tasks_done(session, urls, group_id, weights) -> list[Fact]: ...

Rules shared by the sources that have a giver (votes, kudos): nothing for giving to yourself, nothing
from an account of the receiver's own server created after the post (a fresh sock puppet); the daily cap
per giver is the ledger's (content.recognition.ledger).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.group_pages import TEAM_ROLES, team_roles
from actors.urls import Urls
from content.recognition.weights import Weights
from content.store import aware
from storage.models import Kudos, LocalActor, Object, Reaction, RemoteActor


@dataclass(frozen=True)
class Fact:
    member_uri: str  # who earns (an actor id, local or remote)
    kind: str  # answer | vote | idea | kudos | task | project_finished | ...
    points: int  # before the daily cap
    at: datetime
    reason: str
    link: str  # the post (or other object) it is about
    giver_uri: str | None = None  # votes and kudos: capped per giver and day


FactSource = Callable[[AsyncSession, Urls, int, Weights], Awaitable[list[Fact]]]
SOURCES: dict[str, FactSource] = {}


def register(name: str) -> Callable[[FactSource], FactSource]:
    """Add a source of facts (its name is for logs and tests; one source per name)."""
    def add(source: FactSource) -> FactSource:
        SOURCES[name] = source
        return source
    return add


async def all_facts(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    found: list[Fact] = []
    for source in SOURCES.values():
        found.extend(await source(session, urls, group_id, weights))
    return found


def _host(uri: str) -> str:
    return urlsplit(uri).netloc.lower()


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


async def account_created(session: AsyncSession, urls: Urls, uris: set[str]) -> dict[str, datetime]:
    """When each account was created, where we know: ours from the row, remote ones from their actor
    document's ``published`` (Mastodon, Lemmy and Made Open send it)."""
    prefix = urls.person("")
    local = {uri[len(prefix):]: uri for uri in uris if uri.startswith(prefix)}
    found: dict[str, datetime] = {}
    if local:
        rows = await session.execute(select(LocalActor.username, LocalActor.created_at)
                                     .where(LocalActor.username.in_(list(local)), LocalActor.actor_type == "person"))
        found.update({local[name]: aware(created) for name, created in rows})
    remote = [uri for uri in uris if not uri.startswith(prefix)]
    if remote:
        for uri, document in await session.execute(select(RemoteActor.uri, RemoteActor.document)
                                                     .where(RemoteActor.uri.in_(remote))):
            created = _parse_time((document or {}).get("published"))
            if created is not None:
                found[uri] = created
    return found


def counts(giver: str, receiver: str, post_published: datetime, created: dict[str, datetime]) -> bool:
    """Whether a vote or kudos of ``giver`` for ``receiver``'s post earns anything."""
    if giver == receiver:
        return False
    made = created.get(giver)
    return not (made is not None and _host(giver) == _host(receiver) and made > aware(post_published))


@register("answers")
async def accepted_answers(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    answer = aliased(Object)
    rows = await session.execute(
        select(Object.uri, Object.name, Object.author_uri, Object.answered_at, answer.uri, answer.author_uri,
               answer.published)
        .join(answer, answer.uri == Object.accepted_answer_uri)
        .where(Object.group_id == group_id, Object.kind == "question", Object.deleted.is_(False),
               answer.deleted.is_(False))
    )
    return [
        Fact(member_uri=author, kind="answer", points=weights.of("answer"),
             at=aware(answered_at or published), reason=f"Accepted answer to “{title or 'a question'}”", link=uri)
        for _, title, asker, answered_at, uri, author, published in rows
        if author != asker  # answering your own question earns nothing
    ]


@register("votes")
async def reply_votes(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    rows = list(await session.execute(
        select(Reaction.actor_uri, Reaction.kind, Reaction.created_at, Object.uri, Object.author_uri, Object.published)
        .join(Object, Object.uri == Reaction.object_uri)
        .where(Object.group_id == group_id, Object.in_reply_to_uri.is_not(None), Object.deleted.is_(False))
    ))
    created = await account_created(session, urls, {row[0] for row in rows})
    weight = weights.of("vote")
    return [
        Fact(member_uri=author, kind="vote", points=weight if kind == "like" else -weight, at=aware(at),
             reason="Up-vote on your reply" if kind == "like" else "Down-vote on your reply", link=uri, giver_uri=voter)
        for voter, kind, at, uri, author, published in rows
        if counts(voter, author, published, created)
    ]


@register("ideas")
async def ideas_done(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    rows = await session.execute(
        select(Object.uri, Object.name, Object.author_uri, Object.answered_at, Object.published)
        .where(Object.group_id == group_id, Object.kind == "idea", Object.status == "done",
               Object.in_reply_to_uri.is_(None), Object.deleted.is_(False))
    )
    return [
        Fact(member_uri=author, kind="idea", points=weights.of("idea"), at=aware(done_at or published),
             reason=f"Your idea “{title or 'untitled'}” was done", link=uri)
        for uri, title, author, done_at, published in rows
    ]


@register("kudos")
async def kudos_given(session: AsyncSession, urls: Urls, group_id: int, weights: Weights) -> list[Fact]:
    rows = list(await session.execute(
        select(Kudos.giver_uri, Kudos.created_at, Object.uri, Object.author_uri, Object.published)
        .join(Object, Object.id == Kudos.object_id)
        .where(Kudos.group_id == group_id, Object.deleted.is_(False))
    ))
    created = await account_created(session, urls, {row[0] for row in rows})
    roles = await team_roles(session, urls, group_id)
    made: list[Fact] = []
    for giver, at, uri, author, published in rows:
        if not counts(giver, author, published, created):
            continue
        team = roles.get(giver) in TEAM_ROLES
        made.append(Fact(member_uri=author, kind="team_kudos" if team else "kudos",
                         points=weights.of("team_kudos" if team else "kudos"), at=aware(at),
                         reason="Kudos from the team" if team else "Kudos from a member", link=uri, giver_uri=giver))
    return made
