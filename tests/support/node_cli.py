"""``madeopen`` as the tests run it in node subprocesses: the real CLI, hashing passwords with the tests'
small Argon2id parameters (tests/support/costs.py)."""

from __future__ import annotations

import sys

from madeopen.cli import main
from tests.support.costs import cheap_password_hashing

if __name__ == "__main__":
    cheap_password_hashing()
    sys.exit(main())
