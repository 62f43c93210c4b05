"""Recognition's actions (issue #17): kudos, weights, badges, rewards and redemptions, and publishing a
badge to a member on another server. The rules are content.recognition's; this module checks who may
act, and queues the activities in the caller's transaction (posts.py's way).

Who may do what in a group: members give kudos and redeem; the team (owner, admin, moderator, staff)
grants badges and fulfils redemptions; owners and admins define rewards; owners set weights and export.

A new badge of a member on another server goes out as the group's ``Add{Award}`` (their Made Open node
shows it on their profile), and, only when the member opted in (``#BadgeNotes`` in their profile) and
their server does not speak Made Open, as a readable mention ``Note`` ("You earned …").
"""

from __future__ import annotations

import html
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors import notifications
from actors.errors import Conflict, Forbidden, InvalidInput, NotFound
from actors.group_pages import TEAM_ROLES
from actors.memberships import can_read, is_banned, role_of
from actors.urls import Urls
from content.recognition import badges, export, kudos, rewards, weights
from content.store import group_of, object_by_uri
from federation.activities import activity, iso
from federation.context import AS2, MADEOPEN_NS
from federation.recognition_terms import add_award, render_award, speaks_made_open, wants_badge_notes
from inbox_outbox.ids import is_local, new_activity_id
from inbox_outbox.outbox import publish
from inbox_outbox.services import recognition_sweep
from inbox_outbox.services.common import uri_of
from storage.models import BadgeAward, Kudos, LocalActor, Object, Project, Redemption, RemoteActor, Reward, utcnow

OWNER_ROLES = ("owner",)
REWARD_ROLES = ("owner", "admin")


async def require_role(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str, roles: tuple[str, ...],
                       what: str) -> str:
    role = await role_of(session, urls, group, actor_uri)
    if role not in roles:
        raise Forbidden(f"only the group's {what}")
    return role


async def require_member(session: AsyncSession, urls: Urls, group: LocalActor, actor_uri: str) -> None:
    if await role_of(session, urls, group, actor_uri) is None:
        raise Forbidden("only members of the group take part in its recognition")


# -- kudos -------------------------------------------------------------------------------------------


async def give_kudos(session: AsyncSession, urls: Urls, actor: LocalActor, object_uri: str) -> Kudos | None:
    """Kudos for a post in one of our groups (recorded here), or in a Made Open group of another server
    that ``actor`` belongs to (sent there as ``Like{kudos}``: the points live with that group; None)."""
    post = await object_by_uri(session, object_uri)
    if post is None:
        raise NotFound(f"no post {object_uri} here")
    group = await group_of(session, post)
    if group is None:
        await send_kudos(session, urls, actor, post)
        return None
    giver = uri_of(urls, actor)
    await require_member(session, urls, group, giver)
    if await is_banned(session, urls, group, giver):
        raise Forbidden("you are banned from this group")
    row = await kudos.give(session, post, giver)
    await award_and_publish(session, urls, group)
    return row


async def send_kudos(session: AsyncSession, urls: Urls, actor: LocalActor, post: Object) -> None:
    giver = uri_of(urls, actor)
    group = await kudos.remote_group(session, urls, post, giver)
    if group is None:
        raise InvalidInput("kudos are for posts in groups you belong to (here, or Made Open groups elsewhere)")
    if post.author_uri == giver:
        raise InvalidInput("you cannot give kudos to your own post")
    if await kudos.sent(session, giver, [post.uri]):
        raise Conflict("you already gave kudos for this post")
    like = activity(new_activity_id(urls), "Like", giver, post.uri, to=[group.uri], cc=[post.author_uri],
                    audience=group.uri, published=utcnow(), kudos=True)
    like["@context"] = [AS2, {"madeopen": MADEOPEN_NS, "kudos": "madeopen:kudos"}]
    await publish(session, urls, actor, like, [group.inbox])


async def remote_kudos(session: AsyncSession, urls: Urls, group: LocalActor, post_uri: str, giver_uri: str,
                       activity_uri: str | None) -> Kudos:
    """Kudos from another server (federation.recognition_terms.is_kudos); the handler drops what fails."""
    post = await object_by_uri(session, post_uri)
    if post is None or post.group_id != group.id:
        raise NotFound(f"no post {post_uri} in {group.username}")
    if await is_banned(session, urls, group, giver_uri) or not await can_read(session, urls, group, giver_uri):
        raise Forbidden(f"{giver_uri} may not take part in {group.username}")
    await require_member(session, urls, group, giver_uri)
    row = await kudos.give(session, post, giver_uri, activity_uri=activity_uri)
    await award_and_publish(session, urls, group)
    return row


# -- badges ------------------------------------------------------------------------------------------


def award_uri(urls: Urls, group: LocalActor, award: BadgeAward) -> str:
    return f"{urls.group(group.username)}/badges/{award.id}"


async def award_and_publish(session: AsyncSession, urls: Urls, group: LocalActor) -> list[BadgeAward]:
    """Award the automatic badges now due in ``group`` and tell members on other servers."""
    new = await badges.award_due(session, urls, group.id)
    for award in new:
        await publish_award(session, urls, group, award)
    return new


