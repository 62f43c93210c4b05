"""Reading a multipart form without ever refusing it whole (issue #16: "a too-large upload keeps
everything else the person typed"; before, aiohttp's body limit answered a bare 413 page).

Each file part is kept up to ``file_limit + 1`` bytes (one past: so "too large" can be told by the
field's check) and the rest of it is read and thrown away; text parts are kept whole up to a bound. The
handler then sees every text field as typed, and a file it can refuse with a message next to the field.
Only a body beyond ``drain_limit`` in all, far past any honest form, is still refused with 413.
"""

from __future__ import annotations

import io

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict, MultiDict, MultiDictProxy

from web.forms import MAX_FIELD_CHARS, FormData

_CHUNK = 64 * 1024
_MAX_PARTS = 200
_TEXT_BYTES = MAX_FIELD_CHARS * 4 * 4  # UTF-8 of the longest post body (forms cut it again per field)


async def read_multipart(request: web.Request, *, file_limit: int, drain_limit: int) -> FormData:
    reader = await request.multipart()
    form: MultiDict[str | bytes | web.FileField] = MultiDict()
    received = 0
    parts = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise web.HTTPBadRequest(text="nested multipart forms are not accepted")
        parts += 1
        if parts > _MAX_PARTS:
            raise web.HTTPBadRequest(text="too many form fields")
        name = part.name or ""
        limit = file_limit + 1 if part.filename is not None else _TEXT_BYTES
        kept = bytearray()
        while chunk := await part.read_chunk(_CHUNK):
            received += len(chunk)
            if received > drain_limit:
                raise web.HTTPRequestEntityTooLarge(max_size=drain_limit, actual_size=received)
            if len(kept) < limit:
                kept += chunk[: limit - len(kept)]
        if part.filename is not None:
            headers = CIMultiDict(part.headers)
            form.add(name, web.FileField(name=name, filename=part.filename, file=io.BytesIO(bytes(kept)),
                                         content_type=headers.get("Content-Type", "application/octet-stream"),
                                         headers=headers))
        else:
            charset = part.get_charset(default="utf-8")
            form.add(name, bytes(kept).decode(charset, errors="replace"))
    return MultiDictProxy(form)
