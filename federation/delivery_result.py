"""What one POST to an inbox came to: ok, retry later, or give up (PROTOCOL.md "Delivery").

``FederationClient.post_activity`` returns a ``DeliveryResult`` built here; the delivery worker records
it and schedules the next attempt from ``outcome`` and ``retry_after``.

Only protocol here: no database, nothing of ours outside ``federation``.
"""

from __future__ import annotations

import email.utils
import enum
from dataclasses import dataclass
from datetime import datetime, timezone

from federation.http_errors import one_line


RETRY_AFTER_CAP_SECONDS = 86400.0  # PROTOCOL.md "Delivery": honour Retry-After, capped (Lemmy caps at 1 day)

# PROTOCOL.md "Delivery": 4xx are permanent except these, which a later attempt can fix
# (401: the peer may not have our new key yet; 408/429: the peer asked us to come back).
_RETRYABLE_4XX = frozenset({401, 408, 429})


class DeliveryOutcome(enum.StrEnum):
    """How one attempt ended: delivered, worth another try later, or never worth another try."""

    OK = "ok"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class DeliveryResult:
    """What a delivery worker needs to record one POST attempt and schedule the next.

    ``status`` is None when no response arrived (timeout, connection error, refused address).
    ``retry_after`` is the server's Retry-After in seconds (capped at one day), if it sent one.
    ``gone`` is set for 410: the actor/inbox was deleted and the caller should mark it so.
    """

    url: str
    outcome: DeliveryOutcome
    status: int | None
    detail: str
    retry_after: float | None = None
    gone: bool = False

    @property
    def ok(self) -> bool:
        return self.outcome is DeliveryOutcome.OK

    @property
    def should_retry(self) -> bool:
        return self.outcome is DeliveryOutcome.RETRY


def classify_delivery(
    url: str,
    status: int,
    *,
    reason: str = "",
    retry_after: float | None = None,
    location: str | None = None,
    excerpt: str = "",
) -> DeliveryResult:
    """Classify an inbox's answer to a POST (PROTOCOL.md "Delivery")."""
    detail = one_line(f"HTTP {status} {reason}".strip() + (f": {excerpt}" if excerpt else ""))
    if 200 <= status < 300:
        outcome = DeliveryOutcome.OK
    elif 300 <= status < 400:
        # Redirecting a POST is not something peers do on purpose, and following it would send our
        # signed activity somewhere the recipient did not name; record where it pointed.
        outcome = DeliveryOutcome.PERMANENT
        detail = one_line(
            f"HTTP {status} redirect to {location or '(no Location)'}; deliveries do not follow redirects"
        )
    elif 400 <= status < 500 and status not in _RETRYABLE_4XX:
        outcome = DeliveryOutcome.PERMANENT
    else:  # 5xx, 401/408/429, and anything outside the defined ranges
        outcome = DeliveryOutcome.RETRY
    return DeliveryResult(
        url=url, outcome=outcome, status=status, detail=detail, retry_after=retry_after, gone=status == 410
    )


def parse_retry_after(
    value: str | None, *, now: datetime | None = None, cap: float = RETRY_AFTER_CAP_SECONDS
) -> float | None:
    """Seconds to wait from a Retry-After header (RFC 9110 §10.2.3: delta-seconds or HTTP-date).

    Clamped to ``[0, cap]``; None when absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # More than 12 digits is already far beyond any cap; skip the int conversion.
        return cap if len(text) > 12 else min(float(int(text)), cap)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=timezone.utc)
    seconds = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(seconds, 0.0), cap)
