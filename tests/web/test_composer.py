"""The composers (new thread, reply, edit): Preview without JavaScript keeps the text and posts nothing;
POST /preview for the live preview; what the sanitiser drops is told in the preview (issue #16)."""

from __future__ import annotations

import asyncio
import html
import io
import json
import re

from sqlalchemy import select

from madeopen.app import Services
from storage.models import Object
from tests.support.web_ui import UI, garden_with_member, ui  # noqa: F401  (fixtures)

BASE = "https://node.test"
POST_TEXT = "## Plan\n\n| bed | crop |\n|---|---|\n| 1 | leeks |\n\n[the group](/groups/garden) [file](ftp://x.example/f)"


async def _count(services: Services) -> int:
    async with services.sessions() as session:
        return len(list(await session.scalars(select(Object))))


def _preview(page: str, box: str) -> str:
    found = re.search(rf'<section class="preview" id="{box}-preview"[^>]*>(.*?)</section>', page, re.DOTALL)
    assert found, f"no preview box {box}"
    return found.group(1)


async def test_preview_a_new_thread_without_javascript(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    form = await ui.page("/groups/garden/new")
    assert 'name="preview"' in form and '<script src="/static/composer.js" defer></script>' in form
    assert 'id="body-preview"' in form and "hidden" in _preview_tag(form, "body")

    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": POST_TEXT, "preview": "1"})
    page = await response.text()
    assert response.status == 200
    assert await _count(services) == 0  # nothing posted
    assert 'value="Beds"' in page and html.escape(POST_TEXT, quote=False) in page  # everything kept
    shown = _preview(page, "body")
    assert "<h2>Plan</h2>" in shown and "<td>leeks</td>" in shown
    assert f'href="{BASE}/groups/garden"' in shown  # a local relative link keeps working
    assert "The link to “ftp://x.example/f” was removed" in html.unescape(shown)  # told, not silently lost

    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": POST_TEXT})
    assert response.status == 303
    page = await ui.page(response.headers["Location"])
    assert "<td>leeks</td>" in page and f'href="{BASE}/groups/garden"' in page
    assert "The link to “ftp://x.example/f” was removed" in html.unescape(page)  # posted unpreviewed: told too


def _preview_tag(page: str, box: str) -> str:
    found = re.search(rf'<section class="preview" id="{box}-preview"[^>]*>', page)
    assert found
    return found.group(0)


async def test_preview_a_reply_and_an_edit(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    response = await ui.post("/groups/garden/new", {"title": "Beds", "body": "first"})
    path = response.headers["Location"]
    async with services.sessions() as session:
        root = await session.scalar(select(Object).where(Object.uri == BASE + path))
    assert root is not None

    response = await ui.post(f"/posts/{root.id}/reply", {"body": "- [x] dug\n- [ ] sown", "preview": "1"},
                             form_page=path)
    page = await response.text()
    assert response.status == 200 and await _count(services) == 1
    shown = _preview(page, f"reply-{root.id}")
    assert "<li>☑ dug</li>" in shown and "<li>☐ sown</li>" in shown
    assert "- [x] dug\n- [ ] sown</textarea>" in page

    response = await ui.post(f"/posts/{root.id}/edit", {"title": "Beds", "body": "~~first~~ second", "preview": "1"},
                             form_page=path)
    page = await response.text()
    assert response.status == 200 and "<s>first</s> second" in _preview(page, "body")
    async with services.sessions() as session:
        unchanged = await session.get(Object, root.id)
        assert unchanged is not None and unchanged.source == "first"


async def test_live_preview_endpoint(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    response = await ui.client.post("/preview", json={"body": "x"})
    assert response.status == 401  # members only
    await ui.log_in("bea")
    headers = {"Sec-Fetch-Site": "same-origin", "Accept": "application/json"}
    response = await ui.client.post("/preview", json={"body": "# Hi <b>\n\n[f](irc://x)"}, headers=headers)
    answer = await response.json()
    assert response.status == 200, answer
    assert answer["html"].startswith("<h1>Hi &lt;b&gt;</h1>")
    assert len(answer["notes"]) == 2 and "irc://x" in answer["notes"][0]
    response = await ui.client.post("/preview", json={"text": 1}, headers=headers)
    assert response.status == 400 and "body" in (await response.json())["error"]
    # A cross-site page cannot use it with the member's cookie (web/csrf.py).
    response = await ui.client.post("/preview", data=json.dumps({"body": "x"}),
                                    headers={"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"})
    assert response.status == 403


# --- images -------------------------------------------------------------------------------------------


def _jpeg_with_gps() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (40, 30), (10, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (52.0, 31.0, 12.0), "E", (13.0, 24.0, 36.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _media_names(page: str) -> list[str]:
    return re.findall(r'/media/([A-Za-z0-9_-]{22,40}\.(?:png|jpg|gif|webp))', page)


async def test_an_image_is_stripped_of_gps_and_needs_alt_text(ui: UI, services: Services) -> None:
    from PIL import Image

    await garden_with_member(services)
    await ui.log_in("bea")
    photo = _jpeg_with_gps()
    assert b"SecretCam" in photo
    files = {"image": ("leeks.jpg", photo, "image/jpeg")}
    response = await ui.post("/groups/garden/new", {"title": "Leeks", "body": "Look"}, files=files)
    page = await response.text()
    assert response.status == 400 and 'id="image_alt-error"' in page and "alt text" in page
    assert 'value="Leeks"' in page and ">Look</textarea>" in page
    kept = re.search(r'name="image_pending" value="([^"]+)"', page)
    assert kept, "the chosen image is kept for the next round"
    stored = services.settings.data_dir / "media" / kept.group(1)
    data = stored.read_bytes()
    assert b"SecretCam" not in data and Image.open(io.BytesIO(data)).getexif() == {}
    assert await _count(services) == 0

    response = await ui.post("/groups/garden/new", {"title": "Leeks", "body": "Look", "image_pending": kept.group(1),
                                                    "image_alt": "A row of young leeks"}, form_page="/groups/garden/new")
    assert response.status == 303, await response.text()
    page = await ui.page(response.headers["Location"])
    assert f'<img src="{BASE}/media/{kept.group(1)}" alt="A row of young leeks" width="40" height="30"' in page
    timeline = await ui.page("/local")  # lists show it too
    assert f'<img src="{BASE}/media/{kept.group(1)}" alt="A row of young leeks" width="40" height="30"' in timeline
    async with services.sessions() as session:
        post = await session.scalar(select(Object).where(Object.name == "Leeks"))
    assert post is not None
    assert post.document["attachment"] == [{"type": "Image", "mediaType": "image/jpeg", "url": f"{BASE}/media/"
                                            f"{kept.group(1)}", "name": "A row of young leeks",
                                            "width": 40, "height": 30}]


async def test_a_too_large_upload_keeps_everything_typed(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (services.settings.upload_max_bytes + 10)
    files = {"image": ("huge.png", big, "image/png")}
    response = await ui.post("/groups/garden/new", {"title": "Huge", "body": "My long text\n\nkept", "image_alt": "x"},
                             files=files)
    page = await response.text()
    assert response.status == 400, page[:500]  # was a bare 413 page, everything typed lost
    assert 'id="image-error"' in page and "the image is too large: at most 8 MiB" in page
    assert 'value="Huge"' in page and "My long text\n\nkept</textarea>" in page and 'value="x"' in page
    assert await _count(services) == 0


async def test_not_an_image_is_refused_next_to_the_field(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    files = {"image": ("x.png", b"<svg onload=alert(1)>", "image/png")}
    response = await ui.post("/groups/garden/new", {"title": "T", "body": "b", "image_alt": "x"}, files=files)
    page = await response.text()
    assert response.status == 400 and "not a supported image" in page and await _count(services) == 0


async def _send_preview_in_parts(ui: UI, parts: list[bytes]) -> bytes:
    """A live preview sent as the network may deliver it: in ``parts``, a moment apart."""
    url = ui.client.make_url("/preview")
    cookies = "; ".join(f"{c.key}={c.value}" for c in ui.client.session.cookie_jar.filter_cookies(url).values())
    reader, writer = await asyncio.open_connection(url.host, url.port)
    length = sum(map(len, parts))
    writer.write((f"POST /preview HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nCookie: {cookies}\r\n"
                  "Sec-Fetch-Site: same-origin\r\nAccept: application/json\r\nConnection: close\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n").encode())
    for part in parts:
        writer.write(part)
        await writer.drain()
        await asyncio.sleep(0.2)  # the handler is reading the body meanwhile
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


async def test_a_preview_arriving_in_parts_is_read_whole(ui: UI, services: Services) -> None:
    await garden_with_member(services)
    await ui.log_in("bea")
    answer = await _send_preview_in_parts(ui, [b'{"body": "*half', b' and half*"}'])
    assert answer.startswith(b"HTTP/1.1 200") and b"<em>half and half</em>" in answer

