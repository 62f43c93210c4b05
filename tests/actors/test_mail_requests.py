"""The rate limit on reset requests (actors/mail_requests.py): per address asked for and per client,
the same for addresses that belong to nobody; refused requests do not extend the wait."""

from __future__ import annotations

from datetime import timedelta

import pytest

from actors import mail_requests
from actors.mail_requests import RequestLimits, TooManyRequests
from madeopen.app import Services
from storage.models import utcnow

LIMITS = RequestLimits(per_email=2, per_client=4, window=timedelta(hours=1))


async def test_per_address_limit_with_retry_after(services: Services) -> None:
    now = utcnow()
    for n in range(LIMITS.per_email):
        await mail_requests.admit(services.sessions, "ada@example.org", f"192.0.2.{n}", limits=LIMITS, now=now)
    with pytest.raises(TooManyRequests) as caught:  # any case, any client: the same address
        await mail_requests.admit(services.sessions, "ADA@example.org", "192.0.2.9", limits=LIMITS, now=now)
    assert 3500 < caught.value.retry_after <= 3600 and "try again in 60 minutes" in caught.value.message
    await mail_requests.admit(services.sessions, "bea@example.org", "192.0.2.9", limits=LIMITS, now=now)
    # Refusals are not counted: once the window has passed, the address may ask again.
    await mail_requests.admit(services.sessions, "ada@example.org", "192.0.2.9", limits=LIMITS,
                              now=now + LIMITS.window + timedelta(seconds=1))


async def test_per_client_limit_across_addresses(services: Services) -> None:
    now = utcnow()
    for n in range(LIMITS.per_client):
        await mail_requests.admit(services.sessions, f"guess{n}@example.org", "2001:db8::1", limits=LIMITS, now=now)
    with pytest.raises(TooManyRequests):  # the same /64
        await mail_requests.admit(services.sessions, "other@example.org", "2001:db8::2", limits=LIMITS, now=now)
    await mail_requests.admit(services.sessions, "other@example.org", "2001:db8:1::1", limits=LIMITS, now=now)


async def test_prune_forgets_requests_past_the_window(services: Services) -> None:
    await mail_requests.admit(services.sessions, "ada@example.org", "192.0.2.1")
    assert await mail_requests.prune(services.sessions) == 0
    assert await mail_requests.prune(services.sessions, now=utcnow() + timedelta(hours=2)) == 1
