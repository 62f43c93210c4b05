"""A comment on one section of a group's doc, across servers (content.docs.comments, federation.object_render):
ours carry ``docSection`` and a link atop the text; one from another server naming a section we have is filed
under it, anything else under the whole doc."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from content.docs import comments
from actors import local
from inbox_outbox.services import docs, post_edits
from storage.models import Doc, Object
from tests.inbox_outbox.content_support import World, create, lemmy_comment, published, receive

BODY = "# Policy\n\nSixty days.\n\n# Sales & offers\n\nNone."


async def _doc(w: World) -> tuple[Doc, Object]:
    assert w.services.fed is not None
    await docs.create_doc(w.services.fed, "alice", "garden", title="Returns", body=BODY)
    async with w.services.sessions() as session:
        doc = await session.scalar(select(Doc))
        assert doc is not None
        article = await session.get(Object, doc.object_id)
    assert article is not None
    return doc, article


async def _by_section(w: World, doc: Doc) -> dict[str | None, list[str]]:
    async with w.services.sessions() as session:
        found = await comments.threads(session, doc)
    return {anchor: [c.content for c in listed] for anchor, listed in found.by_section.items()}


async def test_a_section_comment_of_ours_names_the_section_for_peers_of_both_kinds(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    doc, article = await _doc(w)

    await docs.comment(w.services.fed, "alice", "garden", doc.id, "What about sales?", anchor="s-sales-offers")

    creates = [a for a in await published(w.services, w.alice, "Create") if a["object"].get("inReplyTo") == article.uri]
    assert len(creates) == 1
    note = creates[0]["object"]
    page = f"{w.services.urls.base}/groups/garden/docs/{doc.id}"
    assert note["docSection"] == "s-sales-offers"  # for another Made Open node
    assert {"madeopen": "https://w3id.org/madeopen/ns#", "docSection": "madeopen:docSection"} in note["@context"]
    # what a Mastodon-family reader shows: the content, with the section as a link atop it
    assert note["content"].startswith(f'<p>On section <a href="{page}#s-sales-offers">Sales &amp; offers</a>:</p>')
    assert "What about sales?" in note["content"]
    assert await _by_section(w, doc) == {"s-sales-offers": ["<p>What about sales?</p>"]}


async def test_a_plain_comment_names_no_section(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    doc, article = await _doc(w)
    await docs.comment(w.services.fed, "alice", "garden", doc.id, "Looks good")
    note = [a for a in await published(w.services, w.alice, "Create")
            if a["object"].get("inReplyTo") == article.uri][0]["object"]
    assert "docSection" not in note and not note["content"].startswith("<p>On section")


@pytest.mark.parametrize("section, filed", [
    ("s-policy", "s-policy"),
    ("s-nowhere", None),  # not a heading of the doc (any more)
    (["s-policy"], None),  # not a string
    ({"@id": "s-policy"}, None),
    ("s-" + "x" * 300, None),  # longer than any anchor
])
async def test_a_comment_from_another_server_is_filed_by_the_section_it_names(
    content_world: World, section: Any, filed: str | None
) -> None:
    w = content_world
    doc, article = await _doc(w)
    note = lemmy_comment(w.bob, w.garden, article.uri, content="<p>Sixty is long</p>", docSection=section)

    assert (await receive(w.services, w.bob, create(w.bob, note))).state == "done"

    assert await _by_section(w, doc) == {filed: ["<p>Sixty is long</p>"]}


async def test_a_reply_to_a_comment_is_not_filed_under_a_section_of_its_own(content_world: World) -> None:
    """Only comments on the doc itself name a section (as here: a reply stays in its comment's thread)."""
    w = content_world
    doc, article = await _doc(w)
    first = lemmy_comment(w.bob, w.garden, article.uri, content="<p>Sixty is long</p>")
    assert (await receive(w.services, w.bob, create(w.bob, first))).state == "done"
    reply = lemmy_comment(w.bob, w.garden, first["id"], content="<p>Thirty then</p>", docSection="s-policy")
    assert (await receive(w.services, w.bob, create(w.bob, reply))).state == "done"

    found = await _by_section(w, doc)
    assert list(found) == [None] and found[None] == ["<p>Sixty is long</p>"]


async def test_an_edit_keeps_the_section(content_world: World) -> None:
    w = content_world
    assert w.services.fed is not None
    doc, article = await _doc(w)
    await docs.comment(w.services.fed, "alice", "garden", doc.id, "What about sales?", anchor="s-sales-offers")
    async with w.services.sessions.begin() as session:
        made = await session.scalar(select(Object).where(Object.source == "What about sales?"))
        assert made is not None
        await post_edits.update_post(session, w.services.urls, await local.find_person(session, "alice"), made.uri,
                                     "What about sales, then?")

    update = [a for a in await published(w.services, w.alice, "Update")][-1]["object"]
    assert update["docSection"] == "s-sales-offers"
    assert update["content"].startswith('<p>On section <a href="') and "What about sales, then?" in update["content"]
    assert update["content"].count("On section") == 1
    assert await _by_section(w, doc) == {"s-sales-offers": ["<p>What about sales, then?</p>"]}
