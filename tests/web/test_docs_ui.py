"""A group's docs as a browser uses them (without one; issue #18): writing, revisions, diffs, restore,
a stale save merged without loss, proposed edits reviewed by the team, comments by section, the
Markdown export, and every bad input of the issue (empty title, oversize body, a proposal against a
deleted doc, restoring another doc's revision, a stale save): a clear error, nothing written, the
typed text kept in the form."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from content.docs.text import MAX_DOC_BODY
from madeopen.app import Services
from storage.models import Activity, Doc, DocProposal, DocRevision, Notification, Object, RemoteActor
from tests.support.web_ui import UI, create_person, second_ui, shop_with_team, ui  # noqa: F401  (fixtures)


def _text(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split()).replace(" ,", ",")


async def _write(ui: UI, title: str, body: str, **extra: str) -> str:
    response = await ui.post("/groups/shop/docs/new", {"title": title, "body": body, **extra})
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def _revisions(services: Services) -> int:
    async with services.sessions() as session:
        return await session.scalar(select(func.count()).select_from(DocRevision)) or 0


async def test_write_edit_history_diff_restore(ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("sam")
    assert "New doc" in await ui.page("/groups/shop/docs")

    # bad input: empty title, oversize body; the typed text stays in the form, nothing is written
    response = await ui.post("/groups/shop/docs/new", {"title": "  ", "body": "Keep *this* text"})
    page = await response.text()
    assert response.status == 400 and "give the doc a title" in page and "Keep *this* text" in page
    response = await ui.post("/groups/shop/docs/new", {"title": "Big", "body": "x" * (MAX_DOC_BODY + 5)})
    assert response.status == 400 and "at most 250,000 characters" in await response.text()
    assert await _revisions(services) == 0

    path = await _write(ui, "Opening hours", "# Hours\n\nWe open at 9.\n\n## Holidays\n\nClosed on Sundays.\n",
                        tags="handbook shop")
    page = await ui.page(path)
    assert '<h1 id="s-hours">Hours</h1>' in page and '<h2 id="s-holidays">Holidays</h2>' in page
    assert "Revision 1 by sam" in _text(page)
    response = await ui.post(path + "/edit", {"title": "Opening hours", "body": "# Hours\n\nWe open at 8.\n\n## Holidays\n\nClosed on Sundays.\n",
                                              "base": "1", "summary": "Earlier start", "tags": "handbook"})
    assert response.status == 303
    history = _text(await ui.page(path + "/history"))
    assert "Revision 2 by sam" in history and "Earlier start" in history and "Revision 1 by sam" in history
    diff = await ui.page(path + "/diff?from=1&to=2")
    assert "<del>9</del><ins>8</ins>" in diff
    side = await ui.page(path + "/diff?from=1&to=2&view=side")
    assert "diff--side" in side and "<del>9</del>" in side and "<ins>8</ins>" in side
    assert "We open at 9." in _text(await ui.page(path + "/revisions/1"))

    # restore revision 1 as revision 3
    response = await ui.post(path + "/restore", {"number": "1"})
    assert response.status == 303
    assert "We open at 9." in _text(await ui.page(path))
    assert "Restored revision 1" in _text(await ui.page(path + "/history"))

    # the tree: a sub-page; a doc never sits under itself or its own sub-page (nothing saved)
    child = await _write(ui, "Winter hours", "Shorter.", parent=path.rsplit("/", 1)[1])
    listing = await ui.page("/groups/shop/docs")
    assert "doc-depth-1" in listing and listing.index("Opening hours") < listing.index("Winter hours")
    response = await ui.post(path + "/edit", {"title": "Opening hours", "body": "Changed", "base": "3",
                                              "parent": child.rsplit("/", 1)[1]})
    page = await response.text()
    assert response.status == 400 and "cannot sit under itself" in page and ">Changed</textarea>" in page
    assert "We open at 9." in _text(await ui.page(path))
    assert "Winter hours" not in await ui.page("/groups/shop/docs?tag=handbook")

    # the feed of changes: each revision with its author, summary and diff
    response = await ui.get("/feeds/groups/shop/docs.atom")
    feed = html.unescape(await response.text())
    assert response.status == 200 and "Opening hours (revision 3)" in feed and "Restored revision 1" in feed
    assert "<del>9</del><ins>8</ins>" in feed and "<name>sam</name>" in feed

    # restoring a revision of another doc: not found here, nothing written
    other = await _write(ui, "Returns", "Thirty days.")
    before = await _revisions(services)
    response = await ui.post(other + "/restore", {"number": "3"})
    assert response.status == 404
    assert await _revisions(services) == before

    # the doc is also a post of the group (its Article): listed with the group's threads, searchable
    async with services.sessions() as session:
        article = await session.scalar(select(Object).where(Object.type == "Article", Object.name == "Opening hours"))
    assert article is not None and article.author_uri == "https://node.test/groups/shop"
    for listing in ("/groups/shop", "/groups/shop?sort=active", "/local", "/home"):
        assert "Opening hours" in await ui.page(listing), listing
    response = await ui.get(article.uri[len("https://node.test"):])
    assert response.status == 303 and response.headers["Location"] == path  # the Article's page is the doc's
    assert "Opening hours by The Shop" in _text(await ui.page("/search?q=open+sundays"))

    # export as Markdown
    response = await ui.get(path + "/export.md")
    assert response.status == 200 and response.content_type == "text/markdown"
    assert (await response.text()).startswith("# Opening hours\n\n# Hours")

    # the group's members got the Article: Create then Updates, by the group
    async with services.sessions() as session:
        kinds = [row for row in await session.scalars(select(Activity.type).where(
            Activity.actor_uri == "https://node.test/groups/shop").order_by(Activity.id))]
    assert kinds.count("Create") == 3 and kinds.count("Update") == 2  # three docs, two new revisions


async def test_stale_save_merges_without_loss(ui: UI, second_ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("sam")
    await second_ui.log_in("ada")
    path = await _write(ui, "Guide", "one\ntwo\nthree\nfour\nfive\n")
    response = await second_ui.post(path + "/edit", {"title": "Guide", "body": "ONE\ntwo\nthree\nfour\nfive\n", "base": "1"})
    assert response.status == 303

    # sam saves on revision 1: a clean merge is offered, nothing saved yet
    response = await ui.post(path + "/edit", {"title": "Guide", "body": "one\ntwo\nthree\nfour\nFIVE\n", "base": "1"})
    page = await response.text()
    assert response.status == 409 and "Someone saved this doc while you were editing" in page
    assert "ONE\ntwo\nthree\nfour\nFIVE" in html.unescape(page)
    assert 'name="base" value="2"' in page
    assert await _revisions(services) == 2

    # a clash: both versions between markers, the typed text kept; saving markers is refused
    response = await ui.post(path + "/edit", {"title": "Guide", "body": "uno\ntwo\nthree\nfour\nfive\n", "base": "1"})
    page = html.unescape(await response.text())
    assert response.status == 409 and "<<<<<<< your text\nuno\n=======\nONE\n>>>>>>> revision 2" in page
    assert "uno\ntwo" in page  # "your text as you typed it"
    merged = "<<<<<<< your text\nuno\n=======\nONE\n>>>>>>> revision 2\ntwo\n"
    response = await ui.post(path + "/edit", {"title": "Guide", "body": merged, "base": "2"})
    assert response.status == 400 and "conflict markers" in await response.text()
    response = await ui.post(path + "/edit", {"title": "Guide", "body": "Uno/ONE\ntwo\n", "base": "2"})
    assert response.status == 303
    assert await _revisions(services) == 3


async def test_proposals_comments_and_permissions(ui: UI, second_ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await ui.log_in("sam")
    path = await _write(ui, "Returns", "# Policy\n\nThirty days.\n\n# Contact\n\nMail us.\n")
    await second_ui.log_in("erin")  # a member, not on the team: proposes, does not edit
    page = await second_ui.page(path)
    assert "Propose an edit" in page and f'href="{path}/edit"' not in page
    response = await second_ui.post(path + "/edit", {"title": "Returns", "body": "x", "base": "1"})
    assert response.status == 403

    response = await second_ui.post(path + "/propose", {"title": "Returns", "body": "# Policy\n\nSixty days.\n\n# Contact\n\nMail us.\n",
                                                        "base": "1", "reason": ""})
    page = await response.text()
    assert response.status == 400 and "say why" in page and "Sixty days." in page
    response = await second_ui.post(path + "/propose", {"title": "Returns", "body": "# Policy\n\nSixty days.\n\n# Contact\n\nMail us.\n",
                                                        "base": "1", "reason": "The law changed."})
    assert response.status == 303
    proposal = response.headers["Location"]

    # the team is told; its queue shows the diff; asking for changes needs a comment
    notes = _text(await ui.page("/notifications"))
    assert "erin proposed an edit of Returns" in notes and "The law changed." in notes
    queue = await ui.page("/groups/shop/docs/proposals")
    assert "<del>Thirty</del><ins>Sixty</ins>" in queue and "The law changed." in queue
    response = await ui.post(proposal + "/decide", {"decision": "changes", "comment": ""})
    assert response.status == 400 and "tell the proposer what to change" in await response.text()
    response = await ui.post(proposal + "/decide", {"decision": "accept", "comment": "Thanks"})
    assert response.status == 303
    text = _text(await ui.page(path + "/history"))
    assert "Revision 2 by erin, accepted by sam" in text and "Revision 1 by sam" in text
    assert "Sixty days." in _text(await ui.page(path))
    notes = _text(await second_ui.page("/notifications"))
    assert "sam accepted your proposed edit of Returns" in notes
    response = await ui.post(proposal + "/decide", {"decision": "decline", "comment": "no"})
    assert response.status == 400  # answered already

    # another edit: the team asks for changes, erin revises it, the team declines it; erin is told each time
    response = await second_ui.post(path + "/propose", {"title": "Returns", "body": "# Policy\n\nNinety days.\n\n# Contact\n\nMail us.\n",
                                                        "base": "2", "reason": "Generous."})
    second = response.headers["Location"]
    response = await ui.post(second + "/decide", {"decision": "changes", "comment": "Say which products."})
    assert response.status == 303
    page = _text(await second_ui.page(second))
    assert "Changes asked" in page and "Say which products." in page and "Revise your edit" in page
    response = await second_ui.post(second + "/revise", {"title": "Returns", "body": "# Policy\n\nNinety days for books.\n",
                                                         "reason": ""})
    assert response.status == 400 and "Ninety days for books." in await response.text()
    response = await second_ui.post(second + "/revise", {"title": "Returns", "body": "# Policy\n\nNinety days for books.\n",
                                                         "reason": "Books only."})
    assert response.status == 303
    assert "Waiting for review" in _text(await ui.page(second))
    response = await ui.post(second + "/decide", {"decision": "decline", "comment": "Books are rare here."})
    assert response.status == 303
    notes = _text(await second_ui.page("/notifications"))
    assert "sam declined your proposed edit of Returns" in notes and "Books are rare here." in notes
    assert "sam asks for changes to your proposed edit of Returns" in notes
    assert (await ui.get(second)).status == 200

    # comments: on a section, threaded, resolvable by the team or the author
    response = await second_ui.post(path + "/comments", {"comment": "What about sales?", "anchor": "s-policy"})
    assert response.status == 303
    async with services.sessions() as session:
        first = await session.scalar(select(Object).where(Object.source == "What about sales?"))
    assert first is not None
    response = await ui.post(path + "/comments", {"comment-%d" % first.id: "Same rule.", "reply_to": str(first.id)})
    assert response.status == 303
    response = await second_ui.post(path + "/comments", {"comment": "", "anchor": ""})
    assert response.status == 400 and "write something" in await response.text()
    response = await second_ui.post(path + "/comments", {"comment": "Hm", "anchor": "s-nowhere"})
    page = await response.text()
    assert response.status == 400 and "that section is not in the doc" in page and ">Hm</textarea>" in page
    page = _text(await ui.page(path))
    assert "On Policy" in page and "What about sales?" in page and "Same rule." in page and "1 open" in page
    response = await ui.post(f"{path}/comments/{first.id}/resolve", {"resolved": "yes"})
    assert response.status == 303
    assert "1 open" not in _text(await ui.page(path))

    # a proposal against a deleted doc: refused, the text kept
    response = await ui.post(path + "/delete", {})
    assert response.status == 303
    response = await second_ui.post(path + "/propose", {"title": "Returns", "body": "Keep me", "base": "2",
                                                        "reason": "x"})
    assert response.status == 404 and "that doc was deleted" in await response.text()
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(DocProposal)) == 2
        assert (await session.scalar(select(Doc))).deleted
        article = await session.scalar(select(Object).where(Object.type == "Article"))
    assert article.deleted and article.name == ""  # a tombstone: gone from the group, search and peers


async def test_who_edits_is_the_teams_choice(ui: UI, second_ui: UI, services: Services) -> None:  # noqa: F811
    await shop_with_team(services)
    await second_ui.log_in("erin")
    assert (await second_ui.get("/groups/shop/docs/new")).status == 403
    await ui.log_in("ada")  # the owner
    response = await ui.post("/groups/shop/docs/settings", {"editors": "nobody"})
    assert response.status == 400
    response = await second_ui.post("/groups/shop/docs/settings", {"editors": "anyone"})
    assert response.status == 403
    response = await ui.post("/groups/shop/docs/settings", {"editors": "members"})
    assert response.status == 303
    path = await _write(second_ui, "Members' notes", "Hello")
    response = await second_ui.post(path + "/edit", {"title": "Members' notes", "body": "Hello all", "base": "1"})
    assert response.status == 303
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0


async def test_proposing_an_edit_of_another_servers_doc(ui: UI, services: Services) -> None:  # noqa: F811
    """Node B's side: a doc of a group on another Made Open node, as we hold its Article; the edit goes
    to that group as an Offer (the multinode test follows it there and back)."""
    await create_person(services, "bea")
    group_uri = "https://a.example/groups/shop"
    article = {"id": "https://a.example/objects/1", "type": "Article", "attributedTo": group_uri,
               "audience": group_uri, "name": "Returns", "content": "<p>Thirty days.</p>",
               "source": {"content": "Thirty days.", "mediaType": "text/markdown"}, "docRevision": 4,
               "to": [group_uri, "https://www.w3.org/ns/activitystreams#Public"]}
    async with services.sessions.begin() as session:
        session.add(RemoteActor(uri=group_uri, actor_type="Group", username="shop", domain="a.example",
                                inbox="https://a.example/groups/shop/inbox", document={}))
        obj = Object(uri=article["id"], local=False, type="Article", author_uri=group_uri, audience_uri=group_uri,
                     context_uri=article["id"], name="Returns", content="<p>Thirty days.</p>", public=True,
                     document=article)
        session.add(obj)
        await session.flush()
        post_id = obj.id
    await ui.log_in("bea")
    assert "Propose an edit of this doc" in await ui.page(f"/posts/{post_id}")
    form = html.unescape(await ui.page(f"/posts/{post_id}/propose-edit"))
    assert ">Thirty days.</textarea>" in form and "a group on a.example" in form
    response = await ui.post(f"/posts/{post_id}/propose-edit", {"title": "", "body": "Sixty days.", "reason": ""})
    page = await response.text()
    assert response.status == 400 and "give the doc a title" in page and "say why" in page and "Sixty days." in page
    response = await ui.post(f"/posts/{post_id}/propose-edit", {"title": "Returns", "body": "Sixty days.",
                                                                 "reason": "The law changed."})
    assert response.status == 303
    async with services.sessions() as session:
        [offer] = list(await session.scalars(select(Activity.document).where(Activity.type == "Offer")))
    assert offer["target"] == group_uri and offer["summary"] == "The law changed."
    assert offer["object"]["id"] == article["id"] and offer["object"]["docRevision"] == 4
    assert offer["object"]["source"]["content"] == "Sixty days."


async def test_commenting_on_a_section_of_another_servers_doc(ui: UI, services: Services) -> None:  # noqa: F811
    """Node B's side: bea picks a heading of a doc of a group on another Made Open node; her reply carries
    ``docSection`` and, for Mastodon-family readers, a link to that heading of the doc's page atop the text."""
    await create_person(services, "bea")
    group_uri = "https://a.example/groups/shop"
    article = {"id": "https://a.example/objects/1", "type": "Article", "attributedTo": group_uri,
               "audience": group_uri, "name": "Returns", "content": "<h1>Policy</h1><p>Thirty days.</p>",
               "source": {"content": "# Policy\n\nThirty days.\n\n# Contact us\n\nMail.", "mediaType": "text/markdown"},
               "docRevision": 2, "url": "https://a.example/groups/shop/docs/3",
               "to": [group_uri, "https://www.w3.org/ns/activitystreams#Public"]}
    async with services.sessions.begin() as session:
        session.add(RemoteActor(uri=group_uri, actor_type="Group", username="shop", domain="a.example",
                                inbox="https://a.example/groups/shop/inbox", document={}))
        doc = Object(uri=article["id"], local=False, type="Article", author_uri=group_uri, audience_uri=group_uri,
                     context_uri=article["id"], name="Returns", content=article["content"], public=True,
                     document=article)
        other = Object(uri="https://a.example/objects/2", local=False, type="Page", author_uri=group_uri,
                       audience_uri=group_uri, context_uri="https://a.example/objects/2", name="Opening hours",
                       content="<p>Nine to five.</p>", public=True,
                       document={"id": "https://a.example/objects/2", "type": "Page"})
        session.add_all([doc, other])
        await session.flush()
        doc_id, other_id = doc.id, other.id
    await ui.log_in("bea")
    page = html.unescape(await ui.page(f"/posts/{doc_id}"))
    assert '<select id="reply-{}-section" name="section">'.format(doc_id) in page
    assert '<option value="s-policy">Policy</option>' in page and '<option value="s-contact-us">Contact us</option>' in page
    assert 'name="section"' not in html.unescape(await ui.page(f"/posts/{other_id}"))  # not a doc: no picker

    async def notes() -> list[Object]:
        async with services.sessions() as session:
            return list(await session.scalars(select(Object).where(Object.local.is_(True))))

    # a heading the doc does not have (any more): a clear error, the text kept, nothing sent
    response = await ui.post(f"/posts/{doc_id}/reply", {"body": "Is thirty enough?", "section": "s-gone"})
    page = html.unescape(await response.text())
    assert response.status == 400 and "that section is not in the doc" in page and ">Is thirty enough?</textarea>" in page
    response = await ui.post(f"/posts/{other_id}/reply", {"body": "Hello", "section": "s-policy"})
    assert response.status == 400 and "only a comment on a doc" in html.unescape(await response.text())
    assert await notes() == []

    response = await ui.post(f"/posts/{doc_id}/reply", {"body": "Is thirty enough?", "section": "s-contact-us"})
    assert response.status == 303
    [note] = await notes()
    assert note.document["docSection"] == "s-contact-us" and note.in_reply_to_uri == article["id"]
    assert note.document["content"].startswith('<p>On section <a href="https://a.example/groups/shop/docs/3#s-contact-us"')
    async with services.sessions() as session:
        [create] = list(await session.scalars(select(Activity.document).where(Activity.type == "Create")))
    assert create["object"]["docSection"] == "s-contact-us"
    # on the doc's page here, the comment shows its section as readers elsewhere see it
    page = html.unescape(await ui.page(f"/posts/{doc_id}"))
    assert '<p>On section <a href="https://a.example/groups/shop/docs/3#s-contact-us">Contact us</a>:</p><p>Is thirty enough?</p>' in page
    # the whole doc: no section, no link
    response = await ui.post(f"/posts/{doc_id}/reply", {"body": "Thanks!", "section": ""})
    assert response.status == 303
    [thanks] = [n for n in await notes() if n.source == "Thanks!"]
    assert "docSection" not in thanks.document and "On section" not in thanks.document["content"]
