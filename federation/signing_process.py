"""Signatures of a busy fan-out made in a helper process, on another core than the event loop's.

Every delivery is one RSA-2048 signature (~250 µs of CPU, about half of what a delivery costs), so one
event loop cannot deliver faster than it signs (issue #13, bench/fanout.py). When a client signs more
than ``busy_rate`` POSTs within one second (a fan-out; ``FederationClient`` signs GETs itself), it starts
a child process (``federation.signing_child``) and from then on sends it the signing strings: the loop prepares the
headers, the child makes the signature, the loop completes the headers. A signature costs the two
processes ~10-25 µs of pipe traffic in all, and the loop no longer waits ~250 µs for it: a fan-out delivers
at ~0.60 x the one-core sign bound instead of ~0.50 x with 20 ms peers, ~0.8 x with 5 ms ones
(bench/README.md, "fanout", lead18).

Threads were measured first and not kept: ``cryptography`` 47 and later sign without the GIL, but handing
each signature to a thread and back cost the process ~110-130 µs more CPU per delivery (GIL hand-overs,
wake-ups), for 0.55-0.61 x; and the test extras pin ``cryptography`` below 46 (bovine), where threads gain
nothing. A process works the same with any ``cryptography``.

While the child starts, and whenever it is gone (crashed, killed, hung: killed after ``hang_seconds``
without an answer) or refuses a frame, requests are signed in this process as before: a child never makes
a request fail, nor wait longer than that. It stops after ``idle_seconds`` without a signature, so an idle
node holds no child. The private keys reach the child through its stdin pipe, which only this process
holds; they are never written anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from federation.cavage import CavageSigner
from federation.signing_child import FAILED, HEADER, KEY, REPLY, SIGN, SLOT

__all__ = ["SigningProcess"]

log = logging.getLogger(__name__)

_CHILD_CODE = "from federation.signing_child import main; main()"
_SOURCE_ROOT = str(Path(__file__).resolve().parent.parent)  # where `federation` is importable from
_MAX_KEYS = 4096  # keys a child holds (the signer cache's own bound); others are signed here until it is replaced
_RETRY_AFTER_FAILURE = 30.0  # seconds a failed child is not restarted


class _ChildGone(Exception):
    """The child cannot answer (not running, exited, refused a frame): sign in this process instead."""


class SigningProcess:
    """Signs ``CavageSigner`` requests in a child process while this process is busy signing.

    ``busy_rate``: more signatures than this within one second (any second: a sliding window) start the
    child; 0: the first one does.
    ``idle_seconds``: the child stops after that long without a signature.
    ``hang_seconds``: a child that answers nothing for about that long (a sign takes ~0.25 ms) is taken for
    hung (stopped, swapping) and killed; what waited is signed here.
    """

    def __init__(self, *, busy_rate: int = 32, idle_seconds: float = 60.0, hang_seconds: float = 5.0) -> None:
        self.busy_rate = busy_rate
        self.idle_seconds = idle_seconds
        self.hang_seconds = hang_seconds
        self.signed_by_child = 0  # how many signatures the child made (benches and tests read it)
        self._recent: deque[float] = deque(maxlen=busy_rate + 1)  # when the last signatures here were made
        self._process: asyncio.subprocess.Process | None = None
        self._starting: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._slots: dict[CavageSigner, int] = {}
        self._waiting: dict[int, asyncio.Future[bytes]] = {}
        self._outgoing = bytearray()  # frames for the child, written at the end of this turn of the loop
        self._next_job = 0
        self._last_use = 0.0
        self._timer: asyncio.TimerHandle | None = None  # the next _check
        self._oldest_at_check: int | None = None  # the oldest signature waiting at the last _check
        self._stopping: asyncio.Task[None] | None = None  # an idle child being stopped
        self._not_before = 0.0  # no restart until then, after a failure
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None

    async def sign(
        self, signer: CavageSigner, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> dict[str, str]:
        """``signer.sign(...)``'s headers, the signature made by the child when it runs."""
        pending = signer.prepare(method, url, headers, body)
        self._last_use = now = time.monotonic()
        if not self.running:
            self._count_demand(now)
            return signer.sign_pending(pending)
        try:
            signature = await self._child_sign(signer, pending.data)
        except _ChildGone:
            return signer.sign_pending(pending)
        return signer.complete(pending, signature)

    async def close(self) -> None:
        """Stop the child (if any) and start no other."""
        self._closed = True
        if self._starting is not None:
            self._starting.cancel()
            await asyncio.gather(self._starting, return_exceptions=True)
        await self._stop()
        if self._stopping is not None:  # an idle child's: its pipes are closed with the loop's help
            await asyncio.gather(self._stopping, return_exceptions=True)

    async def started(self) -> None:
        """Wait until a child that is starting runs (tests; a request never waits for this)."""
        if self._starting is not None:
            await asyncio.shield(self._starting)

    # -- starting and stopping ----------------------------------------------------------------------

    def _count_demand(self, now: float) -> None:
        """Start the child once more than ``busy_rate`` signatures were made here within one second."""
        recent = self._recent
        recent.append(now)
        busy = len(recent) == recent.maxlen and now - recent[0] < 1.0
        if busy and self._starting is None and not self._closed and now >= self._not_before:
            if (os.cpu_count() or 1) > 1:  # on one core the child would only take turns with us
                self._starting = asyncio.get_running_loop().create_task(self._start())

    async def _start(self) -> None:
        try:
            # The interpreter's own settings (PYTHON*, MALLOC_*) but none of the node's: it needs no secret key
            # nor database URL, and /proc/<pid>/environ is one more place they would show.
            env = {name: value for name, value in os.environ.items() if not name.startswith("MADEOPEN_")}
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE_ROOT, os.environ.get("PYTHONPATH")]))
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", _CHILD_CODE, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            log.warning("signing process not started (%s); signing in this process", exc)
            self._not_before = time.monotonic() + _RETRY_AFTER_FAILURE
            return
        finally:
            self._starting = None
        self._process = process
        self._slots.clear()
        self._reader = asyncio.get_running_loop().create_task(self._read(process))
        self._watch()

    async def _stop(self) -> None:
        process, reader = self._process, self._reader
        self._process = self._reader = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._fail_waiting()
        if process is not None:
            await self._reap(process)
        if reader is not None:  # this child's, or a dead one's still reaping it
            await asyncio.gather(reader, return_exceptions=True)

    def _watch(self) -> None:
        """Look at the child again in a while (``_check``)."""
        delay = min(self.idle_seconds, self.hang_seconds)
        self._timer = asyncio.get_running_loop().call_later(delay, self._check)

    def _check(self) -> None:
        """Stop a child that answered nothing for a whole check (hung: stopped, swapping) or has been idle
        for ``idle_seconds``. Replies come in order, so the first signature waiting is the oldest."""
        self._timer = None
        process = self._process
        if process is None:
            return
        oldest = next(iter(self._waiting), None)
        if oldest is not None and oldest == self._oldest_at_check:
            log.warning("signing process answered nothing for %g s; killed, signing here", self.hang_seconds)
            self._not_before = time.monotonic() + _RETRY_AFTER_FAILURE
            process.kill()  # its output ends: _read fails what waits, and those are signed here
            return
        self._oldest_at_check = oldest
        if oldest is None and time.monotonic() - self._last_use >= self.idle_seconds:
            self._stopping = asyncio.get_running_loop().create_task(self._stop())
            return
        self._watch()

    # -- one signature ------------------------------------------------------------------------------

    async def _child_sign(self, signer: CavageSigner, data: bytes) -> bytes:
        process = self._process
        if process is None or process.stdin is None or process.stdin.is_closing():
            raise _ChildGone
        slot = self._slots.get(signer)
        if slot is None:
            if len(self._slots) >= _MAX_KEYS:
                raise _ChildGone  # rare: sign here; the child is replaced when it goes idle
            slot = self._slots[signer] = len(self._slots)
            key = signer.private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            payload = signer.signature_algorithm.encode("ascii") + b"\0" + key
            self._send(HEADER.pack(KEY, slot, len(payload)) + payload)
        job = self._next_job = (self._next_job + 1) & 0xFFFFFFFF
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting[job] = future
        self._send(HEADER.pack(SIGN, job, SLOT.size + len(data)) + SLOT.pack(slot) + data)
        return await future

    def _send(self, frame: bytes) -> None:
        """Frames asked for in one turn of the loop go to the child in one write (the senders of a fan-out
        start together)."""
        if not self._outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outgoing += frame

    def _flush(self) -> None:
        frames, self._outgoing = bytes(self._outgoing), bytearray()
        process = self._process
        if frames and process is not None and process.stdin is not None and not process.stdin.is_closing():
            process.stdin.write(frames)
        # else the child is gone: _read or _stop fails the waiting signatures

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        """Hand each reply to its waiting signature until the child's output ends."""
        assert process.stdout is not None
        buffer = bytearray()
        try:
            while chunk := await process.stdout.read(65536):
                buffer += chunk
                buffer = self._hand_out(buffer)
        finally:
            if self._process is process:  # it ended by itself (a crash, a frame it refused) or was killed, hung
                log.warning("signing process ended; signing in this process")
                self._process = None
                self._not_before = time.monotonic() + _RETRY_AFTER_FAILURE
                self._fail_waiting()
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                await self._reap(process)

    @staticmethod
    async def _reap(process: asyncio.subprocess.Process) -> None:
        """Close our end of its input and wait for it to exit, so its pipes close with the loop still running."""
        if process.stdin is not None:
            process.stdin.close()  # the child's end of input: it exits
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()

    def _hand_out(self, buffer: bytearray) -> bytearray:
        offset = 0
        while len(buffer) - offset >= REPLY.size:
            job, status, length = REPLY.unpack_from(buffer, offset)
            end = offset + REPLY.size + length
            if len(buffer) < end:
                break
            future = self._waiting.pop(job, None)
            if future is not None and not future.done():  # not done: its caller was not cancelled
                if status == FAILED:
                    reason = bytes(buffer[offset + REPLY.size:end]).decode("utf-8", "replace")
                    log.warning("signing process could not sign (%s); signed in this process", reason)
                    future.set_exception(_ChildGone(reason))
                else:
                    future.set_result(bytes(buffer[offset + REPLY.size:end]))
                self.signed_by_child += status != FAILED
            offset = end
        return buffer[offset:]

    def _fail_waiting(self) -> None:
        self._outgoing.clear()  # frames for a child that is gone; a new child gets its own
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(_ChildGone())
