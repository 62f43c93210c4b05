"""A group's settings, changed by its owners and admins, and told to the servers that keep a copy.

The form (web/routes/group_settings.py) sends every field at once: title, description and rules
(Markdown), avatar and banner images, kind, the kind of thread the composer offers first, who may start
threads (everyone / members / team) and whether the group is public or private. Every field is checked
before anything is written (``InvalidFields``, one message per field); a person who is not an owner or
admin of the group gets ``Forbidden``. The change and its ``Update{Group}`` (the whole actor document,
as for a person's profile: inbox_outbox.services.profiles.announce_actor) commit together, so the
group's remote members' servers hear of it; a Made Open node re-fetches the group from its origin.

Making a private group public shows the threads written while it was private to everyone on this
server's pages (copies already sent to members' servers stay addressed to members), so the form asks
for that to be confirmed; nothing changes without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from actors import media
from actors.errors import Forbidden, InvalidInput
from actors.group_pages import MAX_DESCRIPTION, MAX_RULES
from actors.local import GROUP_KINDS, MAX_TITLE
from actors.memberships import role_of, thread_starters
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content.kinds import THREAD_KINDS
from federation.html import plain_text
from federation.markdown import render_markdown
from inbox_outbox.services.common import load_group
from inbox_outbox.services.profiles import announce_actor
from storage.models import LocalActor

SETTINGS_ROLES = ("owner", "admin")
THREAD_STARTERS = ("everyone", "members", "team")


@dataclass(frozen=True)
class GroupSettings:
    title: str
    description: str = ""
    rules: str = ""
    kind: str = "community"
    default_kind: str = "discussion"
    thread_starters: str = "everyone"
    visibility: str = "public"
    avatar: media.Upload | None = None
    remove_avatar: bool = False
    banner: media.Upload | None = None
    remove_banner: bool = False
    confirm_public: bool = False  # "I understand the earlier threads become readable by everyone"


def form_values(group: LocalActor) -> dict[str, str]:
    """The settings as the form shows them before any change."""
    assert group.group is not None
    settings = group.group
    description = settings.description_source
    if description is None:  # a group from before the settings form: its description as plain text
        description = plain_text(group.summary or "")
    return {
        "title": group.display_name or group.username, "description": description, "rules": settings.rules or "",
        "kind": settings.kind, "default_kind": settings.default_kind or "discussion",
        "thread_starters": thread_starters(settings), "visibility": settings.visibility,
    }


async def may_change(session: AsyncSession, urls: Urls, group: LocalActor, username: str) -> bool:
    return await role_of(session, urls, group, urls.person(username)) in SETTINGS_ROLES


def _check(group: LocalActor, change: GroupSettings) -> dict[str, str]:
    assert group.group is not None
    errors: dict[str, str] = {}
    title = " ".join(change.title.split())
    if not title:
        errors["title"] = "give the group a title: how its name is shown to people"
    elif len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters (this has {len(title)})"
    for name, text, limit in (("description", change.description, MAX_DESCRIPTION), ("rules", change.rules, MAX_RULES)):
        if len(text.strip()) > limit:
            errors[name] = f"at most {limit} characters (this has {len(text.strip())})"
    if change.kind not in GROUP_KINDS:
        errors["kind"] = f"choose one of: {', '.join(GROUP_KINDS)}"
    if change.default_kind not in THREAD_KINDS:
        errors["default_kind"] = f"choose one of: {', '.join(THREAD_KINDS)}"
    if change.thread_starters not in THREAD_STARTERS:
        errors["thread_starters"] = "choose everyone, members or the team"
    if change.visibility not in ("public", "private"):
        errors["visibility"] = "choose public or private"
    elif change.visibility == "public" and group.group.visibility == "private" and not change.confirm_public:
        errors["visibility"] = ("making the group public lets everyone read the threads written while it was "
                                "private: tick the box to confirm, or keep it private")
    for name, upload, remove in (("avatar", change.avatar, change.remove_avatar),
                                 ("banner", change.banner, change.remove_banner)):
        if upload is not None and not remove:
            try:
                media.check_image(upload)
            except InvalidInput as exc:
                errors[name] = exc.message
    return errors


async def save(
    session: AsyncSession, urls: Urls, group_name: str, change: GroupSettings, *, by: str, media_dir: Path
) -> list[str]:
    """Apply the settings of ``group_name`` as its owner or admin ``by`` (a local username) and queue the
    ``Update{Group}``; returns the media files to discard once the transaction is committed."""
    group = await load_group(session, group_name)
    if not await may_change(session, urls, group, by):
        raise Forbidden(f"Only the owners and admins of {group.display_name or group.username} change its settings.")
    errors = _check(group, change)
    if errors:
        raise InvalidFields(errors)
    assert group.group is not None
    settings = group.group
    group.display_name = " ".join(change.title.split())
    description = change.description.replace("\r\n", "\n").strip()
    settings.description_source = description
    group.summary = render_markdown(description) if description else ""
    settings.rules = change.rules.replace("\r\n", "\n").strip()
    settings.kind = change.kind
    settings.default_kind = change.default_kind
    settings.posting_restricted_to_mods = change.thread_starters == "team"
    settings.members_start_threads = change.thread_starters == "members"
    settings.visibility = change.visibility
    group.avatar, discard = media.replace_image(media_dir, group.avatar, change.avatar, change.remove_avatar)
    settings.banner, dropped = media.replace_image(media_dir, settings.banner, change.banner, change.remove_banner)
    await session.flush()
    await announce_actor(session, urls, group)
    return discard + dropped

