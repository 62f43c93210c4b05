"""Images attached to posts are decoded and written anew without metadata (actors.post_images)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from actors import post_images
from actors.errors import InvalidInput
from actors.urls import Urls


def _with_exif(fmt: str, mode: str = "RGB") -> bytes:
    image = Image.new(mode, (30, 20), (0, 90, 200) if mode == "RGB" else (0, 90, 200, 255))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x0112] = 6  # orientation: rotated 90°
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.0)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_and_gps_are_removed_and_the_image_turned_upright(fmt: str) -> None:
    data = _with_exif(fmt)
    assert b"SecretCam" in data
    clean = post_images.clean_image(data)
    assert b"SecretCam" not in clean.data
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.getexif() == {} and image.format == fmt
        assert image.size == (20, 30) == (clean.width, clean.height)  # orientation applied before EXIF went


def test_an_animated_gif_keeps_its_frames() -> None:
    frames = [Image.new("RGB", (8, 8), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    clean = post_images.clean_image(out.getvalue())
    with Image.open(io.BytesIO(clean.data)) as image:
        assert image.n_frames == 3


@pytest.mark.parametrize(("data", "message"), [
    (b"<svg onload=alert(1)>", "not a supported image"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "could not be read"),
])
def test_what_is_not_a_readable_image_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        post_images.clean_image(data)


def test_too_large_is_refused_before_decoding(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="too large: at most 1 KiB"):
        post_images.store_post_image(tmp_path, _with_exif("PNG") + b"\0" * 2048, 1024)
    assert list(tmp_path.iterdir()) == []


def test_a_stored_image_becomes_an_attachment(tmp_path: Path) -> None:
    name = post_images.store_post_image(tmp_path, _with_exif("JPEG"), 1024 * 1024)
    urls = Urls(base="https://node.test")
    found = post_images.attachment(tmp_path, urls, name, "  A blue\nsquare ")
    assert found is not None
    assert (found.url, found.media_type, found.name, found.width, found.height) == (
        f"https://node.test/media/{name}", "image/jpeg", "A blue square", 20, 30)
    assert post_images.attachment(tmp_path, urls, "../../etc/passwd", "x") is None
