"""Running the suite on several pytest-xdist workers: tests marked ``serial`` run with no other test.

A few tests measure what happens around a moment in time (tests/multinode/test_crash.py kills a worker
process mid-fan-out and reads what was under lease at that instant); other tests sharing the two cores
would stretch those moments. Such a test is marked ``@pytest.mark.serial``: it waits until the tests
running on other workers finish, and no other test starts until it is done.

Two flock(2) locks in the run's shared temporary directory do it. Every test holds ``run`` shared, a
serial test holds it exclusive. ``gate`` is taken exclusively on the way in by every test, and held
by a serial test for its whole run, so a serial test waiting for ``run`` is not starved by the others
taking ``run`` shared one after another.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path


@contextmanager
def run_slot(directory: Path, *, serial: bool) -> Iterator[None]:
    """Hold a slot to run one test: shared with other tests, or alone when ``serial``."""
    with ExitStack() as stack:
        gate = stack.enter_context(open(directory / "serial.gate", "a"))
        run = stack.enter_context(open(directory / "serial.run", "a"))
        fcntl.flock(gate, fcntl.LOCK_EX)
        fcntl.flock(run, fcntl.LOCK_EX if serial else fcntl.LOCK_SH)
        if not serial:
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield  # closing the files releases both locks
