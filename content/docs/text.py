"""What a doc may say, its sections (headings) and its HTML.

Docs are Markdown rendered by the same renderer as posts (federation.html: raw HTML off, then the
allowlist), with headings kept: a doc without its headings loses its structure, and section comments
anchor to them. Each heading gets an id (a slug of its text, ``-2``, ``-3`` for repeats) so a comment
can link to its section. The ids are added after sanitising, from the Markdown's own heading tokens,
so nothing the author typed reaches an attribute.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from actors.node_settings import InvalidFields
from federation.markdown import render_markdown

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

MAX_DOC_TITLE = 200
MAX_DOC_BODY = 250_000  # characters: a long handbook chapter; the bench renders and diffs 200 KB
MAX_SUMMARY = 300
MAX_TAGS = 10
MAX_TAG = 40
CONFLICT_MARKERS = ("<<<<<<< ", "=======", ">>>>>>> ")

_SLUG_DROP = re.compile(r"[^a-z0-9]+")
_HEADING_TAG = re.compile(r"<h([1-6])>")
_TAG = re.compile(r"^[\w-]+$")


@cache
def _headings() -> MarkdownIt:
    """A plain CommonMark parser for the headings, built on first use (markdown-it stays out of an idle
    node's memory: federation.markdown)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


@dataclass(frozen=True)
class Section:
    anchor: str  # the heading's id on the page
    title: str
    level: int


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _SLUG_DROP.sub("-", folded).strip("-")[:60] or "section"


def sections(body: str) -> list[Section]:
    """The headings of ``body`` in order, each with a unique anchor."""
    found: list[Section] = []
    seen: dict[str, int] = {}
    tokens = _headings().parse(body or "")
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        title = " ".join(tokens[index + 1].content.split())
        base = "s-" + slug(title)
        seen[base] = seen.get(base, 0) + 1
        anchor = base if seen[base] == 1 else f"{base}-{seen[base]}"
        found.append(Section(anchor=anchor, title=title, level=int(token.tag[1])))
    return found


def render(body: str) -> str:
    """The doc's HTML: Markdown through the posts' renderer and allowlist, headings with their ids."""
    anchors = iter(section.anchor for section in sections(body))
    html = render_markdown(body)

    def with_id(match: re.Match[str]) -> str:
        anchor = next(anchors, None)
        return f'<h{match.group(1)} id="{anchor}">' if anchor else match.group(0)

    return _HEADING_TAG.sub(with_id, html)


def has_conflict_markers(body: str) -> bool:
    lines = body.splitlines()
    return all(any(line.startswith(marker) for line in lines) for marker in CONFLICT_MARKERS)


def check_doc(title: str, body: str, summary: str = "") -> tuple[str, str, str]:
    """Title (one line, required), body (Markdown, may be empty), the revision's summary; InvalidFields
    per field, nothing written."""
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip("\n")
    summary = " ".join((summary or "").split())
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "give the doc a title"
    elif len(title) > MAX_DOC_TITLE:
        errors["title"] = f"at most {MAX_DOC_TITLE} characters (this has {len(title)})"
    if len(body) > MAX_DOC_BODY:
        errors["body"] = f"at most {MAX_DOC_BODY:,} characters (this has {len(body):,})"
    elif has_conflict_markers(body):
        errors["body"] = "the text still has conflict markers (<<<<<<<, =======, >>>>>>>): merge the two versions first"
    if len(summary) > MAX_SUMMARY:
        errors["summary"] = f"at most {MAX_SUMMARY} characters (this has {len(summary)})"
    if errors:
        raise InvalidFields(errors)
    return title, body, summary


def check_tags(raw: str) -> list[str]:
    """Tags typed as words separated by spaces or commas: lower case, unique, in order."""
    tags = list(dict.fromkeys(word.lower().lstrip("#") for word in re.split(r"[\s,]+", raw or "") if word.strip("#")))
    if len(tags) > MAX_TAGS:
        raise InvalidFields({"tags": f"at most {MAX_TAGS} tags (this has {len(tags)})"})
    for tag in tags:
        if len(tag) > MAX_TAG or not _TAG.match(tag):
            raise InvalidFields({"tags": f"a tag is one word of letters, digits, - or _ (not {tag[:MAX_TAG]!r})"})
    return tags
