"""A busy fan-out's signatures made in a child process (federation.signing_process): same headers as
signing here, the child started only under load, and a child that dies or idles never costs a request."""

from __future__ import annotations

import asyncio
import os
import signal
import struct
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpsig
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.cavage import CavageSigner
from federation.signing_child import FAILED, HEADER, KEY, REPLY, SIGN, SIGNED, SLOT, serve
from federation.signing_process import SigningProcess
from tests.support.cluster import eventually
from tests.support.http_peer import Peer, make_client

INBOX = "https://remote.example/users/alice/inbox"
BODY = b'{"type":"Like","actor":"https://made.example/users/bob","object":"https://remote.example/notes/1"}'
HEADERS = {"Content-Type": "application/activity+json"}


def fixed_clock() -> float:
    return 1_760_000_000.0


@pytest.fixture
def rsa_signer(rsa_key: rsa.RSAPrivateKey) -> CavageSigner:
    return CavageSigner("https://made.example/users/bob#main-key", rsa_key, clock=fixed_clock)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def busy() -> AsyncIterator[SigningProcess]:
    """A signing process whose child starts at the first signature and runs once that returns."""
    signing = SigningProcess(busy_rate=0)
    try:
        yield signing
    finally:
        await signing.close()


async def running(signing: SigningProcess, signer: CavageSigner) -> int:
    await signing.sign(signer, "POST", INBOX, HEADERS, BODY)  # made here; starts the child
    await signing.started()
    assert signing.running and signing.pid is not None
    return signing.pid


async def gone(signing: SigningProcess, pid: int | None = None) -> bool:
    """The child is no longer the running one (and, given its pid, exited and reaped)."""
    return not signing.running and (pid is None or not os.path.exists(f"/proc/{pid}"))


async def test_the_child_signs_exactly_what_signing_here_gives(busy: SigningProcess, rsa_signer: CavageSigner) -> None:
    await running(busy, rsa_signer)
    # PKCS#1 v1.5 signatures are deterministic: the child's headers must equal ours, byte for byte.
    assert await busy.sign(rsa_signer, "POST", INBOX, HEADERS, BODY) == rsa_signer.sign("POST", INBOX, HEADERS, BODY)
    assert busy.signed_by_child == 1


