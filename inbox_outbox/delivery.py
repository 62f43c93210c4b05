"""The delivery worker: claims due deliveries, signs, POSTs, records the outcome (DESIGN.md §2, PROTOCOL.md
"Delivery").

One pass (``run_once``, what tests step):

0. expand due fan-out rows (a group's activity to its members, ``inbox_outbox.outbox.expand_fanouts``) into
   their deliveries, in the claim's transaction, before looking for due rows;
1. claim due rows in one transaction (candidates are picked first, then leased by id in one ``UPDATE …
   RETURNING``, with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several workers claim disjoint rows). Due: pending, ``next_attempt_at`` passed, lease
   free, queued less than the give-up window ago, and the host not unavailable unless the row bypasses
   host health (Follow requests). At most ``4 x per_host_concurrency`` rows per host are taken at once,
   so one big or slow host cannot fill a batch and every claimed row starts well within its lease.
   Rows to blocked domains are marked dead there, never sent.
2. load each activity once and serialise it once for all its inboxes; the signer is the row's local
   actor (``actors.signing.signer_for``).
3. POST them in parallel over the one keep-alive pool, bounded by a per-host and a global semaphore
   (``run_forever``: by its long-lived senders, ``inbox_outbox.delivery_pump``).
4. record every outcome, and the hosts' health, in one transaction: ok -> done; permanent (4xx except
   401/408/429) -> dead; 410 -> dead, with every other queued delivery to that inbox; retry -> rescheduled
   with backoff and jitter (``inbox_outbox.backoff``), or dead once the schedule is used up.

``run_forever`` keeps the pool busy instead of waiting for whole batches: it claims as slots free up and
skips hosts already at their limit in this process. Idle, or once a claim found fewer rows than it
wanted (the end of a fan-out, or only busy hosts' rows left, with POSTs still finishing), it claims again
as soon as deliveries or fan-out rows are queued (storage/queue_signal.py: a commit in this process, or a
NOTIFY on PostgreSQL), a busy host has room again, or after ``idle`` seconds (the poll: retries whose time
has come). A process that dies mid-way loses nothing: its
rows keep their lease, which expires, and another pass claims them again (at-least-once delivery;
peers drop duplicate activity ids, PROTOCOL.md "Validation").

Time comes from an injectable clock, so tests step it instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from actors.blocks import PolicyCache
from actors.signing import signer_for
from federation.delivery_result import DeliveryOutcome, DeliveryResult
from inbox_outbox.backoff import RetryPolicy
from inbox_outbox.delivery_outcome import Attempt, Decision, Job, decide, drop_blocked, log_outcome, record
from inbox_outbox.delivery_pump import DeliveryPump
from inbox_outbox.federation import Federation
from inbox_outbox.outbox import EXPAND_BATCH, expand_fanouts
from storage import queue_signal, write_gate
from storage.models import Activity, Delivery, Host, LocalActor

__all__ = ["LEASE", "Attempt", "Decision", "DeliveryWorker", "Job", "decide", "serialise", "system_clock"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# A claimed row must be sent and recorded within its lease, or another worker sends it again. The
# worst wait is about 4 rounds of the 30 s request limit for its host (PER_HOST_CLAIM_ROUNDS below), each
# perhaps behind a round for a global slot (run_forever claims ahead): 5 min is ample.
LEASE = timedelta(minutes=5)
PER_HOST_CLAIM_ROUNDS = 4
# run_forever claims no more for a host while this many rounds of its POST slots are claimed in this
# process: one round in flight, one waiting. A host that hangs holds at most that much of the pump.
PER_HOST_PUMP_ROUNDS = 2
# A claim ranks hosts among this many times as many of the oldest due rows as it takes (_candidates).
CLAIM_WINDOW = 4
# How often rows that can no longer be sent (queued longer than the give-up window, e.g. while their
# host was unavailable) are swept to dead.
SWEEP_EVERY = timedelta(minutes=10)
# run_forever records finished attempts in batches: one transaction per two batches' worth of rows
# (DeliveryWorker._record_rows) or per this many seconds.
# A crash loses at most this much bookkeeping, and those rows are simply sent again after the lease.
# A record costs ~3 ms of CPU whatever its size (five statements and a commit) plus ~20 µs a row
# (issue #13: 0.05 s made batches of ~30 at 700 deliveries/s, ~100 µs a delivery; 0.25 s, ~40).
RECORD_EVERY = 0.25
# Rows one claim takes at most (run_once claims one such batch). A claim's transaction, its statements and
# their set-up cost a few ms however few rows it takes, so a fan-out of N rows costs ~N/BATCH of them: 256
# rather than 128 took ~20 µs of CPU off each delivery of bench/fanout.py (issue #13, fan16). A claim still
# takes at most PER_HOST_CLAIM_ROUNDS rounds per host.
BATCH = 256
# How often an idle worker looks at its queue when nothing wakes it (settings: MADEOPEN_QUEUE_POLL_SECONDS).
POLL_SECONDS = 0.5
_DELIVERIES = Delivery.__table__
# What _prepare reads of a claim's activities and signers; built once (building a statement and its cache
# key is ~0.5-1 ms, at every claim; issue #13, fan16).
_ACTIVITIES = select(Activity.id, Activity.uri, Activity.document).where(
    Activity.id.in_(bindparam("ids", expanding=True))
)
_SIGNERS = select(LocalActor.id, LocalActor.actor_type, LocalActor.username, LocalActor.rsa_private_pem).where(
    LocalActor.id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True)
class _Row:
    """The columns of a claimed delivery that sending reads."""

    id: int
    activity_id: int
    signer_id: int
    inbox: str
    host: str
    attempts: int
    created_at: datetime


def _utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (in UTC, as stored); the clock may be in any zone."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def serialise(document: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and digested): compact UTF-8 JSON."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class _ClaimStatements:
    candidates: Select[tuple[int]]
    lease: Any  # UPDATE … RETURNING


@dataclass(frozen=True)
class Claimed:
    jobs: list[Job]
    taken: int  # rows claimed, including those dropped as blocked
    expanded: int = 0  # fan-out rows expanded into deliveries first


# --------------------------------------------------------------------------------------------------
# The worker


class DeliveryWorker:
    def __init__(
        self,
        fed: Federation,
        *,
        clock: Clock | None = None,
        batch: int = BATCH,
        global_concurrency: int = 64,
        per_host_concurrency: int = 4,
        lease: timedelta = LEASE,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        idle: float = POLL_SECONDS,
    ) -> None:
        if min(batch, global_concurrency, per_host_concurrency) < 1:
            raise ValueError("batch and concurrency limits must be at least 1")
        self.fed = fed
        self.clock = clock or system_clock
        self.batch = batch
        self.global_concurrency = global_concurrency
        self.per_host_concurrency = per_host_concurrency
        self.lease = lease
        self.policy = policy or RetryPolicy()
        self.rng = rng or random.Random()
        self.idle = idle
        self._global = asyncio.Semaphore(global_concurrency)
        # Sends in flight or claimed, and claim once this many more fit: a claim costs ~1-4 ms of CPU
        # however few rows it takes, so it takes a full batch
        # (issue #13: twice the POST slots and a claim at half took ~30 claims per 2,000 rows; batches of 128,
        # ~16; of 256, ~8). At most this many rows wait claimed: 6 rounds of the 64 slots, 3 min if every
        # POST ran into its 30 s limit, within the lease.
        self._pump_capacity = 2 * global_concurrency + batch
        self._claim_room = batch
        # Finished attempts are recorded once this many wait (or RECORD_EVERY passed): a record costs ~2.5 ms
        # of CPU whatever its size (its statements and the commit) plus ~15-20 µs a row, so records of two
        # batches rather than one save ~12 µs a delivery (issue #13, bench/README "fanout"). At a few
        # thousand deliveries a second RECORD_EVERY comes first.
        self._record_rows = 2 * batch
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._claimed_per_host: Counter[str] = Counter()  # claimed and not yet finished, in this worker
        self._last_sweep: datetime | None = None
        self._claim_statements: dict[str, _ClaimStatements] = {}  # by dialect name
        self._domain_policy = PolicyCache(fed.sessions, allowlist=fed.allowlist)
        self._engine = queue_signal.engine_of(fed.sessions)

    def now(self) -> datetime:
        return _utc(self.clock())

    # -- one pass -----------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, send it, record the outcomes; returns how many rows were taken."""
        await self._sweep_expired()
        claimed = await self._claim(self.batch)
        attempts = await asyncio.gather(*(self._send(job) for job in claimed.jobs))
        await self._record(attempts)
        return claimed.taken

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set, then finish and record what is in flight."""
        pump = DeliveryPump(self._send_now, senders=self.global_concurrency, per_host=self.per_host_concurrency)
        engine = queue_signal.engine_of(self.fed.sessions)
        try:
            # Queued deliveries and fan-out rows wake the pump as a finished POST does: the next step
            # expands and claims them.
            async with queue_signal.listening(engine, queue_signal.DELIVERIES, pump.queue_signal), \
                    queue_signal.listening(engine, queue_signal.FANOUTS, pump.queue_signal):
                while not stop.is_set() or pump.busy:
                    try:
                        await self._step(stop, pump)
                    except Exception:  # a database blip must not end delivery: the leases keep the rows safe
                        log.exception("delivery: worker pass failed; retrying shortly")
                        await _wait(stop, self.idle * 4)
        finally:
            pump.cancel()  # (shutdown timeout): unsent rows return after the lease

    async def _step(self, stop: asyncio.Event, pump: DeliveryPump) -> None:
        """Top up the POSTs in flight, record finished ones in batches, or wait for something to do."""
        more_due = False
        if not stop.is_set():
            await self._sweep_expired()
            # Claim ahead: rows wait, claimed, for a POST slot (the global semaphore bounds the POSTs
            # themselves), and a claim is made once a batch's worth of room is free, not for every
            # finished POST. Each claim is a transaction of a few statements (~1-4 ms of CPU on SQLite),
            # so fewer, bigger claims cost less per delivery (issue #13: ~45 claims per 2,000 rows, then
            # ~30, then ~16, now ~8; see __init__).
            room = self._pump_capacity - pump.pending
            if room >= self._claim_room or (room > 0 and not pump.pending):
                more_due = await self._claim_into(pump, room)
        if pump.finished and (len(pump.finished) >= self._record_rows or not pump.pending or pump.waited(RECORD_EVERY)):
            attempts, pump.finished = pump.finished, []
            try:
                await self._record(attempts)
            except Exception:
                pump.finished[:0] = attempts  # try again on the next step; the leases still hold
                raise
        elif more_due:
            await asyncio.sleep(0)
        elif pump.pending:
            await pump.wait(RECORD_EVERY if pump.finished else self.idle)
        else:
            await pump.wait(self.idle, stop)

    async def _claim_into(self, pump: DeliveryPump, room: int) -> bool:
        """Claim up to ``room`` rows (a batch at most) into the pump, unless the last claim came back short
        and nothing since says this one would not (``DeliveryPump.worth_claiming``). Whether more is due at once."""
        busy = self._busy_hosts()  # here, not at every step: a sort of the hosts in flight
        if not pump.worth_claiming(busy, self.idle):
            return False
        wanted = min(room, self.batch)
        pump.queued = False  # rows queued from now on wake the next claim
        claimed = await self._claim(wanted, busy=busy)
        for job in claimed.jobs:
            pump.start(job)
        # Busy hosts after the claim: one it filled has rows left, to claim once it has room.
        pump.claimed(self._busy_hosts(), short=claimed.taken < wanted and claimed.expanded < EXPAND_BATCH)
        # A full expansion may have left more fan-out rows (perhaps of groups with no remote member left,
        # which give no rows to claim): expand on at once rather than at the poll.
        return (claimed.taken == wanted and room > wanted) or claimed.expanded >= EXPAND_BATCH

    def _busy_hosts(self) -> list[str]:
        full = PER_HOST_PUMP_ROUNDS * self.per_host_concurrency
        return sorted(h for h, n in self._claimed_per_host.items() if n >= full)

    # -- claiming -----------------------------------------------------------------------------------

    def _due(self, row: Any) -> list[ColumnElement[bool]]:
        """Conditions for a row (the table or an alias of it) to be sent at ``:now``, lease included."""
        unavailable = exists().where(Host.host == row.host, Host.unavailable)
        return [
            row.state == "pending",
            row.next_attempt_at <= bindparam("now"),
            row.created_at >= bindparam("oldest"),  # now - the give-up window
            or_(row.bypass_host_health, ~unavailable),
            or_(row.lease_until.is_(None), row.lease_until < bindparam("now")),
        ]

    def _statements(self, dialect: str) -> _ClaimStatements:
        """The claim's two statements, built once per worker (a fan-out claims dozens of times): only the
        values are bound at each claim."""
        statements = self._claim_statements.get(dialect)
        if statements is None:
            statements = self._claim_statements[dialect] = _ClaimStatements(
                self._candidates(), self._lease(for_update=dialect == "postgresql")
            )
        return statements

    def _candidates(self) -> Select[tuple[int]]:
        """Ids of due rows not to ``:busy`` hosts, oldest first, at most ``PER_HOST_CLAIM_ROUNDS x
        per_host_concurrency`` per host, ``:limit`` in all.

        Ranked per host (a window function) among the ``:window`` oldest due rows, so a host with a big
        backlog cannot fill a claim whatever order the rows were queued in, and a claim costs the same
        however long the queue is: ranking every due row cost ~30 ms a claim with 30,000 queued on SQLite
        (issue #13, bench/inbox.py ``--deliver``). A host whose backlog is longer than the window holds
        the others back for one claim at most: ``run_forever`` then has a full round of its rows claimed,
        and excludes it as ``:busy`` until they are sent.
        """
        row = aliased(Delivery)
        head = (
            select(row.id, row.host, row.next_attempt_at)
            .where(row.host.not_in(bindparam("busy", expanding=True)), *self._due(row))
            .order_by(row.next_attempt_at, row.id)
            .limit(bindparam("window"))
            .subquery()
        )
        rank = func.row_number().over(partition_by=head.c.host, order_by=(head.c.next_attempt_at, head.c.id))
        ranked = select(head.c.id, head.c.next_attempt_at, rank.label("rank")).subquery()
        return (
            select(ranked.c.id)
            .where(ranked.c.rank <= self.per_host_concurrency * PER_HOST_CLAIM_ROUNDS)
            .order_by(ranked.c.next_attempt_at, ranked.c.id)
            .limit(bindparam("limit"))
        )

    def _lease(self, *, for_update: bool) -> Any:
        """Lease the ``:ids`` still due and free (``:limit`` of them) until ``:lease_until``, and read back
        only what sending needs (no ORM rows to load, track and flush; issue #13)."""
        c = _DELIVERIES.c
        due = self._due(c)
        if not for_update:
            # SQLite, which has no statistics here, would walk ix_deliveries_due for the ORDER BY and test
            # each due row against the ids: the whole queue whenever fewer than :limit of them are due (~2 ms
            # a claim at 30,000 queued). Saying that most rows are pending makes it look the ids up by key.
            due[0] = func.likelihood(due[0], literal_column("0.9375"))  # a literal: SQLite takes no parameter there
        pick = (
            select(c.id)
            .where(c.id.in_(bindparam("ids", expanding=True)), *due)
            .order_by(c.next_attempt_at, c.id)
            .limit(bindparam("limit"))
        )
        if for_update:
            pick = pick.with_for_update(skip_locked=True)  # several workers claim disjoint rows
        return (
            update(_DELIVERIES).where(c.id.in_(pick.scalar_subquery())).values(lease_until=bindparam("lease_until_"))
            .returning(c.id, c.activity_id, c.signer_id, c.inbox, c.host, c.attempts, c.created_at)
        )

    async def _claim(self, limit: int, *, busy: Sequence[str] = ()) -> Claimed:
        now = self.now()
        lease_until = now + self.lease
        values = {"now": now, "oldest": now - self.policy.max_age, "limit": limit}
        # SQLite: a turn at the write lock with the inbound batches and the inbox's queue writer (which goes
        # first), now that a claim may write a few thousand delivery rows (storage/write_gate.py): the inbox's
        # writer waits for it to end rather than sleeping in SQLite's busy handler. Nothing on PostgreSQL.
        async with write_gate.turn_for(self._engine), self.fed.sessions.begin() as session:
            # Fan-out rows first, in this transaction: their deliveries are claimable at once, and a crash
            # before the commit leaves the rows to expand again (inbox_outbox.outbox.expand_fanouts).
            expanded = await expand_fanouts(session, self.fed.urls)
            statements = self._statements(session.bind.dialect.name)
            # Two steps, so PostgreSQL's plan does not hinge on fresh statistics (a fan-out inserts
            # thousands of rows at once): pick candidate ids without locks, then claim those by primary
            # key. Twice the limit, because rows another worker holds right now are skipped there.
            ids = list(await session.scalars(statements.candidates, {
                **values, "busy": list(busy), "limit": limit * 2, "window": limit * CLAIM_WINDOW}))
            if not ids:
                return Claimed([], 0, expanded)
            result = await session.execute(statements.lease, {**values, "ids": ids, "lease_until_": lease_until})
            rows = [_Row(*row) for row in result]
            if not rows:
                return Claimed([], 0, expanded)
            # The domain policy from memory (actors.blocks.PolicyCache), as the HTTP client asks it again
            # before each request.
            blocked = await self._domain_policy.refused(row.host for row in rows)
            for host in sorted(blocked):
                await drop_blocked(session, [row.id for row in rows if row.host == host], host, now)
            jobs = await self._prepare(session, [row for row in rows if row.host not in blocked], lease_until)
        for job in jobs:
            self._claimed_per_host[job.host] += 1
        return Claimed(jobs, len(rows), expanded)

    async def _prepare(self, session: AsyncSession, rows: list[_Row], lease_until: datetime) -> list[Job]:
        """Each activity is loaded and serialised once, however many inboxes it goes to."""
        if not rows:
            return []
        activities = (await session.execute(_ACTIVITIES, {"ids": sorted({row.activity_id for row in rows})})).all()
        bodies = {a.id: (a.uri, serialise(a.document)) for a in activities}
        actors = await session.execute(_SIGNERS, {"ids": sorted({row.signer_id for row in rows})})
        # A deleted account's private key is discarded once its Delete is out (actors.account_deletion);
        # anything still queued in its name cannot be signed, and must not stall the rest of the batch.
        signers = {actor.id: signer_for(actor, self.fed.urls) for actor in actors if actor.rsa_private_pem}
        unsignable = [row.id for row in rows if row.signer_id not in signers]
        if unsignable:
            await session.execute(
                update(_DELIVERIES).where(_DELIVERIES.c.id.in_(unsignable)).values(
                    state="dead", lease_until=None, finished_at=self.now(),
                    last_error="the signing account was deleted and its key discarded",
                )
            )
        return [
            Job(
                id=row.id,
                inbox=row.inbox,
                host=row.host,
                attempts=row.attempts,
                created_at=_utc(row.created_at),
                lease_until=lease_until,
                activity_uri=bodies[row.activity_id][0],
                body=bodies[row.activity_id][1],
                signer=signers[row.signer_id],
            )
            for row in rows
            if row.signer_id in signers
        ]

    async def _sweep_expired(self) -> None:
        """Rows that waited past the give-up window (their host was unavailable, or no worker ran) die."""
        now = self.now()
        if self._last_sweep is not None and now - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = now
        c = _DELIVERIES.c
        async with self.fed.sessions.begin() as session:
            result = await session.execute(
                update(_DELIVERIES)
                .where(
                    c.state == "pending",
                    c.created_at < now - self.policy.max_age,
                    or_(c.lease_until.is_(None), c.lease_until < now),
                )
                .values(
                    state="dead",
                    lease_until=None,
                    finished_at=now,
                    last_error=f"expired: not delivered within {_days(self.policy.max_age)}",
                )
            )
        if result.rowcount:
            log.info("delivery: %d deliveries expired undelivered after %s", result.rowcount, _days(self.policy.max_age))

    # -- sending ------------------------------------------------------------------------------------

    async def _send(self, job: Job) -> Attempt:
        """``run_once``'s send, one task per job (``run_forever``'s senders keep the limits themselves: ``_send_now``)."""
        # Per-host slot first: a task waiting for its host must not hold one of the global slots.
        slot = self._host_slots.get(job.host)
        if slot is None:
            slot = self._host_slots[job.host] = asyncio.Semaphore(self.per_host_concurrency)
        try:
            async with slot, self._global:
                result = await self._post(job)
        finally:
            self._release_host(job.host)
        return Attempt(job, result, self.now())

    async def _send_now(self, job: Job) -> Attempt:
        try:
            result = await self._post(job)
        finally:
            self._release_host(job.host)
        return Attempt(job, result, self.now())

    async def _post(self, job: Job) -> DeliveryResult:
        if await self._domain_policy.suspended_inbox(job.inbox):  # suspended after this row was claimed
            return DeliveryResult(job.inbox, DeliveryOutcome.PERMANENT, None, "account suspended")
        try:
            return await self.fed.client.post_activity(job.inbox, job.body, signer=job.signer)
        except Exception as exc:  # the client classifies network trouble; anything else is a bug of ours
            log.exception("delivery: error sending %s to %s", job.activity_uri, job.inbox)
            return DeliveryResult(job.inbox, DeliveryOutcome.RETRY, None, f"internal error: {exc!r}")

    def _release_host(self, host: str) -> None:
        self._claimed_per_host[host] -= 1
        if self._claimed_per_host[host] <= 0:
            del self._claimed_per_host[host]
            self._host_slots.pop(host, None)

    # -- recording ----------------------------------------------------------------------------------

    async def _record(self, attempts: Sequence[Attempt]) -> None:
        if not attempts:
            return
        decisions = [(attempt, decide(attempt, self.policy, self.rng)) for attempt in attempts]
        async with self.fed.sessions.begin() as session:
            await record(session, decisions, self.now())
        for attempt, decision in decisions:
            log_outcome(attempt, decision)


def _days(span: timedelta) -> str:
    return f"{span.total_seconds() / 86400:g} days"


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    if seconds <= 0:
        await asyncio.sleep(0)
        return
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
