"""Small helpers for reading HTML form posts (already read, and CSRF-checked, by web/csrf.py)."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from actors.media import MAX_IMAGE_BYTES, Upload

FormData = MultiDictProxy[str | bytes | web.FileField]
MAX_FIELD_CHARS = 20_000  # longer than any field we accept; a longer value is cut, then refused as too long


async def read(request: web.Request) -> FormData:
    return await request.post()


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def checkbox(form: FormData, name: str) -> bool:
    return isinstance(form.get(name), str)


def upload(form: FormData, name: str, limit: int = MAX_IMAGE_BYTES) -> Upload | None:
    """The file sent in ``name``, read up to ``limit`` + 1 bytes (so "too large" can be told), or None
    when the field was left empty."""
    value = form.get(name)
    if not isinstance(value, web.FileField):
        return None
    data = value.file.read(limit + 1)
    if not data and not value.filename:
        return None
    return Upload(data=data, filename=value.filename or "")


def values(form: FormData, *names: str) -> dict[str, str]:
    """The submitted text of ``names``, to show the form again as it was sent."""
    return {name: text(form, name) for name in names}
