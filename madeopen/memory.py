"""How many malloc arenas a server process keeps (issue #13: idle RSS, bench/rss.py).

glibc gives each thread that allocates while another holds the arena a new arena, up to eight per core,
each keeping its own free memory. On SQLite every pooled connection is an aiosqlite thread (five at idle),
so a started node held six arenas, about 1.1-1.7 MB more than with one or two (bench/README.md, "inbox",
RSS paragraphs). Two arenas: the event loop's thread keeps the main arena, the database threads share
the other with it in turn; their allocations are short (rows being converted) and made while the GIL is
released, so contention is rare. An administrator's ``MALLOC_ARENA_MAX`` (read by glibc at start) is
left as set; other C libraries (musl) have no such arenas and are left alone. The deploy units set
``MALLOC_ARENA_MAX=2`` themselves, so a service does not load ctypes for this (0.3 MB; bench/README, "rss16").
"""

from __future__ import annotations

import os
import sys

M_ARENA_MAX = -8  # glibc's malloc.h
SERVER_ARENAS = 2


def limit_malloc_arenas(arenas: int = SERVER_ARENAS) -> bool:
    """Before the process starts threads. True if glibc took the limit."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return False
    import ctypes  # here: only server processes pay for it (0.3 MB)

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
