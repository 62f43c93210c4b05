"""The pure text work of docs (issue #18): word diffs, the three-way merge, sections and rendering."""

from __future__ import annotations

import pytest

from actors.node_settings import InvalidFields
from content.docs.diff import diff, side_by_side
from content.docs.merge import merge
from content.docs.text import MAX_DOC_BODY, check_doc, check_tags, render, sections

BASE = "one\ntwo\nthree\nfour\nfive\n"


def test_changes_on_different_lines_merge_cleanly() -> None:
    merged = merge(BASE, "ONE\ntwo\nthree\nfour\nfive\n", "one\ntwo\nthree\nfour\nFIVE\n")
    assert merged.clean and merged.text == "ONE\ntwo\nthree\nfour\nFIVE\n"


def test_the_same_change_on_both_sides_is_no_clash() -> None:
    assert merge(BASE, "one\n2\nthree\nfour\nfive\n", "one\n2\nthree\nfour\nfive\n").text == "one\n2\nthree\nfour\nfive\n"


def test_a_clash_keeps_both_versions_between_markers() -> None:
    merged = merge(BASE, "one\nmine\nthree\nfour\nfive\n", "one\ntheirs\nthree\nfour\nfive\n", theirs_label="revision 4")
    assert not merged.clean and len(merged.clashes) == 1
    assert merged.text == "one\n<<<<<<< your text\nmine\n=======\ntheirs\n>>>>>>> revision 4\nthree\nfour\nfive\n"
    assert merged.clashes[0].base == "two\n"


def test_additions_at_both_ends() -> None:
    merged = merge(BASE, "zero\n" + BASE, BASE + "six\n")
    assert merged.clean and merged.text == "zero\n" + BASE + "six\n"


def test_word_diff_marks_only_the_changed_words() -> None:
    changed = diff("The quick brown fox\njumps.\n", "The slow brown fox\njumps.\n")
    assert changed.inline_html() == "The <del>quick</del><ins>slow</ins> brown fox\njumps.\n"
    assert (changed.added_words, changed.removed_words) == (1, 1)
    assert diff("same\n", "same\n").unchanged
    assert diff("<b>\n", "<i>\n").inline_html() == "&lt;<del>b</del><ins>i</ins>&gt;\n"  # escaped


def test_side_by_side_folds_unchanged_lines() -> None:
    old = "".join(f"line {n}\n" for n in range(1, 21))
    rows = side_by_side(old, old.replace("line 10\n", "line ten\n"))
    changed = [row for row in rows if row.changed]
    assert len(changed) == 1 and changed[0].left == "line <del>10</del>\n" and changed[0].right == "line <ins>ten</ins>\n"
    assert [row.skipped for row in rows if row.skipped] == [7, 8]


def test_sections_and_rendering_keep_headings_with_ids() -> None:
    body = "# Intro\n\nHi <script>x</script>\n\n## Setup\n\n## Setup\n"
    assert [s.anchor for s in sections(body)] == ["s-intro", "s-setup", "s-setup-2"]
    html = render(body)
    assert '<h1 id="s-intro">Intro</h1>' in html and '<h2 id="s-setup-2">Setup</h2>' in html
    assert "<script>" not in html


def test_bad_docs_are_refused_field_by_field() -> None:
    with pytest.raises(InvalidFields) as caught:
        check_doc(" ", "x" * (MAX_DOC_BODY + 1))
    assert set(caught.value.errors) == {"title", "body"}
    with pytest.raises(InvalidFields):
        check_doc("t", "<<<<<<< your text\na\n=======\nb\n>>>>>>> revision 2\n")
    assert check_tags("Handbook, #setup handbook") == ["handbook", "setup"]
    with pytest.raises(InvalidFields):
        check_tags("no/slashes")


def test_a_long_rewrite_is_matched_line_with_line_and_loses_nothing() -> None:
    old = "".join(f"paragraph {n} " + "word " * 300 + "\n\n" for n in range(40))
    new = "".join(f"paragraph {n} " + "term " * 300 + "\n\n" for n in range(41))
    changed = diff(old, new)
    assert "".join(p.text for p in changed.pieces if p.kind != "added") == old
    assert "".join(p.text for p in changed.pieces if p.kind != "removed") == new
    assert changed.removed_words == 40 * 300 and changed.added_words == 41 * 300 + 2
