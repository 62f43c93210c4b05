"""A person-readable name for a browser's User-Agent ("Firefox 133 on Linux"), for /settings/sessions.

ua-parser applies the maintained uap-core rules; parsing runs a few hundred regular expressions, so
results are cached (a person has a handful of sessions, and the same few browsers come back).
"""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

UNKNOWN = "Unknown browser"


@lru_cache(maxsize=256)
def describe(user_agent: str) -> str:
    if not user_agent.strip():
        return UNKNOWN
    result = parse(user_agent)
    browser = result.user_agent
    name = UNKNOWN if browser is None or browser.family == "Other" else browser.family
    if browser is not None and browser.major and name != UNKNOWN:
        name = f"{name} {browser.major}"
    system = result.os
    if system is not None and system.family != "Other":
        name = f"{name} on {system.family}"
    return name
