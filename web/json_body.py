"""The JSON object a browser script sent (the live preview, the profile API): read whole, bounded, parsed with
bounded depth (federation.json_input), every refusal a one-line reason."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors.errors import InvalidInput
from federation.json_input import JSONRejected, parse_json_object


async def read_json_object(request: web.Request, max_bytes: int) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    raw = await _read_at_most(request, max_bytes)
    try:
        return parse_json_object(raw)
    except JSONRejected as exc:
        raise InvalidInput(f"the body: {exc.reason}") from None


async def _read_at_most(request: web.Request, max_bytes: int) -> bytes:
    # StreamReader.read(n) answers with whatever has arrived, not n bytes: a body that comes in several TCP
    # segments needs reading until the end. A client that hangs up midway raises ConnectionResetError
    # (web/errors.py answers nobody and logs no error).
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(max_bytes + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise web.HTTPRequestEntityTooLarge(max_size=max_bytes, actual_size=size)
    return b"".join(chunks)
