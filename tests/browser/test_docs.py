"""A group's docs in a real browser (issue #18), against a real `madeopen run` node: staff write a doc; a
customer proposes an edit; staff see the diff in the queue and accept it; the doc shows the new text and
its history both authors; a conflicting save is merged without losing either text. axe-core at desktop
and 360 px, and screenshots of each page (test-output/screenshots/docs-*)."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import Object, RemoteActor
from tests.browser.conftest import Visitor, create_user, run_async
from tests.browser.test_board import _make_staff
from tests.support.cluster import node_services
from tests.support.servers import Node


def _checked(visitor: Visitor, name: str) -> None:
    visitor.screenshot(f"docs-{name}")
    visitor.assert_accessible()
    visitor.fits_width()


def test_write_propose_accept_and_merge(visitor: Visitor, browser: object, node: Node) -> None:
    for name in ("ada", "erin", "sam"):
        create_user(node, name)
    node.cli("group", "create", "shop", "--owner", "ada", "--title", "The Shop", check=True)
    _make_staff(node, "shop", "sam")
    sam = visitor
    sam.log_in("sam")
    page = sam.page

    # staff write a doc from the group page
    sam.goto("/groups/shop")
    page.get_by_role("link", name="Docs", exact=True).first.click()
    page.wait_for_url("**/groups/shop/docs")
    page.get_by_role("link", name="New doc").click()
    sam.fill({"Title": "", "Text": "We take returns."})
    sam.submit("Save")
    assert page.get_by_text("give the doc a title").first.is_visible()
    assert page.get_by_label("Text", exact=True).input_value() == "We take returns."  # kept
    _checked(sam, "new-error")
    sam.fill({"Title": "Returns", "Text": "# Policy\n\nWe take returns within thirty days.\n\n# Contact\n\nMail us.",
              "Tags": "handbook"})
    sam.submit("Save")
    doc = page.url
    assert page.get_by_role("heading", name="Policy").is_visible()
    _checked(sam, "page")

    # a customer proposes an edit
    erin = Visitor(browser, node)
    try:
        erin.log_in("erin")
        erin.goto(doc)
        erin.page.get_by_role("link", name="Propose an edit").click()
        erin.fill({"Text": "# Policy\n\nWe take returns within sixty days.\n\n# Contact\n\nMail us.",
                   "Why (for the team)": "The law changed in May."})
        erin.submit("Send to the team")
        assert erin.page.get_by_text("Your proposed edit is with the team").is_visible()
        _checked(erin, "proposal-sent")
    finally:
        erin.close()

    # staff see the diff in the queue and accept
    sam.goto("/groups/shop/docs")
    page.get_by_role("link", name=re.compile(r"Proposed edits \(1 waiting\)")).click()
    assert page.locator(".diff del").first.inner_text() == "thirty"
    assert page.locator(".diff ins").first.inner_text() == "sixty"
    _checked(sam, "queue")
    page.get_by_role("link", name=re.compile("^Review")).click()
    page.get_by_role("link", name="Side by side").click()
    assert page.locator("table.diff--side ins").first.inner_text() == "sixty"
    _checked(sam, "proposal-side-by-side")
    sam.submit("Accept")
    assert "sixty days" in page.locator(".doc-body").inner_text()
    byline = page.locator(".byline").first.inner_text()
    assert "Revision 2 by erin, accepted by sam" in byline, byline
    page.get_by_role("link", name="History").click()
    history = page.locator(".doc-history").inner_text()
    assert "Revision 2 by erin, accepted by sam" in history and "Revision 1 by sam" in history
    _checked(sam, "history")

    # a conflicting save: ada (the owner) saves while sam is editing; sam's save is merged, nothing lost
    sam.goto(doc + "/edit")
    ada = Visitor(browser, node)
    try:
        ada.log_in("ada")
        ada.goto(doc + "/edit")
        ada.fill({"Text": "# Policy\n\nWe take returns within sixty days.\n\n# Contact\n\nMail us at shop@example.org."})
        ada.submit("Save")
    finally:
        ada.close()
    sam.fill({"Text": "# Policy\n\nWe take most returns within sixty days.\n\n# Contact\n\nPhone us.",
              "What changed (summary)": "Most returns"})
    sam.submit("Save")
    assert page.get_by_role("heading", name="Someone saved this doc while you were editing").is_visible()
    merged = page.get_by_label("Text", exact=True).input_value()
    assert "We take most returns within sixty days." in merged  # sam's clean change, merged
    assert "<<<<<<< your text\nPhone us.\n=======\nMail us at shop@example.org.\n>>>>>>> revision 3" in merged
    assert "Phone us." in page.get_by_label("Your text as you typed it (kept, to copy from)").input_value()
    _checked(sam, "conflict")
    sam.fill({"Text": merged.replace("<<<<<<< your text\nPhone us.\n=======\n", "Phone us, or ")
              .replace("\n>>>>>>> revision 3", "")})
    sam.submit("Save")
    body = page.locator(".doc-body").inner_text()
    assert "most returns within sixty days" in body and "Phone us, or Mail us at shop@example.org." in body
    assert "Revision 4 by sam" in page.locator(".byline").first.inner_text()


def _remote_doc(node: Node) -> int:
    """A doc of a group on another Made Open node, as this node holds its Article (what the multinode test
    follows over real federation); returns its post id. The comment's delivery to a.example simply fails."""

    async def add() -> int:
        services = await node_services(node)
        try:
            group = "https://a.example/groups/shop"
            article = {"id": "https://a.example/objects/1", "type": "Article", "attributedTo": group,
                       "audience": group, "name": "Returns", "url": "https://a.example/groups/shop/docs/3",
                       "content": "<h1>Policy</h1><p>Thirty days.</p><h1>Contact us</h1><p>Mail.</p>",
                       "source": {"content": "# Policy\n\nThirty days.\n\n# Contact us\n\nMail.",
                                  "mediaType": "text/markdown"},
                       "docRevision": 2, "to": [group, "https://www.w3.org/ns/activitystreams#Public"]}
            async with services.sessions.begin() as session:
                session.add(RemoteActor(uri=group, actor_type="Group", username="shop", domain="a.example",
                                        inbox=f"{group}/inbox", document={}))
                obj = Object(uri=article["id"], local=False, type="Article", author_uri=group, audience_uri=group,
                             context_uri=article["id"], name="Returns", content=article["content"], public=True,
                             document=article)
                session.add(obj)
                await session.flush()
                return obj.id
        finally:
            await services.close()

    return run_async(add())


