"""Which handles a text names (content.mentions): not addresses, not URLs, not a sentence's full stop;
linked outside links and code only."""

from __future__ import annotations

from content.mentions import Mentioned, link_mentions, written_handles

DOMAIN = "node.test"


def _keys(text: str) -> list[tuple[str, str | None]]:
    return [handle.key for handle in written_handles(text, DOMAIN)]


def test_handles_and_what_is_not_one() -> None:
    assert _keys("@Ada and @bob@Social.Example, again @ada.") == [("ada", None), ("bob", "social.example")]
    assert _keys("@eve@127.0.0.1:8001: hi") == [("eve", "127.0.0.1:8001")]
    assert _keys("@dave@node.test is @dave") == [("dave", None)]  # our domain: one of ours
    assert _keys("write to me@example.org or see https://x.example/@carol and a.b@c") == []
    assert _keys("(@first.last_1) end.") == [("first.last_1", None)]
    assert _keys(" ".join(f"@p{i}" for i in range(40))) == [(f"p{i}", None) for i in range(20)]  # at most 20


def test_links_outside_links_and_code() -> None:
    ada = Mentioned(uri="https://node.test/users/ada", url="https://node.test/users/ada",
                    handle="@ada@node.test", local=True)
    html = ('<p>Hi @ada, <a href="https://x.example/">@ada</a> <code>@ada</code> @ghost</p>'
            "<pre><code>@ada</code></pre>")
    linked, used = link_mentions(html, {("ada", None): ada}, DOMAIN)
    assert used == [ada]
    assert linked.count('class="u-url mention"') == 1
    assert '<span class="h-card"><a href="https://node.test/users/ada" class="u-url mention" rel="nofollow noopener">@<span>ada</span></a></span>' in linked
    assert "<code>@ada</code>" in linked and "@ghost" in linked
    assert link_mentions("<p>nobody</p>", {("ada", None): ada}, DOMAIN) == ("<p>nobody</p>", [])