async def project_badges(session: AsyncSession, urls: Urls, project_group: LocalActor) -> None:
    """A task done or a project closed (issue #14): award what is due in the project's group and in the
    group its idea or concern came from (content.recognition.project_facts count the tasks in both)."""
    await award_and_publish(session, urls, project_group)
    project = await session.get(Project, project_group.id)
    thread = await object_by_uri(session, project.origin_uri) if project and project.origin_uri else None
    origin = await session.get(LocalActor, thread.group_id) if thread and thread.group_id else None
    if origin is not None and origin.group is not None:
        await award_and_publish(session, urls, origin)


async def publish_award(session: AsyncSession, urls: Urls, group: LocalActor, award: BadgeAward) -> None:
    if is_local(urls, award.member_uri):  # our own people's profiles read the award itself
        await notifications.badge_awarded(session, urls, award.member_uri, urls.group(group.username),
                                          award_uri(urls, group, award))
        return
    member = await session.scalar(select(RemoteActor).where(RemoteActor.uri == award.member_uri))
    if member is None:
        return
    group_uri = urls.group(group.username)
    document = render_award(award_uri(urls, group, award), group_uri, member.uri, award.badge, award.name,
                            award.reason, award.created_at)
    target = (member.document or {}).get("badges")
    add = add_award(new_activity_id(urls), group_uri, document, target if isinstance(target, str) else member.uri)
    await publish(session, urls, group, add, [member.inbox])
    if not speaks_made_open(member.document or {}) and wants_badge_notes(member.document or {}):
        await publish(session, urls, group, _badge_note(urls, group, member, award), [member.inbox])


def _badge_note(urls: Urls, group: LocalActor, member: RemoteActor, award: BadgeAward) -> dict:
    group_uri = urls.group(group.username)
    title = group.display_name or group.username
    handle = f"@{member.username}@{member.domain}"
    text = (f'<p><span class="h-card"><a href="{html.escape(member.url or member.uri)}" class="u-url mention">'
            f'{html.escape(handle)}</a></span> You earned the badge “{html.escape(award.name)}” in '
            f'{html.escape(title)}: {html.escape(award.reason)}</p>')
    note = {"id": f"{award_uri(urls, group, award)}/note", "type": "Note", "attributedTo": group_uri,
            "to": [member.uri], "content": text, "published": iso(award.created_at),
            "tag": [{"type": "Mention", "href": member.uri, "name": handle}]}
    return activity(new_activity_id(urls), "Create", group_uri, note, to=[member.uri])


async def grant_badge(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor, member_uri: str,
                      name: str, reason: str) -> BadgeAward:
    granter = uri_of(urls, actor)
    await require_role(session, urls, group, granter, TEAM_ROLES, "team grants badges")
    if await role_of(session, urls, group, member_uri) is None:
        raise InvalidInput("badges go to members of the group")
    award = await badges.grant(session, group.id, member_uri, name, reason, granter)
    await publish_award(session, urls, group, award)
    return award


# -- weights, rewards, redemptions, export -----------------------------------------------------------


async def set_weights(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor,
                      values: dict[str, object]) -> weights.Weights:
    await require_role(session, urls, group, uri_of(urls, actor), OWNER_ROLES, "owners set the points")
    checked = weights.check_weights(values)
    await weights.save(session, group.id, checked)
    return checked


async def create_reward(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor, name: str,
                        cost: object, description: str) -> Reward:
    await require_role(session, urls, group, uri_of(urls, actor), REWARD_ROLES, "owners and admins define rewards")
    return await rewards.create(session, group.id, name, cost, description)


async def withdraw_reward(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor,
                          reward_id: int) -> Reward:
    await require_role(session, urls, group, uri_of(urls, actor), REWARD_ROLES, "owners and admins change rewards")
    return await rewards.withdraw(session, group.id, reward_id)


async def redeem(session: AsyncSession, urls: Urls, group: LocalActor, member_uri: str, reward_id: int) -> Redemption:
    """Open its own transaction with this (content.recognition.rewards takes the group's lock first)."""
    await rewards.lock_group(session, group.id)
    await require_member(session, urls, group, member_uri)
    return await rewards.redeem(session, urls, group.id, reward_id, member_uri)


async def fulfil(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor,
                 redemption_id: int) -> Redemption:
    by = uri_of(urls, actor)
    await require_role(session, urls, group, by, TEAM_ROLES, "team fulfils redemptions")
    return await rewards.fulfil(session, group.id, redemption_id, by)


async def export_csv(session: AsyncSession, urls: Urls, actor: LocalActor, group: LocalActor,
                     since: datetime | None, until: datetime | None) -> str:
    await require_role(session, urls, group, uri_of(urls, actor), OWNER_ROLES, "owners export points")
    return await export.points_csv(session, urls, group.id, since, until)


# The pruner's round lives in its own module, light to import (an idle node never loads this one).
sweep = recognition_sweep.sweep
