"""The signing process's own side: signs what its parent sends on stdin and writes the signatures to stdout.

Started by ``federation.signing_process`` as ``python -c "from federation.signing_child import main; main()"``;
it imports nothing but ``cryptography`` and the algorithm table of ``federation.rfc9421``, so it starts in
~0.1 s and holds ~28 MB resident. Its input is trusted (only its parent holds the pipe), but a frame it cannot
read ends it rather than guessing: the parent then signs in its own process again.

Frames, little-endian (``HEADER``: kind, number, payload length):

- ``K`` key: number = a key slot; payload = the algorithm name (RFC 9421's, e.g. ``rsa-v1_5-sha256``),
  a NUL byte, the private key's PKCS#8 PEM. Later ``S`` frames name the slot.
- ``S`` sign: number = the job; payload = the slot (``SLOT``), then the bytes to sign.

Each ``S`` frame gets one reply (``REPLY``: job, status, length, then the signature, or an error text when
status is ``FAILED``), in the order the frames came.
"""

from __future__ import annotations

import os
import struct
import sys

from federation.rfc9421 import ALGORITHMS, Algorithm, PrivateKey, load_private_key

HEADER = struct.Struct("<cII")
SLOT = struct.Struct("<I")
REPLY = struct.Struct("<IBI")
KEY, SIGN = b"K", b"S"
SIGNED, FAILED = 0, 1
MAX_PAYLOAD = 1024 * 1024
_REPLIES_PER_WRITE = 4


def serve(in_fd: int, out_fd: int) -> None:
    """Answer frames read from ``in_fd`` until it ends; replies are written to ``out_fd``.

    Input is read as it comes, many frames at a time; the replies to one read are written together, at
    most ``_REPLIES_PER_WRITE`` at once (each write wakes the parent's event loop, which costs it ~20 µs:
    as much again as the pipe saves it per signature when taken one by one; ~1 ms more wait at most)."""
    keys: dict[int, tuple[Algorithm, PrivateKey]] = {}
    pending = bytearray()
    while chunk := os.read(in_fd, 1 << 16):
        pending += chunk
        replies: list[bytes] = []
        offset = 0
        while len(pending) - offset >= HEADER.size:
            kind, number, length = HEADER.unpack_from(pending, offset)
            if length > MAX_PAYLOAD:
                raise SystemExit(f"signing process: a {length}-byte frame is over the limit")
            end = offset + HEADER.size + length
            if len(pending) < end:
                break
            payload = bytes(pending[offset + HEADER.size:end])
            offset = end
            if kind == KEY:
                name, _, pem = payload.partition(b"\0")
                keys[number] = (ALGORITHMS[name.decode("ascii")], load_private_key(pem))
            elif kind == SIGN:
                replies.append(_sign(keys, number, payload))
                if len(replies) >= _REPLIES_PER_WRITE:
                    _write(out_fd, b"".join(replies))
                    replies.clear()
            else:
                raise SystemExit(f"signing process: unknown frame kind {kind!r}")
        del pending[:offset]
        if replies:
            _write(out_fd, b"".join(replies))


def _sign(keys: dict[int, tuple[Algorithm, PrivateKey]], job: int, payload: bytes) -> bytes:
    (slot,) = SLOT.unpack_from(payload)
    try:
        algorithm, key = keys[slot]
        signature = algorithm.sign(key, payload[SLOT.size:])
    except Exception as exc:  # noqa: BLE001 -- reported to the parent, which signs itself instead
        text = f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")[:500]
        return REPLY.pack(job, FAILED, len(text)) + text
    return REPLY.pack(job, SIGNED, len(signature)) + signature


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def main() -> None:
    try:
        serve(sys.stdin.fileno(), sys.stdout.fileno())
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent is gone or stopping: nothing is waiting for answers


if __name__ == "__main__":
    main()
