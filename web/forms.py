"""Small helpers for reading HTML form posts (already read, and CSRF-checked, by web/csrf.py)."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from actors.media import MAX_IMAGE_BYTES, Upload

FormData = MultiDictProxy[str | bytes | web.FileField]
MAX_FIELD_CHARS = 20_000  # longer than any field we accept; a longer value is cut, then refused as too long


FORM_KEY = web.RequestKey("madeopen_form", MultiDictProxy)  # a multipart form read by web/csrf.py


async def read(request: web.Request) -> FormData:
    form = request.get(FORM_KEY)
    return form if form is not None else await request.post()


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD_CHARS] if isinstance(value, str) else ""


def sent_text(form: FormData, name: str) -> str | None:
    """Like ``text``, but None when the field was not in the form at all (leave the value as it is)."""
    return text(form, name) if name in form else None


def checkbox(form: FormData, name: str) -> bool:
    return isinstance(form.get(name), str)


def shown_checkbox(form: FormData, name: str) -> bool | None:
    """A checkbox whose form also sends ``<name>_shown``: unticked is False only when the box was on the
    page (browsers send nothing for an unticked box); None when it was not."""
    return checkbox(form, name) if f"{name}_shown" in form else None


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
