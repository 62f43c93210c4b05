"""Delivery queue state per remote host, for operators (`madeopen deliveries`, DESIGN.md §3).

A group's activities to its members wait as fan-out rows until the delivery worker expands them into
deliveries (storage.models.Fanout, normally within moments): they have no host yet, so the report counts them
apart (:func:`unexpanded`), in its caption."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import case, func, select

from storage.engine import SessionMaker
from storage.models import Delivery, Fanout, Host

RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class HostState:
    host: str
    pending: int = 0  # queued, not yet delivered
    failing: int = 0  # pending rows that already failed at least once
    dead: int = 0  # given up (permanent error, gone, blocked, expired)
    done_recently: int = 0  # delivered in the last 24 hours
    unavailable: bool = False
    failure_days: int = 0
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _count(condition: object) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def queue_state(sessions: SessionMaker, *, now: datetime | None = None) -> list[HostState]:
    """Every host with deliveries or a health record; unavailable hosts first, then by backlog."""
    since = (now or datetime.now(timezone.utc)) - RECENT
    counts = (
        select(
            Delivery.host,
            _count(Delivery.state == "pending").label("pending"),
            _count((Delivery.state == "pending") & (Delivery.attempts > 0)).label("failing"),
            _count(Delivery.state == "dead").label("dead"),
            _count((Delivery.state == "done") & (Delivery.finished_at >= since)).label("done_recently"),
        )
        .group_by(Delivery.host)
    )
    async with sessions() as session:
        per_host = {row.host: row for row in await session.execute(counts)}
        health = {row.host: row for row in await session.scalars(select(Host))}
    states = [_state(name, per_host.get(name), health.get(name)) for name in per_host.keys() | health.keys()]
    return sorted(states, key=lambda s: (not s.unavailable, -s.pending, -s.failing, s.host))


async def unexpanded(sessions: SessionMaker) -> int:
    """Fan-out rows the delivery worker has not expanded into deliveries yet."""
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Fanout)) or 0


def _state(name: str, counts: object | None, host: Host | None) -> HostState:
    numbers = {
        field: int(getattr(counts, field)) for field in ("pending", "failing", "dead", "done_recently")
    } if counts is not None else {}
    if host is None:
        return HostState(name, **numbers)
    return HostState(
        name,
        **numbers,
        unavailable=bool(host.unavailable),
        failure_days=host.failure_days or 0,
        last_success_at=_utc(host.last_success_at),
        last_failure_at=_utc(host.last_failure_at),
    )


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def _health(state: HostState) -> str:
    if state.unavailable:
        return f"UNAVAILABLE ({state.failure_days} failure days)"
    if state.failure_days:
        return f"failing ({state.failure_days} day{'s' if state.failure_days != 1 else ''})"
    return "ok"


def _totals(states: list[HostState], unexpanded: int) -> str:
    pending = sum(s.pending for s in states)
    failing = sum(s.failing for s in states)
    dead = sum(s.dead for s in states)
    done = sum(s.done_recently for s in states)
    unavailable = sum(s.unavailable for s in states)
    return (
        f"{len(states)} host{'s' if len(states) != 1 else ''}: {pending} pending ({failing} failing), "
        f"{dead} dead, {done} delivered in 24 h; {unavailable} unavailable" + _fanouts(unexpanded)
    )


def _fanouts(unexpanded: int) -> str:
    if not unexpanded:
        return ""
    return f"; {unexpanded} group fan-out{'s' if unexpanded != 1 else ''} not yet expanded into deliveries"


def render_table(states: list[HostState], *, width: int = 140, ascii_only: bool = False, unexpanded: int = 0) -> str:
    """Plain text (no colour codes) so it reads the same in a terminal, a pipe or a log.

    ``ascii_only`` draws the borders with ASCII, for terminals that cannot show box characters;
    ``unexpanded``: fan-out rows waiting for the delivery worker (:func:`unexpanded`).
    """
    # Imported here: only the CLI's report draws tables; a server process never needs Rich (issue #13, RSS).
    from rich import box
    from rich.console import Console
    from rich.table import Table

    if not states:
        return "no deliveries queued" + _fanouts(unexpanded) + "\n"
    table = Table(
        title="Deliveries per host (times UTC)",
        title_justify="left",
        caption=_totals(states, unexpanded),
        caption_justify="left",
        box=box.ASCII2 if ascii_only else box.HEAVY_HEAD,
    )
    table.add_column("host", no_wrap=True)
    for name in ("pending", "failing", "dead", "done 24h"):
        table.add_column(name, justify="right")
    table.add_column("health")
    table.add_column("last success", no_wrap=True)
    table.add_column("last failure", no_wrap=True)
    for s in states:
        table.add_row(
            s.host, str(s.pending), str(s.failing), str(s.dead), str(s.done_recently),
            _health(s), _when(s.last_success_at), _when(s.last_failure_at),
        )
    buffer = io.StringIO()
    Console(file=buffer, width=width, color_system=None, force_terminal=False).print(table)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"
