"""Three-way merge of a doc's text: what someone typed on an old revision, with what was saved since.

The diff3 idea (Khanna, Kunal and Pierce, "A Formal Investigation of Diff3", 2007): line-match the base
with each side (difflib, autojunk off), keep the stretches of the base that both sides left alone as
anchors, and between anchors take whichever side changed; if both changed the same stretch differently,
that is a conflict. No library: the ``merge3`` package does the same over lists of lines, but this is
thirty lines on difflib, which we use for diffs anyway, and the result here carries the conflict pieces
the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from difflib import SequenceMatcher

from content.docs.diff import lines


@dataclass(frozen=True)
class Clash:
    base: str
    mine: str
    theirs: str


@dataclass(frozen=True)
class Merged:
    text: str  # the merge; where sides clash, both versions between conflict markers
    clashes: list[Clash] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.clashes


def _anchors(base: list[str], mine: list[str], theirs: list[str]) -> list[tuple[int, int, int, int, int, int]]:
    """Stretches of ``base`` unchanged on both sides: (base start, end, mine start, end, theirs start, end)."""
    ours = [m for m in SequenceMatcher(None, base, mine, autojunk=False).get_matching_blocks() if m.size]
    others = [m for m in SequenceMatcher(None, base, theirs, autojunk=False).get_matching_blocks() if m.size]
    found = []
    i = j = 0
    while i < len(ours) and j < len(others):
        a, b = ours[i], others[j]
        start, end = max(a.a, b.a), min(a.a + a.size, b.a + b.size)
        if start < end:
            m0, t0 = a.b + start - a.a, b.b + start - b.a
            found.append((start, end, m0, m0 + end - start, t0, t0 + end - start))
        if a.a + a.size < b.a + b.size:
            i += 1
        else:
            j += 1
    found.append((len(base), len(base), len(mine), len(mine), len(theirs), len(theirs)))
    return found


def _line(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def merge(base: str, mine: str, theirs: str, *, mine_label: str = "your text",
          theirs_label: str = "the saved text") -> Merged:
    """``mine`` and ``theirs`` both started from ``base``: one text with both sides' changes."""
    b, m, t = (lines(text) for text in (base, mine, theirs))
    out: list[str] = []
    clashes: list[Clash] = []
    zb = zm = zt = 0
    for start, end, m0, m1, t0, t1 in _anchors(b, m, t):
        old, ours, others = b[zb:start], m[zm:m0], t[zt:t0]
        if ours == others or others == old:
            out += ours
        elif ours == old:
            out += others
        else:
            clashes.append(Clash("".join(old), "".join(ours), "".join(others)))
            out += [f"<<<<<<< {mine_label}\n", *map(_line, ours), "=======\n", *map(_line, others),
                    f">>>>>>> {theirs_label}\n"]
        out += b[start:end]
        zb, zm, zt = end, m1, t1
    return Merged(text="".join(out), clashes=clashes)
