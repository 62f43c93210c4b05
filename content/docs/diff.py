"""Word-level diffs of two versions of a doc's Markdown, inline and side by side.

difflib (the standard library) does the matching: its SequenceMatcher (Ratcliff/Obershelp) gives
readable diffs of prose and needs no dependency. Two passes keep a 200 KB doc fast (bench/docs.py):
lines first, then words only inside the lines that changed. ``autojunk`` is off: with it on, words as
common as "the" and the spaces between words would be treated as junk and never matched, which makes
word diffs of prose unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from html import escape

_WORDS = re.compile(r"\s+|\w+|[^\w\s]")
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


def _lines(text: str) -> list[str]:
    return (text or "").splitlines(keepends=True)


def _words(old: str, new: str) -> list[Piece]:
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(Piece("removed", "".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(Piece("added", "".join(b[j1:j2])))
    return pieces


def _count(pieces: list[Piece], kind: str) -> int:
    return sum(len([w for w in _WORDS.findall(p.text) if not w.isspace()]) for p in pieces if p.kind == kind)


def _line_opcodes(old: str, new: str) -> tuple[list[str], list[str], list[tuple[str, int, int, int, int]]]:
    a, b = _lines(old), _lines(new)
    return a, b, SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def diff(old: str, new: str) -> Diff:
    """The word-level difference from ``old`` to ``new``."""
    a, b, opcodes = _line_opcodes(old, new)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            pieces.append(Piece("same", "".join(a[i1:i2])))
        elif tag == "replace":
            pieces.extend(_words("".join(a[i1:i2]), "".join(b[j1:j2])))
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
        words = _words("".join(a[i1:i2]), "".join(b[j1:j2]))
        rows.append(Row(left=_side(words, "removed"), right=_side(words, "added"), changed=True))
    return rows
