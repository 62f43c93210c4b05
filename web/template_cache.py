"""Compiled templates kept on disk between starts of a server process (issue #13: idle RSS, first renders).

Jinja compiles a template the first time it is used: lexer, parser, code generator, then Python's
``compile``. The garbage of those steps is freed, but it leaves the heap larger than what lives on (1.2-1.4
MB of idle RSS after the home page in bench/rss.py), and every restart pays the CPU again. Jinja's bytecode
cache (``jinja2.FileSystemBytecodeCache``) stores the compiled code with the checksum of the template's
source: a changed template is compiled again, an unchanged one is loaded as code.

Jinja keys a cached template by its name and source only, not by the environment's options (autoescape,
whitespace control), which change the compiled code too. So the cache lives in a directory named after a
digest of Jinja's and Python's versions and of the source of the module that builds the environment
(``web/responses.py``): changing an option there, or upgrading Jinja, starts an empty directory, and the
directories of earlier digests are removed when a process starts.

The directory holds marshalled code that the process executes, like the ``.pyc`` files of its virtualenv:
it is created with mode 0700 under the data directory, which only the service's user may write.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import sys
from pathlib import Path

import jinja2

logger = logging.getLogger(__name__)

DIRECTORY = "templates"  # under the cache directory given to ``keep_compiled``


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """A failed write (the directory removed, a full or read-only disk) costs the next start a compile,
    never a page: Jinja would raise it from the render that first used the template."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as exc:
            logger.warning("compiled template not kept (%s): %s", bucket.key, exc)


def environment_digest(defining_module: Path) -> str:
    """What the compiled code depends on besides each template's own source."""
    digest = hashlib.sha256()
    digest.update(f"{jinja2.__version__}|{sys.implementation.cache_tag}|".encode())
    digest.update(defining_module.read_bytes())
    return digest.hexdigest()[:16]


def keep_compiled(environment: jinja2.Environment, cache_dir: Path, defining_module: Path) -> Path | None:
    """Attach a bytecode cache under ``cache_dir/templates/<digest>``; the directory, or None (logged) when
    it cannot be made, in which case templates are compiled in memory as before."""
    root = cache_dir / DIRECTORY
    try:
        directory = root / environment_digest(defining_module)  # an install without sources has no digest
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        logger.warning("compiled templates are not kept between starts: %s", exc)
        return None
    for stale in root.iterdir():
        if stale != directory and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)  # another process may be removing it too
    environment.bytecode_cache = _QuietBytecodeCache(str(directory))
    return directory
