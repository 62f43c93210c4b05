"""Images attached to posts, made safe to publish: decoded with Pillow (so only real images pass), turned
upright, and written anew without their metadata: EXIF (the camera's GPS position above all), XMP, ICC
text and PNG text chunks all go, as Mastodon strips them (issue #16). The format stays the one sent
(PNG, JPEG, GIF or WebP, recognised by actors.media.sniff_image from the bytes, never from a name);
animations keep their frames.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from actors.errors import InvalidInput
from actors.media import media_type, media_url, path_of, sniff_image, write_file
from actors.urls import Urls
from federation.html import plain_text
from federation.object_render import LocalAttachment

if TYPE_CHECKING:
    # Pillow (~2-4 MB resident with its plugins) is imported by the functions that decode an image, so an
    # idle node never loads it (issue #13).
    from PIL import Image

MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
_FORMATS = {"png": "PNG", "jpg": "JPEG", "gif": "GIF", "webp": "WEBP"}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    extension: str  # png | jpg | gif | webp
    width: int
    height: int


def clean_image(data: bytes) -> CleanImage:
    """The image re-encoded without metadata; InvalidInput (a message for the form) when it is not one."""
    from PIL import Image, UnidentifiedImageError

    extension = sniff_image(data)
    if extension is None:
        raise InvalidInput("not a supported image: use a PNG, JPEG, GIF or WebP file")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise InvalidInput(f"the image is too big: at most {MAX_PIXELS // 1_000_000} million pixels")
            return _rewrite(probe, extension)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, EOFError):
        raise InvalidInput("the image could not be read: it may be damaged") from None


def _rewrite(image: Image.Image, extension: str) -> CleanImage:
    from PIL import ImageOps

    out = io.BytesIO()
    fmt = _FORMATS[extension]
    if getattr(image, "is_animated", False) and fmt in {"GIF", "WEBP", "PNG"}:
        frames = _frames(image)
        options = {"duration": image.info.get("duration", 100), "loop": image.info.get("loop", 0)}
        frames[0].save(out, fmt, save_all=True, append_images=frames[1:], **options)
        width, height = frames[0].size
    else:
        upright = ImageOps.exif_transpose(image)  # the EXIF orientation applied, since EXIF goes
        if fmt == "JPEG" and upright.mode not in {"RGB", "L"}:
            upright = upright.convert("RGB")
        # No exif=, icc_profile= or pnginfo= arguments: Pillow then writes none of them.
        upright.save(out, fmt, **({"quality": 90} if fmt in {"JPEG", "WEBP"} else {}))
        width, height = upright.size
    return CleanImage(data=out.getvalue(), extension=extension, width=width, height=height)


def _frames(image: Image.Image) -> list[Image.Image]:
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(image.copy())
    return frames


MAX_ALT = 1500  # Mastodon's limit for a description


def store_post_image(media_dir: Path, data: bytes, max_bytes: int) -> str:
    """Check, clean and store an uploaded image; return its media name (InvalidInput with a message for
    the form when it is too large or not an image)."""
    if len(data) > max_bytes:
        raise InvalidInput(f"the image is too large: at most {_size(max_bytes)}")
    clean = clean_image(data)
    return write_file(media_dir, clean.data, clean.extension)


def attachment(media_dir: Path, urls: Urls, name: str, alt: str) -> LocalAttachment | None:
    """The attachment for an image stored here (a pending upload kept across a preview or an error),
    or None when ``name`` is not one of our files."""
    from PIL import Image, UnidentifiedImageError

    path = path_of(media_dir, name)
    if path is None:
        return None
    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        return None
    return LocalAttachment(url=media_url(urls, name), media_type=media_type(name),
                           name=plain_text(alt)[:MAX_ALT], width=width, height=height)


def _size(limit: int) -> str:
    return f"{limit / (1024 * 1024):.0f} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
