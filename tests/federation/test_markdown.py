"""Markdown as members write it (issue #16): GFM tables, task lists, headings, rules, images, bare URLs,
code, hashtags; sanitised, and whatever the sanitiser drops is told (federation.markdown)."""

from __future__ import annotations

import pytest

from federation.markdown import render, render_markdown

BASE = "https://node.example"


def test_gfm_table_with_alignment_as_classes() -> None:
    html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |", BASE)
    assert "<table>" in html and "<th class=\"align-left\">a</th>" in html
    assert '<td class="align-right">2</td>' in html
    assert "style" not in html  # the CSP forbids inline styles


def test_headings_rules_strikethrough_and_code_blocks() -> None:
    html = render_markdown("## Plan\n\n---\n\n~~old~~\n\n```python\nx = 1 < 2\n```", BASE)
    assert "<h2>Plan</h2>" in html and "<hr>" in html and "<s>old</s>" in html
    assert '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>' in html


def test_task_lists_become_ballot_boxes() -> None:
    html = render_markdown("- [ ] buy seeds\n- [x] dig", BASE)
    assert "<li>☐ buy seeds</li>" in html and "<li>☑ dig</li>" in html
    assert "<input" not in html


def test_bare_urls_are_linked() -> None:
    html = render_markdown("see https://example.org/page now", BASE)
    assert '<a href="https://example.org/page" rel="nofollow noopener">https://example.org/page</a>' in html


def test_local_relative_links_and_images_are_made_absolute() -> None:
    html = render_markdown("[the group](/groups/garden) ![a bed of leeks](/media/abc.png)", BASE)
    assert f'href="{BASE}/groups/garden"' in html
    assert f'<img src="{BASE}/media/abc.png" alt="a bed of leeks">' in html


def test_images_from_other_sites_are_links_not_hotlinked() -> None:
    html = render_markdown("![a cat](https://cats.example/cat.png)", BASE)
    assert "<img" not in html
    assert '<a href="https://cats.example/cat.png" rel="nofollow noopener">a cat</a>' in html


def test_raw_html_is_shown_as_typed_and_the_author_told() -> None:
    rendered = render("<script>alert(1)</script> <b>bold</b>", BASE)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert any("HTML tags are shown as you typed them" in note for note in rendered.dropped)


def test_html_inside_code_is_not_reported() -> None:
    assert render("use `<b>` for bold\n\n```\n<i>x</i>\n```", BASE).dropped == ()


@pytest.mark.parametrize("href", ["ftp://files.example/x", "irc://chat.example/room", "//evil.example/x"])
def test_a_removed_link_is_reported_and_its_text_kept(href: str) -> None:
    rendered = render(f"[the file]({href})", BASE)
    assert "the file" in rendered.html and "href" not in rendered.html
    assert rendered.dropped == (
        f"The link to “{href}” was removed: addresses must start with http://, https://, mailto: or / "
        "(a page on this site). Its text is kept.",
    )


def test_javascript_links_are_never_links() -> None:
    html = render_markdown("[x](javascript:alert(1)) [y](JAVASCRIPT:alert(1))", BASE)
    assert "href" not in html


def test_a_clean_post_reports_nothing() -> None:
    assert render("**bold** and [a link](https://example.org) #garden", BASE).dropped == ()


def test_hashtags_link_to_the_tag_page_and_are_collected() -> None:
    rendered = render("Planting #Leeks and #garden_2026 today. #leeks again, #123 no, a#b no, `#code` no", BASE)
    assert rendered.hashtags == ("leeks", "garden_2026")
    assert f'<a href="{BASE}/tags/leeks" class="mention hashtag" rel="nofollow noopener">#<span>Leeks</span></a>' \
        in rendered.html
    assert "#123" in rendered.html and "a#b" in rendered.html and "<code>#code</code>" in rendered.html


def test_hashtags_inside_links_stay_as_they_are() -> None:
    rendered = render("[see #this](https://example.org/#frag) https://example.org/#anchor", BASE)
    assert rendered.hashtags == ()


def test_without_a_base_there_are_no_hashtag_links() -> None:
    assert "tags" not in render_markdown("#garden")
