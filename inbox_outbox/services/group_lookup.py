"""Finding a group by what a person pasted: ``!name@host``, ``@name@host``, ``name@host`` or a URL.

Used by the search-and-join box of the group directory. A group of another server is resolved with
WebFinger and a signed fetch (actors.remote, through services.refs) and cached; one of ours is found in
the database. Anything else (a person, nothing at that address, an unreachable server) is an error
with a message for the page.
"""

from __future__ import annotations

from dataclasses import dataclass

from actors.errors import InvalidInput
from federation import discovery
from inbox_outbox.federation import Federation
from inbox_outbox.services.refs import resolve_actor

MAX_ADDRESS = 2048


@dataclass(frozen=True)
class FoundGroup:
    uri: str
    local_name: str | None = None  # set for a group of this server


def looks_like_address(text: str) -> bool:
    """True for what names a group elsewhere (or here) rather than words to search for."""
    text = text.strip()
    if not text or " " in text:
        return False
    if text.startswith(("http://", "https://")):
        return True
    try:
        discovery.parse_resource(text, "")
    except discovery.BadResource:
        return False
    return True


async def find_group(fed: Federation, address: str) -> FoundGroup:
    text = address.strip()
    if len(text) > MAX_ADDRESS:
        raise InvalidInput("that address is too long")
    if not looks_like_address(text):
        raise InvalidInput("give the group's address, like !name@example.org or its URL")
    ref = await resolve_actor(fed, text)  # DomainError (404, 502, ...) with a message when it fails
    if ref.local is not None:
        if ref.local.actor_type != "group":
            raise InvalidInput(f"{text} is a person, not a group")
        return FoundGroup(uri=ref.uri, local_name=ref.local.username)
    assert ref.remote is not None
    if ref.remote.actor_type != "Group":
        raise InvalidInput(f"{text} is a {ref.remote.actor_type}, not a group")
    return FoundGroup(uri=ref.uri)
