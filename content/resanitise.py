"""Sanitise stored remote HTML again after the policy changed (federation.html.SANITISE_POLICY_VERSION).

Pages show a remote row as stored when its version is current (content.shown_html) and sanitise older
rows on every view; this rewrites the older ones once, in batches of ``BATCH`` rows each in its own
transaction (short locks, on SQLite and PostgreSQL alike), so they too are shown as stored. The pruner
runs it once when a process starts (madeopen.workers): after a deploy that bumped the version, or the
migration that added the column (every remote row then has none).
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnElement, or_, select

from federation.html import SANITISE_POLICY_VERSION, sanitize_html
from storage.engine import SessionMaker
from storage.models import Object

log = logging.getLogger(__name__)
BATCH = 200


def _stale() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Remote rows a policy other than the current one cleaned (or none recorded)."""
    return Object.local.is_(False), or_(
        Object.sanitised_version.is_(None), Object.sanitised_version != SANITISE_POLICY_VERSION
    )


async def resanitise(sessions: SessionMaker, batch: int = BATCH) -> int:
    """Re-sanitise every remote row stored under another policy version; returns how many were rewritten."""
    done, after = 0, 0
    while True:
        async with sessions.begin() as session:
            rows = list(await session.scalars(
                select(Object).where(*_stale(), Object.id > after).order_by(Object.id).limit(batch)
            ))
            for row in rows:
                # A row that arrived meanwhile was sanitised by the current policy; cleaning it again changes nothing.
                row.content = sanitize_html(row.content or "")
                row.sanitised_version = SANITISE_POLICY_VERSION
        if not rows:
            break
        done += len(rows)
        after = rows[-1].id
    if done:
        log.info("resanitise: %d remote posts sanitised again under policy %d", done, SANITISE_POLICY_VERSION)
    return done
