"""HTTP signature throughput, as ratios to bare `cryptography` sign/verify measured in the same run.

    .venv/bin/python bench/signatures.py [--seconds 0.5] [--rounds 5]

Each figure is the best of ``--rounds`` interleaved timed rounds of ``--seconds`` each, on one
core. The "bare" limits sign or verify a 1 KiB message with the same key and nothing else; ours
sign or verify a POST of a ~1.5 KiB activity: header normalisation, the body digest, parsing,
the required-components policy, the clock window and the (injected, in-memory) key lookup.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa  # noqa: E402

from federation.signatures import (  # noqa: E402
    CavageSigner,
    PrivateKey,
    PublicKeyRecord,
    RequestSigner,
    Rfc9421Signer,
    verify_request,
)

KEY_ID = "https://made.example/users/bob#main-key"
INBOX = "https://remote.example/users/alice/inbox"
BODY = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://made.example/activities/0d3c6f0e-6a1e-4d0e-9a59-4d1c1f7b2e11",
        "type": "Create",
        "actor": "https://made.example/users/bob",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": ["https://made.example/users/bob/followers", "https://remote.example/groups/gardeners"],
        "object": {
            "id": "https://made.example/notes/0d3c6f0e",
            "type": "Note",
            "attributedTo": "https://made.example/users/bob",
            "content": "<p>" + "Shall we plant the tomatoes next weekend? " * 25 + "</p>",
            "published": "2025-11-25T19:00:00Z",
        },
    }
).encode()
HEADERS = {"Content-Type": "application/activity+json", "User-Agent": "MadeOpen/0.1"}


Runner = Callable[[int], object]  # runner(n) performs the operation n times


def sync_runner(operation: Callable[[], object]) -> Runner:
    def run(count: int) -> None:
        for _ in range(count):
            operation()

    return run


def measure(runners: dict[str, Runner], rounds: int, seconds: float) -> dict[str, float]:
    """Operations per second of each runner: the best of ``rounds`` rounds.

    Rounds are interleaved (A, B, C, A, B, C, ...), so a busy neighbour on a shared machine
    slows both sides of a ratio alike instead of skewing one of them.
    """
    batches = {name: _batch_size(run) for name, run in runners.items()}
    best = dict.fromkeys(runners, 0.0)
    for _ in range(rounds):
        for name, run in runners.items():
            count, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < seconds:
                run(batches[name])
                count += batches[name]
            best[name] = max(best[name], count / elapsed)
    return best


def _batch_size(run: Runner) -> int:
    run(1)  # warm-up
    start = time.perf_counter()
    run(1)
    return max(1, int(0.01 / max(time.perf_counter() - start, 1e-7)))


def bare_runners(key: PrivateKey) -> dict[str, Runner]:
    message = b"x" * 1024
    public = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        assert isinstance(public, rsa.RSAPublicKey)
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
        sig = key.sign(message, pkcs1, sha256)
        return {
            "bare sign": sync_runner(lambda: key.sign(message, pkcs1, sha256)),
            "bare verify": sync_runner(lambda: public.verify(sig, message, pkcs1, sha256)),
        }
    assert isinstance(public, ed25519.Ed25519PublicKey)
    sig = key.sign(message)
    return {
        "bare sign": sync_runner(lambda: key.sign(message)),
        "bare verify": sync_runner(lambda: public.verify(sig, message)),
    }


def verify_runner(signer: RequestSigner, key: PrivateKey, loop: asyncio.AbstractEventLoop) -> Runner:
    headers = {**HEADERS, **signer.sign("POST", INBOX, HEADERS, BODY)}
    record = PublicKeyRecord(KEY_ID, "https://made.example/users/bob", key.public_key())

    async def lookup(key_id: str, *, refresh: bool) -> PublicKeyRecord | None:
        return record

    async def verify_many(count: int) -> None:
        # Awaited from one running coroutine, as the inbox handler does; the lookup is a cache hit.
        for _ in range(count):
            await verify_request(method="POST", url=INBOX, headers=headers, body=BODY, lookup=lookup)

    return lambda count: loop.run_until_complete(verify_many(count))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one timed round (default 0.5)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per operation (default 5)")
    args = parser.parse_args()
    keys: list[tuple[str, PrivateKey]] = [
        ("RSA-2048", rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("Ed25519", ed25519.Ed25519PrivateKey.generate()),
    ]
    print(
        f"body {len(BODY)} bytes; best of {args.rounds} interleaved rounds of {args.seconds:g}s; "
        f"Python {sys.version.split()[0]}"
    )
    loop = asyncio.new_event_loop()
    try:
        for name, key in keys:
            runners = bare_runners(key)
            for scheme, signer in (
                ("cavage", CavageSigner(KEY_ID, key)),
                ("RFC 9421", Rfc9421Signer(KEY_ID, key)),
            ):
                runners[f"{scheme} sign"] = sync_runner(partial(signer.sign, "POST", INBOX, HEADERS, BODY))
                runners[f"{scheme} verify"] = verify_runner(signer, key, loop)
            rates = measure(runners, args.rounds, args.seconds)
            print(f"{name}: bare sign {rates['bare sign']:,.0f}/s, bare verify {rates['bare verify']:,.0f}/s")
            for label, value in rates.items():
                if not label.startswith("bare"):
                    kind = label.rsplit(" ", 1)[1]
                    ratio = value / rates[f"bare {kind}"]
                    print(f"  {label:<16} {value:>9,.0f}/s = {ratio:.2f} x bare {name} {kind}")
    finally:
        loop.close()


if __name__ == "__main__":
    main()
