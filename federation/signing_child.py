"""The signing process's own side: signs what its parent sends on stdin and writes the signatures to stdout.

Started by ``federation.signing_process`` as ``python -c "from federation.signing_child import main; main()"``;
it imports nothing but ``cryptography`` and the algorithm table of ``federation.rfc9421``, so it starts in
~0.1 s and holds ~20 MB. Its input is trusted (only its parent holds the pipe), but a frame it cannot
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
from typing import BinaryIO

from federation.rfc9421 import ALGORITHMS, Algorithm, PrivateKey, load_private_key

HEADER = struct.Struct("<cII")
SLOT = struct.Struct("<I")
REPLY = struct.Struct("<IBI")
KEY, SIGN = b"K", b"S"
SIGNED, FAILED = 0, 1
MAX_PAYLOAD = 1024 * 1024


def serve(source: BinaryIO, out_fd: int) -> None:
    """Answer frames from ``source`` until it ends; replies are written to ``out_fd``."""
    keys: dict[int, tuple[Algorithm, PrivateKey]] = {}
    while True:
        header = source.read(HEADER.size)
        if len(header) < HEADER.size:
            return  # the parent closed the pipe: stop
        kind, number, length = HEADER.unpack(header)
        if length > MAX_PAYLOAD:
            raise SystemExit(f"signing process: a {length}-byte frame is over the limit")
        payload = source.read(length)
        if len(payload) < length:
            return
        if kind == KEY:
            name, _, pem = payload.partition(b"\0")
            keys[number] = (ALGORITHMS[name.decode("ascii")], load_private_key(pem))
        elif kind == SIGN:
            _write(out_fd, _sign(keys, number, payload))
        else:
            raise SystemExit(f"signing process: unknown frame kind {kind!r}")


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
        serve(sys.stdin.buffer, sys.stdout.fileno())
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the parent is gone or stopping: nothing is waiting for answers


if __name__ == "__main__":
    main()
