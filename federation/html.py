"""Allowlist HTML sanitising for everything that came from elsewhere (PROTOCOL.md "Validation").

Mastodon's strict set: only these tags, classes limited to microformats/mention/hashtag, links forced to
``rel="nofollow noopener"``, and only http/https/mailto URLs. Ammonia (nh3) does the parsing.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_TAGS = {
    "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
    "ul", "ol", "li", "ruby", "rt", "rp",
}
_ATTRIBUTES = {
    "a": {"href", "class", "title"},
    "span": {"class"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
_ALLOWED_CLASS = re.compile(r"^(h-\S+|p-\S+|u-\S+|dt-\S+|e-\S+|mention|hashtag|ellipsis|invisible)$")
# Absolute links only. A relative href ("/settings/delete", "//evil.example") from another server would
# point into our own site or be resolved against it; Mastodon's strict set drops them the same way.
_ABSOLUTE_LINK = re.compile(r"^(https?://[^/\s]|mailto:)", re.IGNORECASE)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        value = value.strip()
        return value if _ABSOLUTE_LINK.match(value) else None
    if attribute != "class":
        return value
    kept = [name for name in value.split() if _ALLOWED_CLASS.match(name)]
    return " ".join(kept) or None


_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def sanitize_html(html: str, *, headings: bool = False) -> str:
    """``headings``: keep h1-h6 too (a group's docs, whose structure is their headings; content.docs)."""
    return nh3.clean(
        html,
        tags=_TAGS | _HEADING_TAGS if headings else _TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
        strip_comments=True,
    )


def plain_text(text: str) -> str:
    """Names and other single-line fields: no markup at all (templates escape it again on output), and
    line breaks and runs of whitespace folded into single spaces."""
    return " ".join(html.unescape(nh3.clean(text, tags=set())).split())


TITLE_CHARS = 80
# Where a first sentence ends: . ! ? (or their full-width forms) followed by a space.
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s")
_LEADING_MENTIONS = re.compile(r"^(?:[@!]\S+(?:\s+|$))+")  # "@group@host Hello" names the group, not the topic
_BLOCK_END = re.compile(r"</(?:p|li|blockquote|pre|h[1-6])>|<br\s*/?>", re.IGNORECASE)


def text_title(content_html: str, limit: int = TITLE_CHARS) -> str:
    """A title for a post that has none (a Mastodon ``Note`` starting a group thread): its first line,
    or first sentence when that is shorter, as plain text without the mentions it opens with, cut at a word to ``limit`` characters with an
    ellipsis. Lemmy and PieFed name such posts from their text the same way. '' for an empty text."""
    lines = (_LEADING_MENTIONS.sub("", plain_text(part)) for part in _BLOCK_END.split(content_html or ""))
    first_line = next((line for line in lines if line), "")
    sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 1]
    if " " in cut[limit // 2:]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


# Raw HTML off: a member's Markdown can only produce what Markdown produces, then the allowlist applies.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")


def render_markdown(source: str, *, headings: bool = False) -> str:
    """Markdown -> HTML -> the allowlist (PROTOCOL.md "Validation": user Markdown rendered, then sanitised).
    ``headings``: the allowlist keeps h1-h6 (docs)."""
    if not source.strip():
        return ""
    return sanitize_html(_MARKDOWN.render(source), headings=headings).strip()
