"""Markdown of local members, as people write it (issue #16 "Writing"), rendered and then sanitised.

markdown-it-py in CommonMark mode with GitHub's additions: tables, strikethrough, task lists, bare URLs
linked (linkify-it-py), plus headings, rules, images and fenced code, which CommonMark has. Raw HTML stays
off: what a member types as ``<b>`` is shown as typed, never as markup. The result goes through an
allowlist wider than the one for remote HTML (federation.html: Mastodon's strict set), because we know
exactly which tags our renderer makes; it is still an allowlist (nh3), so a renderer bug cannot make a
script.

What the renderer changes on the way, so nothing the author meant is lost:

- links and images to a path on this site (``/groups/x``) are made absolute against the node's base URL,
  so they work here and on every server the post reaches (a remote sanitiser drops relative links);
- an image from another site is shown as a link to it (our pages only load images from this site: the
  CSP's ``img-src 'self'``, and no unbounded hot-linking of other servers);
- ``#tag`` in text becomes a link to the node's tag page, as Mastodon renders hashtags
  (``<a class="mention hashtag" rel="tag">``); the tags found are returned for the ``Hashtag`` tags;
- task list boxes become ☐/☑ characters (a disabled checkbox would be a form control without a label);
- table column alignment becomes a class (the CSP forbids inline styles).

Whatever the allowlist still removes is listed in ``Rendered.dropped`` in words, so the preview can tell
the author (``render``). Tags and attribute values are compared before and after sanitising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from functools import cache
from typing import TYPE_CHECKING, Any

from federation.html import clean, filter_attribute, sanitize_html

if TYPE_CHECKING:
    # markdown-it with linkify is ~2.6 MB resident: imported when a first text is rendered, not at start-up
    # (an idle node renders nothing; issue #13's idle RSS).
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# Mastodon's hashtag: letters, digits, underscores (and inner hyphens, which we fold in), not only digits;
# not inside a word or a URL (``a#b``, ``/path#anchor``), nor a ``&#123;`` entity.
HASHTAG = re.compile(r"(?<![\w&/#])#(\w[\w-]{0,62}\w|\w)(?![\w#])", re.UNICODE)
MAX_TAGS = 20  # a post tags at most this many (more are left as text, never an error)

_LOCAL_TAGS = {
    "p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u", "i", "em",
    "ul", "ol", "li", "ruby", "rt", "rp",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img",
    "table", "thead", "tbody", "tr", "th", "td",
}
_LOCAL_ATTRIBUTES = {
    "a": {"href", "class", "title"},
    "span": {"class"},
    "ol": {"start", "reversed"},
    "li": {"value"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"class"},
    "td": {"class"},
    "code": {"class"},
}
_LOCAL_CLASS = re.compile(r"^(mention|hashtag|align-(left|center|right)|language-[\w+#-]{1,30})$")


def _local_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "src":
        return value if re.match(r"^https?://[^/\s]", value.strip(), re.IGNORECASE) else None
    if attribute == "class" and tag in {"th", "td", "code"}:
        kept = [name for name in value.split() if _LOCAL_CLASS.match(name)]
        return " ".join(kept) or None
    return filter_attribute(tag, attribute, value)


def sanitize_local(html: str) -> str:
    """The allowlist for HTML our own Markdown renderer made (wider than sanitize_html's strict set)."""
    return clean(html, _LOCAL_TAGS, _LOCAL_ATTRIBUTES, _local_attribute)


@dataclass(frozen=True)
class Rendered:
    html: str
    hashtags: tuple[str, ...] = ()  # lower-cased, without '#', in order of first use
    dropped: tuple[str, ...] = ()  # what the sanitiser removed, in words for the author


@dataclass
class _Env:
    base: str
    hashtags: list[str] = field(default_factory=list)


def _absolute(url: str, base: str) -> str:
    if base and url.startswith("/") and not url.startswith("//"):
        return base.rstrip("/") + url
    return url


def _is_local(url: str, base: str) -> bool:
    return bool(base) and (url == base or url.startswith(base.rstrip("/") + "/"))


def _hashtag_tokens(text: str, env: _Env) -> list[Token] | None:
    """``text`` split into text and hashtag-link tokens, or None when it holds no hashtag."""
    from markdown_it.token import Token

    parts: list[Token] = []
    last = 0
    for match in HASHTAG.finditer(text):
        name = match.group(1)
        if name.isdigit() or not env.base:
            continue
        tag = name.lower()
        if tag not in env.hashtags:
            if len(env.hashtags) >= MAX_TAGS:
                continue
            env.hashtags.append(tag)
        if match.start() > last:
            parts.append(_text(text[last:match.start()]))
        link = Token("link_open", "a", 1)
        link.attrs = {"href": f"{env.base.rstrip('/')}/tags/{tag}", "class": "mention hashtag", "rel": "tag"}
        span_open = Token("html_inline", "", 0)
        span_open.content = "#<span>"
        span_close = Token("html_inline", "", 0)
        span_close.content = "</span>"
        parts += [link, span_open, _text(name), span_close, Token("link_close", "a", -1)]
        last = match.end()
    if not parts:
        return None
    if last < len(text):
        parts.append(_text(text[last:]))
    return parts


def _text(content: str) -> Token:
    from markdown_it.token import Token

    token = Token("text", "", 0)
    token.content = content
    return token


def _rewrite(state: Any) -> None:
    """Core rule after inline parsing: absolute local links, hashtags in text outside links and code."""
    env: _Env = state.env["madeopen"]
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            if token.type == "link_open":
                in_link += 1
                token.attrSet("href", _absolute(str(token.attrGet("href") or ""), env.base))
            elif token.type == "link_close":
                in_link -= 1
            elif token.type == "image":
                token.attrSet("src", _absolute(str(token.attrGet("src") or ""), env.base))
            elif token.type == "text" and not in_link:
                split = _hashtag_tokens(token.content, env)
                if split is not None:
                    children.extend(split)
                    continue
            children.append(token)
        block.children = children


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    base = env["madeopen"].base
    if _is_local(src, base):
        return self.image(tokens, idx, options, env)
    # Another site's image: a link to it, named by its alt text (never loaded by our pages).
    return f'<a href="{escape(src)}">{escape(alt or src)}</a>'


def _render_cell(self: Any, tokens: list[Token], idx: int, options: Any, env: dict[str, Any]) -> str:
    token = tokens[idx]
    style = str(token.attrGet("style") or "")
    if style:
        del token.attrs["style"]
        alignment = style.removeprefix("text-align:")
        if alignment in {"left", "center", "right"}:
            token.attrSet("class", f"align-{alignment}")
    return self.renderToken(tokens, idx, options, env)


@cache
def _markdown() -> MarkdownIt:
    """The one parser, built on first use."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.tasklists import tasklists_plugin

    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": True})
    md.enable(["strikethrough", "table", "linkify"])
    md.use(tasklists_plugin)
    md.core.ruler.push("madeopen_rewrite", _rewrite)
    md.add_render_rule("image", _render_image)
    md.add_render_rule("th_open", _render_cell)
    md.add_render_rule("td_open", _render_cell)
    return md


_TASK_OPEN = re.compile(r'<input class="task-list-item-checkbox"( checked="checked")? disabled="disabled" type="checkbox">')


def render(source: str, base: str = "", *, strict: bool = False) -> Rendered:
    """Markdown -> HTML -> the allowlist. ``base``: the node's base URL (``https://host``), against which
    paths on this site are made absolute and hashtags linked; without it there are no hashtag links.
    ``strict``: the remote (Mastodon) allowlist instead, for text shown in others' narrow slots (a bio)."""
    if not source.strip():
        return Rendered(html="")
    env = _Env(base=base)
    raw = _markdown().render(source, {"madeopen": env})
    raw = _TASK_OPEN.sub(lambda m: "☑" if m.group(1) else "☐", raw)
    clean = (sanitize_html(raw) if strict else sanitize_local(raw)).strip()
    return Rendered(html=clean, hashtags=tuple(env.hashtags), dropped=_dropped(raw, clean, source))


def render_markdown(source: str, base: str = "", *, strict: bool = False) -> str:
    """Just the sanitised HTML of ``render``."""
    return render(source, base, strict=strict).html


def sanitize_rendered(html: str) -> str:
    """Stored HTML of a local post shown again (feeds): the local allowlist, not the strict remote one."""
    return sanitize_local(html)


# --------------------------------------------------------------------------------------------------
# What the sanitiser removed, in words


class _Inventory(HTMLParser):
    """Tags and the link/image addresses of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.urls: list[tuple[str, str]] = []  # ("link" | "image", url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if (tag, name) in {("a", "href"), ("img", "src")} and value:
                self.urls.append(("link" if tag == "a" else "image", value))

    handle_startendtag = handle_starttag


def _inventory(html: str) -> _Inventory:
    parser = _Inventory()
    parser.feed(html)
    parser.close()
    return parser


_CODE = re.compile(r"```.*?(```|$)|`[^`]*`", re.DOTALL)  # HTML inside code is meant as text
_TYPED_HTML = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*[\s>/]")


def _dropped(before: str, after: str, source: str) -> tuple[str, ...]:
    was, now = _inventory(before), _inventory(after)
    notes: list[str] = []
    kept_urls = set(now.urls)
    for kind, url in dict.fromkeys(was.urls):
        if (kind, url) not in kept_urls:
            notes.append(f"The {kind} to “{url}” was removed: addresses must start with http://, https://, "
                         "mailto: or / (a page on this site). Its text is kept.")
    for tag in dict.fromkeys(was.tags):
        if tag not in now.tags and tag not in {"input"}:
            notes.append(f"The <{tag}> element was removed; its text is kept.")
    if _TYPED_HTML.search(_CODE.sub("", source)):
        notes.append("HTML tags are shown as you typed them, not as formatting: use Markdown instead "
                     "(**bold**, *italic*, [a link](https://example.org)).")
    return tuple(notes)
