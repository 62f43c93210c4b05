"""Who may speak for a remote group: the checks FEP-1b12 ("Group moderation") asks of group followers.

A moderation activity (Block, Add/Remove, Lock, their Undo) about a remote group is accepted when

- the group itself sent or announced it ("followers MUST verify that the moderation activity was
  announced by the group"), or
- its actor sent it directly and is on the group's own server (FEP-1b12: implementations SHOULD accept
  moderation from the group's server, presumably its admins; Lemmy does the same), or
- its actor sent it directly and is listed in the group's moderators collection (``attributedTo`` /
  ``moderators``), fetched from the group's origin. Lemmy sends a ban straight to the banned user's
  inbox this way, without an Announce.
"""

from __future__ import annotations

import logging
from typing import Any

from actors.errors import DomainError
from federation.activities import object_id
from federation.context import PUBLIC
from federation.http_errors import FetchError
from federation.remote_actor import origin
from inbox_outbox.dereference import FetchBudget
from inbox_outbox.federation import Federation
from inbox_outbox.ids import is_local
from storage.models import RemoteActor

log = logging.getLogger(__name__)
_MAX_MODERATOR_PAGES = 3


def addressed_ids(activity: dict[str, Any]) -> list[str]:
    """``audience`` first (FEP-1b12), then ``to``/``cc``: where a group names itself on an activity."""
    found: list[str] = []
    for key in ("audience", "to", "cc"):
        value = activity.get(key)
        for item in value if isinstance(value, list) else [value]:
            uri = object_id(item)
            if uri and uri.startswith(("http://", "https://")) and uri != PUBLIC and uri not in found:
                found.append(uri)
    return found


async def resolve_remote_group(fed: Federation, uri: str) -> RemoteActor | None:
    """The remote Group actor at ``uri`` (cached or fetched), or None if it is not one."""
    if is_local(fed.urls, uri):
        return None
    try:
        actor = await fed.remote.resolve(uri)
    except DomainError as exc:
        log.info("not a usable remote group %s: %s", uri, exc.message)
        return None
    return actor if actor.actor_type == "Group" else None


def collection_url(group: RemoteActor, *names: str) -> str | None:
    """A collection the group document names (``featured``, ``moderators``...), on the group's origin only."""
    for name in names:
        url = object_id(group.document.get(name))
        if url and origin(url) == origin(group.uri):
            return url
    return None


def moderators_url(group: RemoteActor) -> str | None:
    # Lemmy: attributedTo is the moderators collection (FEP-1b12); it also sets `moderators`.
    return collection_url(group, "moderators", "attributedTo")


def featured_url(group: RemoteActor) -> str | None:
    return collection_url(group, "featured")


async def remote_moderators(fed: Federation, group: RemoteActor, budget: FetchBudget) -> set[str]:
    """Actor ids in the group's moderators collection (inline items or up to a few pages)."""
    url = moderators_url(group)
    if url is None:
        return set()
    found: set[str] = set()
    page: object = url
    for _ in range(_MAX_MODERATOR_PAGES):
        if isinstance(page, str):
            if origin(page) != origin(group.uri):
                break
            budget.spend(page)
            try:
                page = await fed.client.fetch_document(page)
            except FetchError as exc:
                log.info("could not fetch moderators of %s: %s", group.uri, exc)
                break
        if not isinstance(page, dict):
            break
        items = page.get("orderedItems", page.get("items"))
        if isinstance(items, list):
            found.update(uri for uri in (object_id(item) for item in items) if uri)
            page = page.get("next")
        else:
            page = page.get("first")
        if page is None:
            break
    return found


async def speaks_for_group(
    fed: Federation, group: RemoteActor, vouching_uri: str, activity: dict[str, Any], budget: FetchBudget
) -> bool:
    """True when the moderation ``activity`` about ``group`` may be trusted (see the module docstring).

    ``vouching_uri`` is who delivered it to us: the verified signer, or the group when the activity came
    inside the group's Announce.
    """
    if vouching_uri == group.uri:
        return True
    actor = object_id(activity.get("actor"))
    if actor is None or actor != vouching_uri:
        return False
    if origin(actor) == origin(group.uri):
        return True
    return actor in await remote_moderators(fed, group, budget)
