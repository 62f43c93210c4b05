"""The two costly steps that tests repeat thousands of times, made cheap without changing what they do.

- Password hashing: the product's Argon2id parameters (argon2-cffi's defaults, RFC 9106: 3 passes over
  64 MiB on 4 lanes) cost ~0.25 s of CPU per hash and per check on the 2-core test machine, and nearly
  every web test creates people and logs in. Tests hash with Argon2id too (same ``$argon2id$`` format,
  the same verification of right and wrong passwords) with the smallest parameters. The parameters are
  stored in each hash, so a check reads them from there: nothing else differs.
- RSA-2048 key pairs: one per local actor, ~0.08 s of CPU each (and up to seconds under load, as key
  generation searches for primes). In the test process they come from a pool of real keys generated on
  first use and kept in the system's temporary directory for the next run; the pool is handed out in turn, so any two
  actors made within ``RSA_POOL`` key pairs of each other (every test's actors) have different keys. Node subprocesses keep generating their own: two
  nodes sharing keys could make a forged signature verify.

``conftest.py`` applies both to the test process; ``python -m tests.support.node_cli`` (the command the
tests run as ``madeopen``: tests/support/servers.py) applies the hashing to node processes.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from argon2 import PasswordHasher

from actors import passwords
from federation import keys

# argon2's minimum: one pass, 8 KiB per lane, one lane.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
RSA_POOL = 64
RSA_POOL_FILE = Path(tempfile.gettempdir()) / "madeopen-test-keys" / f"rsa-2048-x{RSA_POOL}.json"


def cheap_password_hashing() -> None:
    passwords._hasher = TEST_HASHER


class _RsaPool:
    """Real RSA key pairs, the first ``size`` generated on demand, then handed out again in turn."""

    def __init__(self, size: int, generate: object, file: Path) -> None:
        self._size = size
        self._generate = generate
        self._file = file
        self._keys = _read(file)[:size]
        self._stored = len(self._keys)
        self._turn = itertools.count()

    def __call__(self) -> keys.KeyPairPem:
        index = next(self._turn) % self._size
        if index == len(self._keys):
            self._keys.append(self._generate())  # type: ignore[operator]
        return self._keys[index]

    def store(self) -> None:
        """Keep the keys for the next run, if this one made more than it found."""
        if len(self._keys) > self._stored:
            _write(self._file, self._keys)


def _read(file: Path) -> list[keys.KeyPairPem]:
    try:
        return [keys.KeyPairPem(**pair) for pair in json.loads(file.read_text())]
    except (OSError, ValueError, TypeError):  # none yet, or unreadable: generate anew
        return []


def _write(file: Path, pool: list[keys.KeyPairPem]) -> None:
    """Atomically, as xdist workers may write at once (any complete pool will do)."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_name(f"{file.name}.{os.getpid()}")
        partial.write_text(json.dumps([vars(pair) for pair in pool]))
        partial.replace(file)
    except OSError:  # not writable: the next run generates them again
        pass


@contextmanager
def cheap_test_process() -> Iterator[None]:
    """Both savings for the test process, undone afterwards."""
    hasher, generate_rsa = passwords._hasher, keys.generate_rsa
    cheap_password_hashing()
    pool = _RsaPool(RSA_POOL, generate_rsa, RSA_POOL_FILE)
    keys.generate_rsa = pool  # type: ignore[assignment]
    try:
        yield
    finally:
        pool.store()
        passwords._hasher, keys.generate_rsa = hasher, generate_rsa
