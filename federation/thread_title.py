"""A thread's title in the AS2 we send: ``name`` for Lemmy-family peers, and the first line of ``content``
for everyone else (PROTOCOL.md "Thread titles", where the peers' code that decides this is cited).

In short: Lemmy, PieFed and Mbin take a thread's title from ``name`` and its body from ``source`` (the
Markdown) before ``content``. Mastodon shows a ``Page`` as its ``name`` plus a link, never ``content``;
Misskey never shows ``name`` (only ``summary``, as a content warning, and ``content``); GoToSocial shows
``summary``, else ``name``, as a content warning above ``content``. Repeating the title as the first
paragraph of ``content`` makes it readable text on Misskey and in GoToSocial's expanded post, changes
nothing on Mastodon, and Lemmy-family peers never see it twice because they read ``source``.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import html

from federation.html import sanitize_html


def title_line(name: str) -> str:
    """The title as a paragraph of strong text (Mastodon's sanitiser keeps ``p`` and ``strong``;
    Misskey turns ``strong`` into bold)."""
    return f"<p><strong>{html.escape(name, quote=False)}</strong></p>"


def titled_content(name: str, content: str) -> str:
    """The ``content`` peers display: the title line, then the body (the body alone when untitled)."""
    return title_line(name) + content if name else content


def without_title_line(name: str, content: str) -> str:
    """The body of a sanitised ``content`` made by :func:`titled_content`: a Made Open node receiving
    another's thread shows the title once, as its title. Other content is returned unchanged."""
    if not name:
        return content
    line = sanitize_html(title_line(name))
    return content[len(line):] if content.startswith(line) else content
