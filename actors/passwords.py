"""Argon2id password hashing (argon2-cffi defaults follow RFC 9106's recommendations).

argon2-cffi (with its cffi backend) is imported on the first password hashed or checked: a node that
nobody logs in to keeps it out of its resident memory (issue #13, bench/rss.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from actors.errors import InvalidInput

if TYPE_CHECKING:
    from argon2 import PasswordHasher

_hasher: PasswordHasher | None = None  # made on first use; tests put a cheaper one here (tests/support/costs.py)
MIN_LENGTH = 8
MAX_LENGTH = 1024


def _the_hasher() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password too short: use at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password too long: at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _the_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    hasher = _the_hasher()
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
