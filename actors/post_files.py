"""Files attached to posts besides images (issue #16): PDF and plain text only, recognised by their bytes.

A PDF is what starts with the ``%PDF-`` header (ISO 32000-1, 7.5.2); plain text is valid UTF-8 without
NUL bytes that does not look like markup (HTML, XML, SVG). The file name and the type the browser declares are never asked: a renamed program is
refused. Other kinds are refused on purpose: HTML and SVG carry script that would run with this site's
address, office documents carry macros, archives and programs anything at all. The stored file gets a
random name (actors.media.write_file) and /media/ serves it as a download (web/routes/media.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from actors.errors import InvalidInput
from actors.media import media_type, media_url, path_of, write_file
from actors.urls import Urls
from federation.html import plain_text
from federation.object_render import LocalAttachment

MAX_DESCRIPTION = 1500  # as for an image's alt text
REFUSED = "not a supported file: attach a PDF or a plain text (.txt) file"
LABELS = {"application/pdf": "PDF", "text/plain": "Text"}


def sniff_file(data: bytes) -> str | None:
    """``pdf`` or ``txt`` for the bytes of such a file, None for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _looks_like_markup(text) else "txt"


_MARKUP = re.compile(r"<\s*(!doctype|html|head|body|script|iframe|svg|object|embed|meta)\b", re.IGNORECASE)


def _looks_like_markup(text: str) -> bool:
    """HTML, XML or SVG sent as "text": refused, since a browser that guessed the type despite our
    headers would run its script as this site."""
    return text.lstrip("\ufeff \t\r\n").startswith("<") or _MARKUP.search(text) is not None


def store_post_file(media_dir: Path, data: bytes, max_bytes: int) -> str:
    """Check and store an uploaded file; return its media name (InvalidInput with a message for the
    form when it is empty, too large or of a kind we refuse)."""
    if not data:
        raise InvalidInput("the file is empty")
    if len(data) > max_bytes:
        raise InvalidInput(f"the file is too large: at most {size_text(max_bytes)}")
    extension = sniff_file(data)
    if extension is None:
        raise InvalidInput(REFUSED)
    return write_file(media_dir, data, extension)


def attachment(media_dir: Path, urls: Urls, name: str, description: str) -> LocalAttachment | None:
    """The attachment for a file stored here (a pending upload kept across a preview or an error), or
    None when ``name`` is not one of our attached files."""
    path = path_of(media_dir, name)
    if path is None or media_type(name) not in LABELS:
        return None
    return LocalAttachment(url=media_url(urls, name), media_type=media_type(name),
                           name=plain_text(description)[:MAX_DESCRIPTION], size=path.stat().st_size)


def size_text(size: int) -> str:
    """A size for people: ``12 KB``, ``1.5 MB`` (binary units, as the upload limit is told)."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
