"""Titles of posts that came without one (issue #10 item 5): the first line or sentence of their text."""

from __future__ import annotations

import pytest

from content.titles import FALLBACK, display_title, title_of
from federation.html import TITLE_CHARS, text_title
from storage.models import Object

MASTODON_MENTION = (
    '<p><span class="h-card" translate="no"><a href="https://a.example/groups/garden" class="u-url mention">'
    '@<span>garden</span></a></span> Seed swap on Saturday? Bring jars.</p><p>Second paragraph.</p>'
)


@pytest.mark.parametrize(
    ("content", "title"),
    [
        (MASTODON_MENTION, "Seed swap on Saturday?"),  # the group mention is not the topic
        ("<p>@garden@a.example</p><p>Real topic here</p>", "Real topic here"),  # a line of mentions only
        ("first line<br>second line", "first line"),
        ("<p>Version 1.2 is out. Upgrade.</p>", "Version 1.2 is out."),  # a dot inside a word ends nothing
        ("<p>Fish &amp; chips &lt;b&gt;</p>", "Fish & chips <b>"),  # plain text: the template escapes it
        ('<p><script>alert(1)</script>Hi <b>there</b></p>', "Hi there"),
        ("", ""),
    ],
)
def test_text_title_takes_the_first_line_or_sentence(content: str, title: str) -> None:
    assert text_title(content) == title


def test_long_first_sentence_is_cut_at_a_word_with_an_ellipsis() -> None:
    words = "<p>" + " ".join(f"word{i}" for i in range(40)) + "</p>"
    title = text_title(words)
    assert len(title) <= TITLE_CHARS and title.endswith("…")
    assert title[:-1].split()[-1].startswith("word")  # whole words only
    assert words.find(title[:-1].split()[-1]) > 0


def test_a_name_wins_and_nothing_at_all_is_untitled() -> None:
    assert display_title("Given", MASTODON_MENTION) == "Given"
    assert display_title("", "<p></p>") == FALLBACK


def test_only_group_thread_starts_are_titled_from_text() -> None:
    thread = Object(uri="u", type="Note", author_uri="a", name="", content=MASTODON_MENTION,
                    audience_uri="https://a.example/groups/garden", deleted=False)
    assert title_of(thread) == "Seed swap on Saturday?"
    reply = Object(uri="r", type="Note", author_uri="a", name="", content=MASTODON_MENTION,
                   audience_uri="https://a.example/groups/garden", in_reply_to_uri="u", deleted=False)
    profile_post = Object(uri="p", type="Note", author_uri="a", name="", content=MASTODON_MENTION, deleted=False)
    assert title_of(reply) == "" and title_of(profile_post) == ""
    thread.deleted = True
    assert title_of(thread) == ""
