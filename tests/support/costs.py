"""The two costly steps that tests repeat thousands of times, made cheap without changing what they do.

- Password hashing: the product's Argon2id parameters (argon2-cffi's defaults, RFC 9106: 3 passes over
  64 MiB on 4 lanes) cost ~0.25 s of CPU per hash and per check on the 2-core test machine, and nearly
  every web test creates people and logs in. Tests hash with Argon2id too (same ``$argon2id$`` format,
  the same verification of right and wrong passwords) with the smallest parameters. The parameters are
  stored in each hash, so a check reads them from there: nothing else differs.
- RSA-2048 key pairs: one per local actor, ~0.08 s of CPU each (and up to seconds under load, as key
  generation searches for primes). In the test process they come from a pool of real keys generated on
  first use; the pool is handed out in turn, so any two actors made within ``RSA_POOL`` key pairs of each
  other (every test's actors) have different keys. Node subprocesses keep generating their own: two
  nodes sharing keys could make a forged signature verify.

``conftest.py`` applies both to the test process; ``python -m tests.support.node_cli`` (the command the
tests run as ``madeopen``: tests/support/servers.py) applies the hashing to node processes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from argon2 import PasswordHasher

from actors import passwords
from federation import keys

# argon2's minimum: one pass, 8 KiB per lane, one lane.
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
RSA_POOL = 64


def cheap_password_hashing() -> None:
    passwords._hasher = TEST_HASHER


class _RsaPool:
    """Real RSA key pairs, the first ``size`` generated on demand, then handed out again in turn."""

    def __init__(self, size: int, generate: object) -> None:
        self._size = size
        self._generate = generate
        self._keys: list[keys.KeyPairPem] = []
        self._turn = itertools.count()

    def __call__(self) -> keys.KeyPairPem:
        index = next(self._turn) % self._size
        if index == len(self._keys):
            self._keys.append(self._generate())  # type: ignore[operator]
        return self._keys[index]


@contextmanager
def cheap_test_process() -> Iterator[None]:
    """Both savings for the test process, undone afterwards."""
    hasher, generate_rsa = passwords._hasher, keys.generate_rsa
    cheap_password_hashing()
    keys.generate_rsa = _RsaPool(RSA_POOL, generate_rsa)  # type: ignore[assignment]
    try:
        yield
    finally:
        passwords._hasher, keys.generate_rsa = hasher, generate_rsa
