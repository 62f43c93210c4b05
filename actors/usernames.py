"""Username rules, like Mastodon's: ``[a-z0-9_]{1,30}``, case-insensitive unique, some names reserved."""

from __future__ import annotations

import re

from actors.errors import InvalidInput

_USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")

# Names that would shadow routes, the instance actor, or invite impersonation.
RESERVED = frozenset(
    {
        "actor", "admin", "administrator", "root", "system", "instance", "support", "help", "abuse",
        "postmaster", "webmaster", "hostmaster", "security", "noreply", "no_reply", "moderator", "mod",
        "staff", "madeopen", "made_open", "api", "inbox", "outbox", "users", "groups", "settings", "login",
        "logout", "signup", "register", "static", "media", "well_known", "nodeinfo", "webfinger", "about",
        "search", "explore", "public", "local", "home", "notifications",
    }
)


def normalise_username(raw: str) -> str:
    """Validate and lower-case a new username; raise InvalidInput with the reason."""
    name = raw.strip().lower()
    if not _USERNAME_RE.match(name):
        raise InvalidInput(
            f"invalid name {raw!r}: use 1 to 30 characters, letters a-z, digits and underscore only"
        )
    if name in RESERVED:
        raise InvalidInput(f"the name {name!r} is reserved")
    return name


def lookup_key(raw: str) -> str:
    """The form a name is looked up by (case-insensitive)."""
    return raw.strip().lower()
