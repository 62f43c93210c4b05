"""Where a ``next`` parameter may send the browser: only to a path of this site (the log-in form, follow
and notification forms all follow one through ``safe_next``).

Browsers are generous with what they read as another host (WHATWG URL Standard, "basic URL parser"): they
drop ASCII tab and newline anywhere (``/\\t/evil.example`` is ``//evil.example``), strip leading and
trailing spaces and control characters, and read ``\\`` as ``/`` in http(s) URLs (``/\\evil.example``).
So a value with any control character or whitespace is refused outright (paths we hand out are
percent-encoded and never contain one), backslashes are read as browsers read them, and what remains
must parse with no scheme and no host and start with a single ``/``.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

HOME = "/"


def _has_control_or_space(value: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in value)


def safe_next(value: str | None) -> str:
    """``value`` when it is a path of this site, otherwise ``/``."""
    if not value or _has_control_or_space(value):
        return HOME
    normalised = value.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return HOME
    parts = urlsplit(normalised)
    if parts.scheme or parts.netloc:
        return HOME
    return normalised