def test_commenting_on_a_section_of_another_servers_doc(visitor: Visitor, node: Node) -> None:
    create_user(node, "bea")
    post_id = _remote_doc(node)
    bea = visitor
    bea.log_in("bea")
    bea.goto(f"/posts/{post_id}")
    page = bea.page
    about = page.get_by_label("About", exact=True)
    assert about.locator("option").all_inner_texts() == ["The whole doc", "Policy", "Contact us"]
    _checked(bea, "remote-doc")
    about.select_option(label="Contact us")
    bea.fill({"Your reply": "Is there a phone number?"})
    bea.submit("Post reply")
    assert page.get_by_text("Your reply is sent to the group.").is_visible()  # the doc's group relays it
    assert page.get_by_text("Is there a phone number?").first.is_visible()
    link = page.get_by_role("link", name="Contact us", exact=True)  # the section, atop the comment
    assert link.get_attribute("href") == "https://a.example/groups/shop/docs/3#s-contact-us"
    _checked(bea, "remote-doc-commented")

    async def sent() -> dict[str, object]:
        services = await node_services(node)
        try:
            async with services.sessions() as session:
                return (await session.scalar(select(Object).where(Object.local.is_(True)))).document
        finally:
            await services.close()

    note = run_async(sent())
    assert note["docSection"] == "s-contact-us" and "https://a.example/groups/shop/docs/3#s-contact-us" in note["content"]
