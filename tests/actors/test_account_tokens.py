"""Links mailed to people (actors/account_tokens.py): only a hash is stored, each works once, they expire,
a newer one replaces the older, and a refused use changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from actors import account_tokens
from actors.account_tokens import CONFIRM_EMAIL, RESET_PASSWORD, BadToken
from madeopen.app import Services
from storage.models import AccountToken, utcnow
from tests.support.web_ui import create_person


async def _issue(services: Services, actor_id: int, purpose: str = RESET_PASSWORD) -> str:
    async with services.sessions.begin() as session:
        return await account_tokens.issue(session, actor_id, purpose)


async def _redeem(services: Services, secret: str, purpose: str = RESET_PASSWORD, **kwargs: object) -> int:
    async with services.sessions.begin() as session:
        return (await account_tokens.redeem(session, secret, purpose, **kwargs)).actor_id  # type: ignore[arg-type]


async def _reason(services: Services, secret: str, purpose: str = RESET_PASSWORD, **kwargs: object) -> str:
    with pytest.raises(BadToken) as caught:
        await _redeem(services, secret, purpose, **kwargs)
    return caught.value.reason


async def test_only_a_hash_is_stored_and_the_link_works_once(services: Services) -> None:
    ada = await create_person(services, "ada")
    secret = await _issue(services, ada)
    assert len(secret) >= 43
    async with services.sessions() as session:
        [row] = (await session.scalars(select(AccountToken))).all()
    assert secret not in (row.token_hash, row.email) and row.token_hash == account_tokens.token_hash(secret)
    assert await _redeem(services, secret) == ada
    assert await _reason(services, secret) == "used"


async def test_expired_links_are_refused(services: Services) -> None:
    ada = await create_person(services, "ada")
    secret = await _issue(services, ada)
    later = utcnow() + account_tokens.LIFETIMES[RESET_PASSWORD] + timedelta(seconds=1)
    assert await _reason(services, secret, now=later) == "expired"
    assert await _redeem(services, secret) == ada  # the refusal spent nothing


async def test_a_newer_link_replaces_the_older_and_purposes_do_not_mix(services: Services) -> None:
    ada = await create_person(services, "ada")
    first, second = await _issue(services, ada), await _issue(services, ada)
    confirm = await _issue(services, ada, CONFIRM_EMAIL)
    assert await _reason(services, first) == "used"
    assert await _reason(services, confirm, RESET_PASSWORD) == "unknown"  # a confirmation link resets nothing
    assert await _redeem(services, second) == ada
    assert await _redeem(services, confirm, CONFIRM_EMAIL) == ada  # other purposes are left alone


@pytest.mark.parametrize("secret", ["", "x", "a" * 43, "a" * 5000])
async def test_made_up_links_are_unknown(services: Services, secret: str) -> None:
    await _issue(services, await create_person(services, "ada"))
    assert await _reason(services, secret) == "unknown"


async def test_a_failed_transaction_leaves_the_link_usable(services: Services) -> None:
    ada = await create_person(services, "ada")
    secret = await _issue(services, ada)
    with pytest.raises(RuntimeError):
        async with services.sessions.begin() as session:
            await account_tokens.redeem(session, secret, RESET_PASSWORD)
            raise RuntimeError("the change it was for was refused")
    assert await _redeem(services, secret) == ada


async def test_prune_deletes_links_a_day_past_expiry(services: Services) -> None:
    ada = await create_person(services, "ada")
    await _issue(services, ada)
    assert await account_tokens.prune(services.sessions) == 0
    later = utcnow() + account_tokens.LIFETIMES[RESET_PASSWORD] + account_tokens.KEEP_AFTER_EXPIRY + timedelta(minutes=1)
    assert await account_tokens.prune(services.sessions, now=later) == 1
