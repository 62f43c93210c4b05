"""Tags (skills, soft skills, interests, what groups need): one normal form for input, storage and search.

- **label** (stored and shown): Unicode NFKC, a leading ``#`` dropped, underscores read as spaces, runs of
  whitespace folded into one space, lower case. ``"  Machine_Learning "`` -> ``"machine learning"``.
- **key** (matched): the label case-folded without spaces, hyphens, dots or apostrophes, so that
  ``"machine learning"``, ``#MachineLearning`` and ``machine-learning`` are one tag, while ``c``, ``c++``
  and ``c#`` stay three.
- Duplicates (same key) are dropped, the first spelling kept; the order is the member's.

Member input is strict (``parse_list``: a reason for the first bad tag, nothing stored); what remote
servers publish is lenient (``lenient``: bad tags skipped, the list cut at the limit).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from actors.errors import InvalidInput

MAX_TAGS = 30  # per list
MAX_TAG_CHARS = 40
_ALLOWED_PUNCTUATION = set("+#.&'’/-")
_KEY_DROPPED = re.compile(r"[\s\-.'’·_]+")
_SPLIT = re.compile(r"[,;\n]")


class InvalidTag(InvalidInput):
    pass


def label(raw: str) -> str:
    """The normal form of one tag, or InvalidTag saying what is wrong with it."""
    text = unicodedata.normalize("NFKC", raw).strip().lstrip("#").replace("_", " ")
    text = " ".join(text.split()).lower()
    if not text:
        raise InvalidTag("an empty tag")
    if len(text) > MAX_TAG_CHARS:
        raise InvalidTag(f"the tag {text[:MAX_TAG_CHARS]!r}… is too long: at most {MAX_TAG_CHARS} characters")
    for char in text:
        category = unicodedata.category(char)
        if not (category[0] in "LNM" or char == " " or char in _ALLOWED_PUNCTUATION):
            raise InvalidTag(f"the tag {text!r} contains {char!r}: use letters, digits, spaces and + # . & ' / -")
    if not any(unicodedata.category(char)[0] in "LN" for char in text):
        raise InvalidTag(f"the tag {text!r} has no letter or digit")
    return text


def key(tag_label: str) -> str:
    return _KEY_DROPPED.sub("", tag_label.casefold())


def key_of(raw: str) -> str | None:
    """The key of anything typed or received (a search term, a hashtag), or None when it is no tag."""
    try:
        return key(label(raw)) or None
    except InvalidTag:
        return None


def split(value: str | Iterable[str]) -> list[str]:
    """A form field ("python, gardening; cooking" or one per line) or a JSON list, as raw items."""
    items = _SPLIT.split(value) if isinstance(value, str) else [str(item) for item in value]
    return [item for item in items if item.strip()]


def parse_list(value: str | Iterable[str], *, what: str = "tags", limit: int = MAX_TAGS) -> list[str]:
    """Member input: normal labels, duplicates dropped; InvalidTag for the first bad one or too many."""
    labels: dict[str, str] = {}
    for raw in split(value):
        try:
            normal = label(raw)
        except InvalidTag as exc:
            raise InvalidTag(f"{what}: {exc.message}") from None
        labels.setdefault(key(normal), normal)
        if len(labels) > limit:
            raise InvalidTag(f"{what}: too many tags, at most {limit}")
    return list(labels.values())


def lenient(values: Iterable[str], *, limit: int = MAX_TAGS) -> list[str]:
    """What another server published: normal labels, bad ones skipped, at most ``limit``."""
    labels: dict[str, str] = {}
    for raw in values:
        try:
            normal = label(raw)
        except InvalidTag:
            continue
        labels.setdefault(key(normal), normal)
        if len(labels) >= limit:
            break
    return list(labels.values())
