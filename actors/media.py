"""Uploaded images (avatars, the node's logo): checked by their bytes, stored under a random name.

Only PNG, JPEG, GIF and WebP are accepted, recognised by their magic bytes (never by the file name or
the browser's Content-Type), at most ``MAX_IMAGE_BYTES``. SVG is refused on purpose: it can carry script.
Files attached to posts (PDF, plain text) are checked by actors.post_files and share the directory.
Files live flat in ``data_dir/media`` as ``<random>.<ext>``; the name is the only thing stored in the
database and the only thing ``/media/<name>`` serves, so a name never reaches the file system unchecked.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from actors.errors import InvalidInput
from actors.urls import Urls

MAX_IMAGE_BYTES = 2 * 1024 * 1024
MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
               # files attached to posts (actors.post_files): served as downloads, never inline
               "pdf": "application/pdf", "txt": "text/plain"}
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{22,40}\.(png|jpg|gif|webp|pdf|txt)$")


@dataclass(frozen=True)
class Upload:
    """What a form sent: the bytes (read up to MAX_IMAGE_BYTES + 1) and the file name the browser gave."""

    data: bytes
    filename: str = ""


def sniff_image(data: bytes) -> str | None:
    """The file extension for PNG/JPEG/GIF/WebP bytes, or None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def check_image(upload: Upload) -> str:
    """Validate an upload; return its extension or raise InvalidInput with a message for the form."""
    if not upload.data:
        raise InvalidInput("the file is empty")
    if len(upload.data) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"the image is too large: at most {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
    extension = sniff_image(upload.data)
    if extension is None:
        raise InvalidInput("not a supported image: use a PNG, JPEG, GIF or WebP file")
    return extension


def valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def is_image_name(name: str) -> bool:
    """One of our names holding an image (not a file attached to a post)."""
    return valid_name(name) and media_type(name).startswith("image/")


def media_type(name: str) -> str:
    return MEDIA_TYPES[name.rsplit(".", 1)[1]]


def media_url(urls: Urls, name: str) -> str:
    return f"{urls.base}/media/{name}"


def store_image(media_dir: Path, upload: Upload) -> str:
    """Check and write the image; return its new random file name."""
    return write_file(media_dir, upload.data, check_image(upload))


def write_file(media_dir: Path, data: bytes, extension: str) -> str:
    """Write checked bytes under a new random name with ``extension``; return the name."""
    media_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{extension}"
    final = media_dir / name
    partial = media_dir / f".{name}.part"
    # Written aside and renamed: a reader never sees half a file.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(partial, final)
    return name


def path_of(media_dir: Path, name: str) -> Path | None:
    """The file for a served name, or None when the name is not one of ours or the file is gone."""
    if not valid_name(name):
        return None
    path = media_dir / name
    return path if path.is_file() else None


def discard(media_dir: Path, names: list[str]) -> None:
    """Remove files no longer referenced (called after the change that dropped them is committed)."""
    for name in names:
        if valid_name(name):
            (media_dir / name).unlink(missing_ok=True)


def replace_image(media_dir: Path, current: str | None, upload: Upload | None, remove: bool) -> tuple[str | None, list[str]]:
    """An image field of a form after an edit (the upload already checked): the file name to keep and the
    files to discard once the change is committed. Neither an upload nor ``remove``: unchanged."""
    if not remove and upload is None:
        return current, []
    discard = [current] if current else []
    return (store_image(media_dir, upload) if upload is not None and not remove else None), discard
