"""Word forms and near spellings in the people finder (issue #16): someone looking for a "carpenter" finds
the people whose skill is "carpentry", "gardening" finds "urban gardening", "carpentery" finds
"carpentry".

A searched tag is widened to the existing tags (of the same kinds) it is related to: every word of the
search has a close word in the tag. Words are compared by their Snowball (Porter 2) English stems
(snowballstemmer): equal stems, or stems sharing a long beginning ("carpent" ~ "carpentri": the shorter
stem whole, at least ``MIN_PREFIX`` letters), or a near spelling of a long word (difflib ratio at least
``MIN_SIMILARITY``). The tag's own words may be more ("urban gardening" for "gardening"), not fewer.

The finder's free-text words (people.fts) follow the same beginning rule in the full-text index: a word
whose stem is long enough also matches the longer words that stem begins ("carpenter" finds "carpentry").
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ProfileTag

MIN_PREFIX = 5
MIN_SIMILARITY = 0.84
MAX_WIDENED = 20  # existing tags one searched tag may stand for
MAX_CANDIDATES = 20_000  # distinct tags read to compare with
_WORD = re.compile(r"\w+")


@cache
def _stemmer() -> Any:
    """The English Snowball stemmer, imported on first use: the package loads all of its ~30 languages
    (~2.6 MB resident), which an idle node never needs (issue #13)."""
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=8192)
def stems(label: str) -> tuple[str, ...]:
    return tuple(_stemmer().stemWords(_WORD.findall(label.casefold())))


def _close(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) >= MIN_PREFIX and long.startswith(short):
        return True
    return len(short) >= MIN_PREFIX and SequenceMatcher(None, a, b).ratio() >= MIN_SIMILARITY


# A noun in -ry or -y ("carpentry", "joinery", "photography") stems to -ri or -i ("carpentri"); its maker or
# doer ("carpenter", "joiner", "photographer") shares the stem without that ending ("carpent").
_NOUN_ENDINGS = ("ri", "i")


def search_beginning(word: str) -> str | None:
    """What a searched word is matched as the beginning of, or None to match it whole (a short stem).
    Usually the word itself (its stem begins the longer forms: "carpenter" finds "carpentry"); for a noun in
    -ry or -y, its stem without that ending, so "carpentry" ("carpent") finds "carpenter" too, as long as
    at least ``MIN_PREFIX`` letters remain ("bakery": not "bake", which would find "baked", but "baker")."""
    if not matches_longer(word):
        return None
    stem = stems(word)[0]
    for ending in _NOUN_ENDINGS:
        if stem.endswith(ending) and len(stem) - len(ending) >= MIN_PREFIX:
            return stem[: -len(ending)]
    return word


def matches_longer(word: str) -> bool:
    """Whether a searched word also stands for the longer words its stem begins: its stem has at least
    ``MIN_PREFIX`` letters (as in ``_close``), so "carpenter" ("carpent") does and "art" does not."""
    found = stems(word)
    return len(found) == 1 and len(found[0]) >= MIN_PREFIX


def related(searched: str, tag: str) -> bool:
    """Every word of ``searched`` has a close word in ``tag`` (module text)."""
    wanted, have = stems(searched), stems(tag)
    return bool(wanted) and all(any(_close(word, other) for other in have) for word in wanted)


async def widen(session: AsyncSession, labels: tuple[str, ...], kinds: tuple[str, ...]) -> tuple[str, ...]:
    """``labels`` and the existing tags of ``kinds`` related to them (each searched label first)."""
    if not labels:
        return labels
    existing = list(await session.scalars(
        select(ProfileTag.label).where(ProfileTag.kind.in_(kinds)).distinct().limit(MAX_CANDIDATES)
    ))
    widened: dict[str, None] = dict.fromkeys(labels)
    for searched in labels:
        found = [tag for tag in existing if tag.casefold() != searched.casefold() and related(searched, tag)]
        widened.update(dict.fromkeys(sorted(found, key=len)[:MAX_WIDENED]))
    return tuple(widened)

