"""Allowlist HTML sanitising for everything that came from elsewhere (PROTOCOL.md "Validation").

Mastodon's strict set: only these tags, classes limited to microformats/mention/hashtag, links forced to
``rel="nofollow noopener"``, and only http/https/mailto URLs. Ammonia (nh3) does the parsing.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

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


def filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        value = value.strip()
        return value if _ABSOLUTE_LINK.match(value) else None
    if attribute != "class":
        return value
    kept = [name for name in value.split() if _ALLOWED_CLASS.match(name)]
    return " ".join(kept) or None


def clean(html: str, tags: set[str], attributes: dict[str, set[str]],
          attribute_filter: Callable[[str, str, str], str | None]) -> str:
    """nh3 with one policy for links, schemes and comments, whichever allowlist of tags applies (remote
    HTML here, our own Markdown's wider one in federation.markdown)."""
    # Imported where HTML is first cleaned, not with this module: its Rust library is ~1.5 MB resident
    # (issue #13); after the first call the import is a lookup in sys.modules.
    import nh3

    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        attribute_filter=attribute_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
        strip_comments=True,
    )


# The version of the remote policy above (tags, attributes, classes, links). Remote HTML is sanitised once,
# when it arrives, and its row records this number (Object.sanitised_version); pages show a row with the
# current number as it is stored (issue #13), and sanitise anything older again. Bump it whenever the
# policy gets stricter: content.resanitise then cleans the older rows again in batches.
SANITISE_POLICY_VERSION = 1


def sanitize_html(html: str) -> str:
    return clean(html, _TAGS, _ATTRIBUTES, filter_attribute)


def stored_html(html: str, version: int | None) -> str:
    """Remote HTML as stored, safe to show: as it is when the current policy made it, else sanitised again
    (a row stored before versions were recorded, or under an older, laxer policy)."""
    return html if version == SANITISE_POLICY_VERSION else sanitize_html(html)


def plain_text(text: str) -> str:
    """Names and other single-line fields: no markup at all (templates escape it again on output), and
    line breaks and runs of whitespace folded into single spaces."""
    import nh3  # on first use, as in clean()

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
