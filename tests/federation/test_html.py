"""The allowlist sanitiser for HTML from other servers (PROTOCOL.md "Validation"): Mastodon's strict set."""

from __future__ import annotations

import pytest

from federation.html import plain_text, sanitize_html

LINK_REL = 'rel="nofollow noopener"'


# --------------------------------------------------------------------------------------------------
# Scripts and other active content are removed with their content


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        "<SCRIPT>alert(1)</SCRIPT>",
        '<script src="https://evil.example/x.js"></script>',
        "<svg><script>alert(1)</script></svg>",
        "<svg onload=alert(1)>",
        "<img src=x onerror=alert(1)>",
        '<iframe src="https://evil.example/"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<form action="https://evil.example/"><input name="password"></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<base href="https://evil.example/">',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        "<style>body { display: none }</style>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        "<!-- <script>alert(1)</script> -->",
    ],
)
def test_active_content_is_removed(dangerous: str) -> None:
    cleaned = sanitize_html(f"<p>before{dangerous}after</p>")
    # Some tags (form) close the paragraph while parsing; what matters is that only text is left.
    assert cleaned.replace("<p>", "").replace("</p>", "") == "beforeafter", cleaned


def test_unclosed_script_swallows_nothing_executable() -> None:
    cleaned = sanitize_html("<p>hi</p><script>alert(1)")
    assert "script" not in cleaned and "alert" not in cleaned
    assert cleaned.startswith("<p>hi</p>")


# --------------------------------------------------------------------------------------------------
# Links: only absolute http(s) and mailto, always rel="nofollow noopener"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        " javascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "ftp://files.example/x",
        "/settings/delete_account",  # relative: would point into our own site
        "//evil.example/phish",  # protocol-relative
        "#top",
        "?page=2",
    ],
)
def test_links_to_other_schemes_or_relative_places_lose_their_href(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">click</a>') == f"<a {LINK_REL}>click</a>"


@pytest.mark.parametrize(
    "href", ["https://peer.example/@bob", "http://peer.example/tags/garden", "mailto:bob@peer.example"]
)
def test_http_https_and_mailto_links_are_kept_with_nofollow_noopener(href: str) -> None:
    assert sanitize_html(f'<a href="{href}">x</a>') == f'<a href="{href}" {LINK_REL}>x</a>'


def test_existing_rel_and_target_are_replaced() -> None:
    cleaned = sanitize_html('<a href="https://x.example/" rel="me opener" target="_blank">x</a>')
    assert cleaned == f'<a href="https://x.example/" {LINK_REL}>x</a>'


def test_link_title_is_kept() -> None:
    cleaned = sanitize_html('<a href="https://x.example/" title="Example">x</a>')
    assert cleaned == f'<a href="https://x.example/" title="Example" {LINK_REL}>x</a>'


# --------------------------------------------------------------------------------------------------
# Attributes: event handlers and styles go; classes only from the microformats/mention set


@pytest.mark.parametrize(
    "attribute",
    [
        'onclick="alert(1)"',
        'onmouseover="alert(1)"',
        'ONFOCUS="alert(1)" autofocus',
        'style="position: fixed; inset: 0; background: url(javascript:alert(1))"',
        'style="color: red"',
        'id="login-form"',
        'data-action="delete"',
    ],
)
def test_handlers_styles_and_other_attributes_are_removed(attribute: str) -> None:
    assert sanitize_html(f"<p {attribute}>hi</p>") == "<p>hi</p>"


@pytest.mark.parametrize(
    ("classes", "kept"),
    [
        ("h-card", "h-card"),
        ("u-url mention", "u-url mention"),
        ("hashtag", "hashtag"),
        ("invisible ellipsis", "invisible ellipsis"),
        ("p-name e-content dt-published", "p-name e-content dt-published"),
        ("mention btn-danger", "mention"),
        ("hidden modal-backdrop", None),
        ("mentionx", None),
    ],
)
def test_only_microformat_mention_and_hashtag_classes_survive(classes: str, kept: str | None) -> None:
    cleaned = sanitize_html(f'<span class="{classes}">x</span>')
    assert cleaned == (f'<span class="{kept}">x</span>' if kept else "<span>x</span>")


def test_class_attribute_is_not_allowed_on_other_tags() -> None:
    assert sanitize_html('<p class="h-entry">x</p>') == "<p>x</p>"


def test_list_numbering_attributes_are_kept() -> None:
    cleaned = sanitize_html('<ol start="3" reversed onclick="x()"><li value="5">a</li></ol>')
    assert cleaned == '<ol start="3" reversed=""><li value="5">a</li></ol>'


# --------------------------------------------------------------------------------------------------
# Tags: the strict set stays, everything else is unwrapped (text kept)


def test_allowed_formatting_survives_unchanged() -> None:
    html = (
        "<p>a<br>b <b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <del>d</del> <s>s</s></p>"
        "<blockquote><p>q</p></blockquote><pre><code>c</code></pre><ul><li>x</li></ul>"
        "<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>"
    )
    assert sanitize_html(html) == html


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<div><h1>Title</h1><table><tr><td>cell</td></tr></table></div>", "Titlecell"),
        ('<p><font color="red">red</font> <marquee>moving</marquee></p>', "<p>red moving</p>"),
        ('<p><img src="https://x.example/a.png" alt="an image"></p>', "<p></p>"),
    ],
)
def test_other_tags_are_unwrapped(html: str, expected: str) -> None:
    assert sanitize_html(html) == expected


def test_text_stays_escaped() -> None:
    assert sanitize_html("<p>1 &lt; 2 &amp;&amp; &lt;b&gt;not bold&lt;/b&gt;</p>") == (
        "<p>1 &lt; 2 &amp;&amp; &lt;b&gt;not bold&lt;/b&gt;</p>"
    )


# --------------------------------------------------------------------------------------------------
# Plain text: names, usernames


def test_plain_text_drops_all_markup_and_script_content() -> None:
    assert plain_text('<b>Bob</b> <script>alert("x")</script><img src=x onerror=alert(1)>Example') == "Bob Example"


def test_plain_text_unescapes_entities_once() -> None:
    # Stored as text; templates escape on output, so "<" here can never become markup.
    assert plain_text("Tom &amp; Jerry &lt;3") == "Tom & Jerry <3"


def test_plain_text_is_a_single_line() -> None:
    assert plain_text("  Bob\n\nExample\t  Co  ") == "Bob Example Co"


def test_plain_text_removes_nul_bytes() -> None:
    # PostgreSQL text columns refuse NUL: a remote name carrying one must not break storage.
    assert plain_text("Bob\x00by") == "Bobby"
