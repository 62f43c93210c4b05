"""Mentions in what our people write: ``@name`` (someone here) and ``@name@host`` (anyone, anywhere).

This module is the text side, on plain data: which handles a Markdown body names (:func:`written_handles`)
and the rendered HTML with the resolved ones linked (:func:`link_mentions`), in the markup Mastodon
writes (``app/lib/text_formatter.rb``, ``mention_html``): ``<span class="h-card"><a href="<profile>"
class="u-url mention">@<span>name</span></a></span>``, which every peer's sanitiser keeps (PROTOCOL.md
"Validation": the classes ``h-card``, ``u-url`` and ``mention`` are allowed). Resolving a handle to an
actor (a local person, or WebFinger for a remote one) is inbox_outbox.services.mentions; a handle that
does not resolve stays plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from collections.abc import Mapping

from federation.html import sanitize_html

MAX_MENTIONS = 20  # looked up per post at most (each remote one may cost a WebFinger request and a fetch)

# ``@name`` or ``@name@host[:port]``, not inside a word, an address (me@example.org) or a URL path;
# a name ends on a letter, digit or underscore (Mastodon's ``Account::USERNAME_RE`` allows inner dots
# and dashes), a host on a letter or digit, so a sentence's full stop is not taken along.
HANDLE = re.compile(
    r"(?<![\w@/.:+-])@(?P<user>[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)"
    r"(?:@(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?))?(?![\w@])"
)
# Where a mention is not linked: inside a link already, code, preformatted text.
_SKIP = {"a", "code", "pre"}
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"^</?\s*([a-zA-Z0-9]+)")


@dataclass(frozen=True)
class Written:
    """A handle as the text writes it: ``user`` and (for ``@name@host``) ``host``, lower-cased."""

    user: str
    host: str | None

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.user, self.host)


@dataclass(frozen=True)
class Mentioned:
    """A handle resolved to an actor: its id, the page a link goes to, and the full ``@user@host``
    (the ``name`` of its ``Mention`` tag, as Mastodon writes it for remote accounts)."""

    uri: str
    url: str
    handle: str
    local: bool


def _key(user: str, host: str | None, local_domain: str) -> tuple[str, str | None]:
    host = host.lower() if host else None
    return (user.lower(), None if host == local_domain.lower() else host)


def written_handles(source: str, local_domain: str) -> list[Written]:
    """The distinct handles ``source`` names, in order, at most ``MAX_MENTIONS``; ``@name@<our domain>``
    counts as ``@name``."""
    found: dict[tuple[str, str | None], Written] = {}
    for match in HANDLE.finditer(source):
        user, host = _key(match["user"], match["host"], local_domain)
        found.setdefault((user, host), Written(user=user, host=host))
        if len(found) >= MAX_MENTIONS:
            break
    return list(found.values())


def _link(mentioned: Mentioned, shown: str) -> str:
    return (f'<span class="h-card"><a href="{escape(mentioned.url)}" class="u-url mention">'
            f"@<span>{escape(shown)}</span></a></span>")


def link_mentions(
    html: str, resolved: Mapping[tuple[str, str | None], Mentioned], local_domain: str
) -> tuple[str, list[Mentioned]]:
    """``html`` (rendered, sanitised) with each resolved handle linked, outside links and code; and the
    actors actually linked, in order (only those become ``Mention`` tags)."""
    if not resolved or "@" not in html:
        return html, []
    used: dict[str, Mentioned] = {}
    skipping: list[str] = []

    def replace(match: re.Match[str]) -> str:
        mentioned = resolved.get(_key(match["user"], match["host"], local_domain))
        if mentioned is None:
            return match.group(0)
        used.setdefault(mentioned.uri, mentioned)
        return _link(mentioned, match.group(0)[1:])

    parts = _TAG.split(html)
    for index, part in enumerate(parts):
        if part.startswith("<"):
            name = _TAG_NAME.match(part)
            if name and name.group(1).lower() in _SKIP:
                if part.startswith("</"):
                    if skipping:
                        skipping.pop()
                elif not part.endswith("/>"):
                    skipping.append(name.group(1).lower())
        elif not skipping and "@" in part:
            parts[index] = HANDLE.sub(replace, part)
    if not used:
        return html, []
    return sanitize_html("".join(parts)), list(used.values())
