"""Files attached to posts (issue #16): a PDF or text file with its description, refused kinds told next
to the field with everything typed kept, and the stored file served only as a download."""

from __future__ import annotations

import re

from sqlalchemy import select

from madeopen.app import Services
from storage.models import Object, PostAttachment
from tests.support.web_ui import UI, garden_with_member, ui  # noqa: F401  (fixture)
from tests.web.test_composer import BASE, _count

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


def _media_files(services: Services) -> list[str]:
    media = services.settings.data_dir / "media"
    return sorted(p.name for p in media.iterdir()) if media.exists() else []


async def test_a_pdf_needs_a_description_then_is_posted_as_a_document(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    files = {"file": ("rota.exe", PDF, "application/x-msdownload")}  # the bytes decide, not the name or type
    response = await ui.post("/groups/garden/new", {"title": "Rota", "body": "The rota"}, files=files)
    page = await response.text()
    assert response.status == 400 and 'id="file_desc-error"' in page and "describe the file" in page
    assert 'value="Rota"' in page and ">The rota</textarea>" in page
    kept = re.search(r'name="file_pending" value="([^"]+\.pdf)"', page)
    assert kept, "the chosen file is kept for the next round"
    assert await _count(services) == 0

    response = await ui.post("/groups/garden/new", {"title": "Rota", "body": "The rota", "file_pending": kept.group(1),
                                                    "file_desc": "Watering rota for May"}, form_page="/groups/garden/new")
    assert response.status == 303, await response.text()
    page = await ui.page(response.headers["Location"])
    url = f"{BASE}/media/{kept.group(1)}"
    assert f'<a href="{url}" download>File: Watering rota for May</a> <span class="meta">(PDF, 1 KB)</span>' in page
    async with services.sessions() as session:
        post = await session.scalar(select(Object).where(Object.name == "Rota"))
        assert post is not None
        row = await session.scalar(select(PostAttachment).where(PostAttachment.object_id == post.id))
    assert post.document["attachment"] == [{"type": "Document", "mediaType": "application/pdf", "url": url,
                                            "name": "Watering rota for May"}]
    assert row is not None and row.size == len(PDF) and row.kind == "Document"

    served = await ui.get(f"/media/{kept.group(1)}")
    assert served.status == 200 and await served.read() == PDF
    assert served.headers["Content-Type"] == "application/pdf"
    assert served.headers["Content-Disposition"] == f'attachment; filename="{kept.group(1)}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_text_file_with_a_micro_post_is_served_as_text_download(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    files = {"file": ("notes.html", "Sow leeks in März\n".encode(), "text/html")}
    response = await ui.post("/home", {"body": "Notes", "file_desc": "My sowing notes"}, files=files, form_page="/home")
    assert response.status == 303, await response.text()
    async with services.sessions() as session:
        row = await session.scalar(select(PostAttachment))
    assert row is not None and row.media_type == "text/plain" and row.url.endswith(".txt")
    served = await ui.get(row.url.removeprefix(BASE))
    assert served.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert (await served.read()).decode() == "Sow leeks in März\n"


async def test_refused_files_keep_everything_typed_and_store_nothing(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    big = PDF + b"x" * services.settings.upload_max_bytes
    for filename, data, message in [
        ("seeds.pdf", EXE, "not a supported file"),  # a renamed program
        ("page.txt", b"<!DOCTYPE html><script>alert(1)</script>", "not a supported file"),
        ("big.pdf", big, "the file is too large: at most 8.0 MB"),
    ]:
        response = await ui.post("/groups/garden/new", {"title": "Seeds", "body": "My list\n\nkept",
                                                        "file_desc": "The list"},
                                 files={"file": (filename, data, "application/pdf")})
        page = await response.text()
        assert response.status == 400, page[:500]
        assert 'id="file-error"' in page and message in page, filename
        assert 'value="Seeds"' in page and "My list\n\nkept</textarea>" in page and 'value="The list"' in page
        assert 'name="file_pending"' not in page
    assert await _count(services) == 0 and _media_files(services) == []


async def test_a_reply_carries_a_file(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": "first"})
    path = response.headers["Location"]
    async with services.sessions() as session:
        root = await session.scalar(select(Object).where(Object.uri == BASE + path))
    assert root is not None
    response = await ui.post(f"/posts/{root.id}/reply", {"body": "See the plan", "file_desc": "Bed plan"},
                             files={"file": ("plan.pdf", PDF, "application/pdf")}, form_page=path)
    assert response.status == 303, await response.text()
    page = await ui.page(path)
    assert "download>File: Bed plan</a>" in page
