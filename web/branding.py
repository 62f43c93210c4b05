"""The node's accent colours as a stylesheet (served at ``/branding.css`` by web/routes/home.py).

A stylesheet of its own rather than an inline ``<style>``: the Content-Security-Policy allows no inline
style (web/security_headers.py). Pages link it with ``?v=`` the stylesheet's digest, so a change of
colours is a new address and browsers may keep each version a day.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from actors import node_settings

PATH = "/branding.css"


def stylesheet(accent: str) -> str:
    return (
        f":root {{ --accent: {accent}; --on-accent: {node_settings.text_on(accent)}; "
        f"--link: {node_settings.readable_on_white(accent)}; }}\n"
    )


@lru_cache(maxsize=16)  # asked on every page, for the one accent of the node
def url(accent: str) -> str:
    return f"{PATH}?v={hashlib.sha256(stylesheet(accent).encode()).hexdigest()[:12]}"
