"""Writing in a real browser (issue #16), against a real `madeopen run` node: a thread with a heading, a
table and an image with alt text, previewed live (JavaScript) and with the Preview button, then posted;
a microblog update from Home, previewed with the button (the server renders it: what works without
JavaScript; tests/web/test_composer.py runs that without a browser) and posted. axe-core at desktop
and 360 px; nothing wider than a phone; screenshots in test-output/screenshots/composer-*."""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image

from tests.browser.conftest import Visitor, create_user
from tests.support.servers import Node

POST = """## Planting plan

| Bed | Crop | Sown |
|:----|:-----|-----:|
| 1 | Leeks | 12 |
| 2 | Beans | 30 |

- [x] dig the beds
- [ ] sow the beans

See [the group](/groups/garden) and https://example.org #allotment"""


def _photo(path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (40, 140, 60))
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # a GPS latitude, which must not survive
    image.save(path, "JPEG", exif=exif)
    return path


def test_a_thread_with_table_heading_and_image_previewed_then_posted(visitor: Visitor, browser: object, node: Node,
                                                                      tmp_path: Path) -> None:
    create_user(node, "bea")
    node.cli("group", "create", "garden", "--owner", "bea", "--title", "Allotment", check=True)
    bea = visitor
    bea.log_in("bea")
    page = bea.page
    bea.goto("/groups/garden/new")
    bea.fill({"Title": "Spring beds", "Text": POST})

    # The live preview follows the typing (composer.js calls POST /preview).
    preview = page.locator("#body-preview")
    preview.get_by_role("heading", name="Planting plan").wait_for()
    assert preview.get_by_role("cell", name="Leeks").is_visible()
    assert preview.locator("a.hashtag").get_attribute("href") == f"{node.base_url}/tags/allotment"

    # The image and its description, then the Preview button: the page comes back with all of it kept.
    page.get_by_label("Image file").set_input_files(str(_photo(tmp_path / "beds.jpg")))
    bea.fill({"Description of the image (alt text)": "Two raised beds with young leeks"})
    rota = tmp_path / "rota.pdf"
    rota.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
    page.get_by_label("File", exact=True).set_input_files(str(rota))
    bea.fill({"Description of the file": "Sowing rota"})
    bea.submit("Preview")
    assert page.get_by_label("Text", exact=True).input_value() == POST
    assert page.get_by_label("Title").input_value() == "Spring beds"
    assert preview.get_by_role("img", name="Two raised beds with young leeks").is_visible()
    assert preview.get_by_role("cell", name="Beans").is_visible()
    assert "☑ dig the beds" in preview.inner_text()
    assert page.get_by_role("link", name="Sowing rota").is_visible()  # the file is kept, with its description
    bea.screenshot("composer-preview")
    bea.assert_accessible()
    bea.fits_width()

    bea.submit("Post the thread")
    assert "/objects/" in page.url
    post = page.locator("article.post").first
    assert post.get_by_role("heading", name="Planting plan").is_visible()
    assert post.get_by_role("cell", name="Leeks").is_visible()
    image = post.get_by_role("img", name="Two raised beds with young leeks")
    assert image.is_visible()
    src = image.get_attribute("src") or ""
    assert re.match(rf"{re.escape(node.base_url)}/media/[\w-]+\.jpg$", src)
    assert post.get_by_role("link", name="the group").get_attribute("href") == f"{node.base_url}/groups/garden"
    served = page.request.get(src).body()
    assert b"GPS" not in served and Image.open(io.BytesIO(served)).getexif() == {}
    file_link = post.get_by_role("link", name="File: Sowing rota")
    assert file_link.is_visible() and "(PDF, 1 KB)" in post.inner_text()
    download = page.request.get(file_link.get_attribute("href") or "")
    assert download.headers["content-disposition"].startswith("attachment;")
    bea.screenshot("composer-thread")
    bea.assert_accessible()
    bea.fits_width()

    page.get_by_role("link", name="#allotment").click()
    page.wait_for_url("**/tags/allotment")
    assert page.get_by_role("heading", name="#allotment", level=1).is_visible()
    assert page.get_by_role("link", name="Spring beds").is_visible()
    bea.assert_accessible()


def test_a_microblog_update_previewed_with_the_button(browser: object, node: Node) -> None:
    create_user(node, "dave")
    dave = Visitor(browser, node)
    try:
        dave.log_in("dave")
        dave.goto("/home")
        page = dave.page
        page.get_by_label("Your update", exact=True).fill("First **tomatoes** of the year #harvest")
        page.get_by_label("My followers only").check()
        dave.submit("Preview")
        preview = page.locator("#body-preview")
        assert preview.locator("strong").inner_text() == "tomatoes"
        assert page.get_by_label("My followers only").is_checked()
        dave.assert_accessible()
        dave.fits_width()
        page.get_by_label("Everyone (public)").check()
        dave.submit("Post")
        assert "/objects/" in page.url and page.get_by_text("Your update is posted.").is_visible()
        dave.goto("/users/dave")
        posts = page.get_by_role("region", name="Posts")
        assert posts.get_by_text("First tomatoes of the year").is_visible()
        dave.screenshot("composer-profile")
        dave.assert_accessible()
    finally:
        dave.close()
