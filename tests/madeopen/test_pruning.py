"""The worker's periodic prune (madeopen/workers.py): retention settings reach it in both process roles, and
one round clears finished queue rows and stale login attempts."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from actors import login_limits
from madeopen.app import Services, build_workers
from madeopen.settings import Settings, SettingsError, load_settings
from madeopen.workers import MIN_INBOUND_ID_MEMORY, Pruner, retention
from storage.models import InboundActivity, LoginAttempt, utcnow


def test_retention_settings() -> None:
    defaults = load_settings({})
    assert (defaults.queue_retention, defaults.dead_retention) == (timedelta(days=7), timedelta(days=30))
    settings = load_settings({"MADEOPEN_QUEUE_RETENTION_DAYS": "3", "MADEOPEN_DEAD_RETENTION_DAYS": "14"})
    assert (settings.queue_retention, settings.dead_retention) == (timedelta(days=3), timedelta(days=14))
    for name in ("MADEOPEN_QUEUE_RETENTION_DAYS", "MADEOPEN_DEAD_RETENTION_DAYS"):
        for bad in ("0", "-1", "a week"):
            with pytest.raises(SettingsError, match=f"^{name}: .*positive"):
                load_settings({name: bad})


def test_inbound_ids_are_remembered_at_least_a_week() -> None:
    """Peers re-send what they think we missed for days; a short retention must not forget those ids."""
    short = retention(timedelta(days=1), timedelta(days=2))
    assert (short.done, short.dead, short.inbound_ids) == (timedelta(days=1), timedelta(days=2), MIN_INBOUND_ID_MEMORY)
    assert retention(timedelta(days=7), timedelta(days=30)).inbound_ids == timedelta(days=30)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, queue_retention_days=2, dead_retention_days=9)


async def test_both_roles_take_the_retention_from_the_settings(services: Services) -> None:
    workers = build_workers(services)  # what `madeopen run` and `madeopen worker` start
    assert (workers.queue_retention, workers.dead_retention) == (timedelta(days=2), timedelta(days=9))
    workers.start()
    assert "pruner" in {task.get_name() for task in workers.tasks}
    await workers.stop()


async def test_one_round_prunes_queues_and_login_attempts(services: Services) -> None:
    now = utcnow()
    async with services.sessions.begin() as session:
        session.add_all([
            InboundActivity(activity_id=f"https://peer.example/a/{age}", actor_uri="https://peer.example/users/bob",
                            key_id="https://peer.example/users/bob#main-key", body="{}", state="done",
                            received_at=now - timedelta(days=age))
            for age in (3, 1)
        ])
        session.add_all([
            LoginAttempt(account_key=login_limits.account_key("cleo"), address="192.0.2.1", attempted_at=at)
            for at in (now - timedelta(hours=1), now)
        ])
    pruner = Pruner(services.sessions, retention(timedelta(days=2), timedelta(days=9)))
    assert await pruner.run_once(now) == 2  # the 3-day-old activity emptied, the hour-old attempt deleted
    async with services.sessions() as session:
        states = dict((await session.execute(select(InboundActivity.activity_id, InboundActivity.state))).all())
        attempts = await session.scalar(select(func.count()).select_from(LoginAttempt))
    assert states == {"https://peer.example/a/3": "seen", "https://peer.example/a/1": "done"}
    assert attempts == 1


async def test_the_first_round_sanitises_again_remote_html_stored_under_an_older_policy(services: Services) -> None:
    """Issue #13: pages show remote HTML of the current policy as stored, so after the policy changes the
    pruner's first round of a process rewrites the older rows (content.resanitise)."""
    from federation.html import SANITISE_POLICY_VERSION
    from storage.models import Object

    async with services.sessions.begin() as session:
        session.add(Object(uri="https://remote.example/post/1", local=False, type="Note",
                           author_uri="https://remote.example/u/alice",
                           content='<p>hi<script>alert(1)</script><img src=x onerror="alert(2)"></p>'))
    pruner = Pruner(services.sessions, retention(timedelta(days=2), timedelta(days=9)))
    await pruner.run_once()
    async with services.sessions() as session:
        row = await session.scalar(select(Object).where(Object.uri == "https://remote.example/post/1"))
    assert row is not None and row.sanitised_version == SANITISE_POLICY_VERSION
    assert row.content == "<p>hi</p>"
