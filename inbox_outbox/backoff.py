"""When a failed delivery is tried again, and when it is given up (PROTOCOL.md "Delivery").

Exponential backoff with jitter: 30 s after the first failure, doubling, each step capped at 6 h, every
step spread by ±20 % so the deliveries of one fan-out that failed together (a host restarting) do not all
come back in the same second. A server's ``Retry-After`` is honoured: we never come back earlier than it
asks, capped at one day (Lemmy caps its backoff at a day; a peer must not park our queue for longer).

Giving up: after 17 attempts (the first and 16 retries, as Mastodon's Sidekiq) or once the next try
would fall more than 3 days after the delivery was queued (Mastodon ~2 days, Misskey ~32 h). With the
defaults the 17th attempt comes about 44 h after the first; ``Retry-After`` can stretch a schedule up to
the 3-day window but never beyond it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    factor: float = 2.0
    max_step: timedelta = timedelta(hours=6)
    jitter: float = 0.2  # each delay is multiplied by a uniform factor in [1 - jitter, 1 + jitter]
    max_retry_after: timedelta = timedelta(days=1)
    max_attempts: int = 17
    max_age: timedelta = timedelta(days=3)

    def step(self, attempts: int) -> timedelta:
        """The delay before the next try after ``attempts`` failed attempts, before jitter."""
        exponent = min(max(attempts, 1) - 1, 64)  # bounded: no float overflow for absurd counts
        seconds = self.base.total_seconds() * self.factor**exponent
        return timedelta(seconds=min(seconds, self.max_step.total_seconds()))

    def delay(self, attempts: int, *, retry_after: float | None = None, rng: random.Random | None = None) -> timedelta:
        """Jittered backoff, but never earlier than the server's (capped) Retry-After."""
        spread = (rng or random).uniform(1.0 - self.jitter, 1.0 + self.jitter)
        backoff = self.step(attempts) * spread
        if retry_after is None:
            return backoff
        asked = min(timedelta(seconds=max(retry_after, 0.0)), self.max_retry_after)
        return max(backoff, asked)

    def deadline(self, created_at: datetime) -> datetime:
        """After this moment a delivery is not tried any more."""
        return created_at + self.max_age

    def next_attempt(
        self,
        *,
        attempts: int,
        created_at: datetime,
        now: datetime,
        retry_after: float | None = None,
        rng: random.Random | None = None,
    ) -> datetime | None:
        """When to try again after ``attempts`` failed attempts, or None to give up."""
        if attempts >= self.max_attempts:
            return None
        when = now + self.delay(attempts, retry_after=retry_after, rng=rng)
        return None if when > self.deadline(created_at) else when
