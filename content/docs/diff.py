"""Word-level diffs of two versions of a doc's Markdown, inline and side by side.

difflib (the standard library) does the matching: its SequenceMatcher (Ratcliff/Obershelp) gives
readable diffs of prose and needs no dependency. Two passes keep a 200 KB doc fast (bench/docs.py):
lines first, then words only inside the lines that changed. ``autojunk`` is off: with it on, words as
common as "the" and the spaces between words would be treated as junk and never matched, which makes
word diffs of prose unreadable.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from html import escape

# A word (or a mark) with the spaces after it: spaces as tokens of their own would be the most common
# token of every text, and difflib compares each occurrence with each.
_WORDS = re.compile(r"\w+[^\S\n]*|[^\w\s][^\S\n]*|\s+")
_COUNTED = re.compile(r"\w+|[^\w\s]")
_LINES = re.compile(r"[^\n]*\n+|[^\n]+$")
WORD_MATCH_BUDGET = 4_000_000  # characters x characters of a changed stretch matched word by word (~2 KB each)
PAIRS_BUDGET = 250_000  # words x words of a changed stretch matched exactly whatever they repeat
CONTEXT_LINES = 2  # unchanged lines shown around a change in the side-by-side view


@dataclass(frozen=True)
class Piece:
    kind: str  # same | added | removed
    text: str


@dataclass(frozen=True)
class Row:
    """One row of the side-by-side view: the old text on the left, the new on the right (HTML), or a
    ``skipped`` count of unchanged lines folded away."""

    left: str = ""
    right: str = ""
    changed: bool = False
    skipped: int = 0


@dataclass(frozen=True)
class Diff:
    pieces: list[Piece] = field(default_factory=list)
    added_words: int = 0
    removed_words: int = 0

    @property
    def unchanged(self) -> bool:
        return not (self.added_words or self.removed_words)

    def inline_html(self) -> str:
        """The new text with removed words struck (``<del>``) and added ones marked (``<ins>``)."""
        out = []
        for piece in self.pieces:
            text = escape(piece.text)
            out.append(text if piece.kind == "same" else
                       f"<ins>{text}</ins>" if piece.kind == "added" else f"<del>{text}</del>")
        return "".join(out)


def lines(text: str) -> list[str]:
    """The lines of ``text``, each with the blank lines after it. Markdown separates every paragraph with
    a blank line: as lines of their own, hundreds of identical blank lines make difflib compare each with
    each (a 200 KB doc took ten times as long), and they carry no change a reader needs to see apart."""
    return _LINES.findall(text or "")


def _words(old: str, new: str) -> list[Piece]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    pieces: list[Piece] = []
    # difflib's matching visits, for each word of ``a``, every place the word has in ``b``: text that
    # repeats a few words hundreds of times would take seconds. Past a budget, its "autojunk" heuristic
    # (ignore words that make up over 1 % of ``b``) bounds the work, at the price of a coarser diff.
    counts = Counter(b)
    crowded = len(a) * len(b) > PAIRS_BUDGET and sum(counts[token] for token in a) > 4 * (len(a) + len(b))
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=crowded).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        # The spaces after a replaced word are the same on both sides: shown unmarked.
        shared = len(removed) - len(removed.rstrip(" \t")) if removed and added else 0
        shared = min(shared, len(added) - len(added.rstrip(" \t")))
        tail = removed[len(removed) - shared:] if shared else ""
        if removed:
            pieces.append(Piece("removed", removed[: len(removed) - shared]))
        if added:
            pieces.append(Piece("added", added[: len(added) - shared]))
        if tail:
            pieces.append(Piece("same", tail))
    return pieces


def _block(old: list[str], new: list[str]) -> list[Piece]:
    """Word pieces of a changed stretch of lines. Matching words costs about the product of the two
    lengths, so a long rewritten stretch is matched line with line instead (each pair's words, then
    what is left over as removed or added): a diff of a doc's first and thousandth revision stays fast."""
    a, b = "".join(old), "".join(new)
    if len(a) * len(b) <= WORD_MATCH_BUDGET:
        return _words(a, b)
    pieces: list[Piece] = []
    for left, right in zip(old, new):
        pieces.extend(_words(left, right) if len(left) * len(right) <= WORD_MATCH_BUDGET else
                      [Piece("removed", left), Piece("added", right)])
    if len(old) > len(new):
        pieces.append(Piece("removed", "".join(old[len(new):])))
    elif len(new) > len(old):
        pieces.append(Piece("added", "".join(new[len(old):])))
    return pieces


def _count(pieces: list[Piece], kind: str) -> int:
    return sum(len(_COUNTED.findall(p.text)) for p in pieces if p.kind == kind)


def _line_opcodes(old: str, new: str) -> tuple[list[str], list[str], list[tuple[str, int, int, int, int]]]:
    a, b = lines(old), lines(new)
    return a, b, SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def diff(old: str, new: str) -> Diff:
    """The word-level difference from ``old`` to ``new``."""
    a, b, opcodes = _line_opcodes(old, new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
        elif tag == "replace":
            pieces.extend(_block(a[i1:i2], b[j1:j2]))
        elif tag == "delete":
            pieces.append(Piece("removed", "".join(a[i1:i2])))
        else:
            pieces.append(Piece("added", "".join(b[j1:j2])))
    return Diff(pieces=pieces, added_words=_count(pieces, "added"), removed_words=_count(pieces, "removed"))


def _side(pieces: list[Piece], kind: str) -> str:
    return "".join(
        escape(p.text) if p.kind == "same" else f"<{'ins' if kind == 'added' else 'del'}>{escape(p.text)}</{'ins' if kind == 'added' else 'del'}>"
        for p in pieces if p.kind in ("same", kind)
    )


def side_by_side(old: str, new: str, context: int = CONTEXT_LINES) -> list[Row]:
    """Rows of old | new, changed lines word-marked, long unchanged stretches folded to ``context`` lines
    either side of a change."""
    a, b, opcodes = _line_opcodes(old, new)
    rows: list[Row] = []
    last = len(opcodes) - 1
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            lines = a[i1:i2]
            head = context if index > 0 else 0
            tail = context if index < last else 0
            if len(lines) > head + tail + 1:
                rows += [Row(left=escape(line), right=escape(line)) for line in lines[:head]]
                rows.append(Row(skipped=len(lines) - head - tail))
                rows += [Row(left=escape(line), right=escape(line)) for line in lines[len(lines) - tail:]]
            else:
                rows += [Row(left=escape(line), right=escape(line)) for line in lines]
            continue
        words = _block(a[i1:i2], b[j1:j2])
        rows.append(Row(left=_side(words, "removed"), right=_side(words, "added"), changed=True))
    return rows