async def test_the_child_gets_none_of_the_nodes_settings(
    busy: SigningProcess, rsa_signer: CavageSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MADEOPEN_SECRET_KEY", "do not pass this on")
    monkeypatch.setenv("PYTHONNODEBUGRANGES", "1")  # the interpreter's own settings do pass
    pid = await running(busy, rsa_signer)
    environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    assert not [entry for entry in environment if entry.startswith(b"MADEOPEN_")]
    assert b"PYTHONNODEBUGRANGES=1" in environment


async def test_ed25519_keys_and_several_signers_interleaved(busy: SigningProcess, rsa_signer: CavageSigner) -> None:
    other = CavageSigner("https://made.example/users/ann#ed", ed25519.Ed25519PrivateKey.generate(), clock=fixed_clock)
    await running(busy, rsa_signer)
    urls = [f"https://host{n}.example/inbox" for n in range(40)]
    jobs = [busy.sign(signer, "POST", url, HEADERS, BODY) for url in urls for signer in (rsa_signer, other)]
    results = await asyncio.gather(*jobs)
    expected = [signer.sign("POST", url, HEADERS, BODY) for url in urls for signer in (rsa_signer, other)]
    assert results == expected
    assert busy.signed_by_child == 80


async def test_an_independent_verifier_accepts_the_childs_signature(
    busy: SigningProcess, rsa_signer: CavageSigner, rsa_key: rsa.RSAPrivateKey
) -> None:
    await running(busy, rsa_signer)
    headers = {**HEADERS, **await busy.sign(rsa_signer, "POST", INBOX, HEADERS, BODY)}
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier = httpsig.HeaderVerifier(
        headers=headers, secret=public_pem, method="POST", path=urlsplit(INBOX).path, sign_header="signature",
        required_headers=["(request-target)", "host", "date", "digest", "content-type"],
    )
    assert verifier.verify()
    assert busy.signed_by_child == 1


async def test_no_child_below_the_busy_rate(rsa_signer: CavageSigner) -> None:
    signing = SigningProcess(busy_rate=32)
    try:
        for _ in range(20):
            assert await signing.sign(rsa_signer, "GET", INBOX, {}, None) == rsa_signer.sign("GET", INBOX, {}, None)
        await signing.started()
        assert not signing.running and signing.signed_by_child == 0
    finally:
        await signing.close()


async def test_a_killed_child_costs_no_signature(busy: SigningProcess, rsa_signer: CavageSigner) -> None:
    pid = await running(busy, rsa_signer)
    os.kill(pid, signal.SIGKILL)
    # Whether a signature is already on its way when the child dies or sent after, each comes back right.
    results = await asyncio.gather(*(busy.sign(rsa_signer, "POST", INBOX, HEADERS, BODY) for _ in range(5)))
    assert results == [rsa_signer.sign("POST", INBOX, HEADERS, BODY)] * 5
    await eventually(lambda: gone(busy), timeout=2, interval=0.02, what="the dead child noticed")
    assert not busy.running
    # Not restarted at once (a child that keeps dying would cost a start per signature).
    await busy.sign(rsa_signer, "POST", INBOX, HEADERS, BODY)
    await busy.started()
    assert not busy.running


async def test_a_hung_child_is_killed_and_what_waited_is_signed_here(rsa_signer: CavageSigner) -> None:
    signing = SigningProcess(busy_rate=0, hang_seconds=0.2)
    try:
        pid = await running(signing, rsa_signer)
        os.kill(pid, signal.SIGSTOP)  # alive, answering nothing
        results = await asyncio.wait_for(
            asyncio.gather(*(signing.sign(rsa_signer, "POST", INBOX, HEADERS, BODY) for _ in range(3))), 10
        )
        assert results == [rsa_signer.sign("POST", INBOX, HEADERS, BODY)] * 3
        assert not signing.running
        await eventually(lambda: gone(signing, pid), timeout=2, interval=0.02, what="the hung child reaped")
        assert not os.path.exists(f"/proc/{pid}")  # killed and reaped
    finally:
        await signing.close()


async def test_an_idle_child_stops_and_close_leaves_no_process(rsa_signer: CavageSigner) -> None:
    signing = SigningProcess(busy_rate=0, idle_seconds=0.2)
    try:
        pid = await running(signing, rsa_signer)
        await eventually(lambda: gone(signing, pid), timeout=2, interval=0.02, what="the idle child stopped")
        assert not signing.running
        assert not os.path.exists(f"/proc/{pid}")  # exited and reaped
        # Busy again: a new child.
        assert await running(signing, rsa_signer) != pid
    finally:
        await signing.close()
    assert not signing.running


async def test_a_client_delivers_with_the_childs_signatures(peer: Peer, rsa_signer: CavageSigner) -> None:
    signing = SigningProcess(busy_rate=0)
    async with make_client(default_signer=rsa_signer, signing=signing) as client:
        await running(signing, rsa_signer)
        result = await client.post_activity(peer.url("/inbox/202"), BODY)
        assert result.status == 202
        assert signing.signed_by_child == 1
        await client.fetch_document(peer.url("/doc/note"))  # GETs are signed in the process
        assert signing.signed_by_child == 1
    assert not signing.running  # closing the client stops the child
    sent = next(r for r in peer.received if r.method == "POST").headers
    assert sent["Signature"] == rsa_signer.sign("POST", peer.url("/inbox/202"), {**HEADERS, **sent}, BODY)["Signature"]


# -- the child's side, without a process ------------------------------------------------------------


def frames(*parts: tuple[bytes, int, bytes]) -> bytes:
    return b"".join(HEADER.pack(kind, number, len(payload)) + payload for kind, number, payload in parts)


def served(stream: bytes) -> list[tuple[int, int, bytes]]:
    """What ``serve`` answers to ``stream`` (then the end of its input)."""
    in_read, in_write = os.pipe()
    out_read, out_write = os.pipe()
    try:
        os.write(in_write, stream)
        os.close(in_write)
        serve(in_read, out_write)
        os.close(out_write)
        data = b""
        while chunk := os.read(out_read, 1 << 16):
            data += chunk
    finally:
        for fd in (in_read, out_read):
            os.close(fd)
    out = []
    while data:
        job, status, length = REPLY.unpack_from(data)
        out.append((job, status, data[REPLY.size:REPLY.size + length]))
        data = data[REPLY.size + length:]
    return out


def test_the_child_answers_each_sign_frame_and_reports_an_unknown_slot(rsa_key: rsa.RSAPrivateKey) -> None:
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signs = [(SIGN, job, SLOT.pack(3) + b"data %d" % job) for job in range(10)]
    answers = served(frames((KEY, 3, b"rsa-v1_5-sha256\0" + pem), *signs, (SIGN, 99, SLOT.pack(4) + b"data")))
    assert [(job, status) for job, status, _ in answers] == [(job, SIGNED) for job in range(10)] + [(99, FAILED)]
    for job, _, signature in answers[:10]:
        rsa_key.public_key().verify(signature, b"data %d" % job, padding.PKCS1v15(), hashes.SHA256())
    assert answers[-1][2].startswith(b"KeyError")


@pytest.mark.parametrize(
    "stream",
    [
        HEADER.pack(b"X", 1, 0),  # an unknown kind
        HEADER.pack(SIGN, 1, 2 * 1024 * 1024),  # over the frame limit
    ],
)
def test_the_child_stops_at_a_frame_it_cannot_read(stream: bytes) -> None:
    with pytest.raises(SystemExit):
        served(stream)


def test_a_truncated_frame_ends_the_child_quietly() -> None:
    assert served(HEADER.pack(SIGN, 1, 10) + b"abc") == []
    assert served(struct.pack("<c", SIGN)) == []


def test_a_loop_on_another_thread_runs_the_child_too(rsa_signer: CavageSigner) -> None:
    """`madeopen run`'s workers run on a thread of their own with their own event loop (madeopen.worker_thread)."""

    async def sign_there() -> tuple[dict[str, str], int, bool]:
        signing = SigningProcess(busy_rate=0)
        try:
            await running(signing, rsa_signer)
            headers = await signing.sign(rsa_signer, "POST", INBOX, HEADERS, BODY)
            return headers, signing.signed_by_child, signing.running
        finally:
            await signing.close()

    outcome: list[tuple[dict[str, str], int, bool]] = []
    thread = threading.Thread(target=lambda: outcome.append(asyncio.run(sign_there())))
    thread.start()
    thread.join(timeout=30)
    assert outcome == [(rsa_signer.sign("POST", INBOX, HEADERS, BODY), 1, True)]
