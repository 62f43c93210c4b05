"""Files attached to posts are recognised by their bytes alone (actors.post_files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import post_files
from actors.errors import InvalidInput
from actors.urls import Urls

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


@pytest.mark.parametrize(("data", "expected"), [
    (PDF, "pdf"),
    ("Seed list: leeks, kale, Grünkohl\n".encode(), "txt"),
    (b"", "txt"),
    (EXE, None),  # a program, whatever it is called
    (b"plain\x00text", None),  # NUL bytes: binary
    ("Grünkohl".encode("latin-1"), None),  # not UTF-8
    (b"<!DOCTYPE html><title>x</title>", None),
    (b"\xef\xbb\xbf  <svg onload=alert(1)>", None),
    (b"Notes\n<script>alert(1)</script>", None),
    (b"x%PDF-1.7", "txt"),  # a PDF only when the header comes first; else it is just text
])
def test_the_kind_comes_from_the_bytes(data: bytes, expected: str | None) -> None:
    assert post_files.sniff_file(data) == expected


def test_stored_under_a_random_name_and_described(tmp_path: Path) -> None:
    name = post_files.store_post_file(tmp_path, PDF, max_bytes=1024)
    assert name.endswith(".pdf") and (tmp_path / name).read_bytes() == PDF
    attachment = post_files.attachment(tmp_path, Urls("https://node.test"), name, "Plot <b>rota</b>")
    assert attachment is not None
    assert attachment.document() == {"type": "Document", "mediaType": "application/pdf",
                                     "url": f"https://node.test/media/{name}", "name": "Plot rota"}
    assert attachment.size == len(PDF)


@pytest.mark.parametrize(("data", "message"), [
    (EXE, "not a supported file"),
    (b"<html><body>hi</body></html>", "not a supported file"),
    (PDF + b"x" * 2000, "too large: at most 2 KB"),
    (b"", "empty"),
])
def test_refused_files_are_not_written(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        post_files.store_post_file(tmp_path, data, max_bytes=2048)
    assert list(tmp_path.iterdir()) == []


def test_an_image_name_is_not_a_file_attachment(tmp_path: Path) -> None:
    image = tmp_path / ("a" * 24 + ".png")
    image.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert post_files.attachment(tmp_path, Urls("https://node.test"), image.name, "x") is None
