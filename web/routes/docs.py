"""A group's docs (issue #18): ``/groups/<name>/docs`` lists them as a tree (or by tag); each doc has its
page (sections, comments by section), an edit form (a stale save shows the three-way merge), its
history, any revision, a diff of two (inline or side by side), restore, a Markdown export, and proposed
edits with the team's queue. ``/posts/<id>/propose-edit``: propose an edit of another server's doc.

Handlers are thin: inbox_outbox.services.docs does the writing, content.docs.views the reading. Every
form with a problem is shown again with the text as typed and the message next to its field.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import group_pages
from actors.errors import InvalidInput, NotFound
from actors.node_settings import InvalidFields
from content.docs import pages, proposals, views
from content.docs.text import MAX_DOC_BODY, MAX_DOC_TITLE, MAX_SUMMARY, render
from inbox_outbox.services import docs as service
from inbox_outbox.services import threads
from inbox_outbox.services.common import load_group
from web import forms, sessions
from web.context import get_context
from web.responses import html_page
from web.routes.groups import viewer_uri

_DOC = "/groups/{name}/docs/{doc:[0-9]{1,9}}"
LABELS = {"title": "Title", "body": "Text", "summary": "What changed (summary)", "tags": "Tags", "parent": "Under",
          "reason": "Why (for the team)", "comment": "Comment for the proposer", "editors": "Who edits directly",
          "anchor": "About", "base": "Revision"}
MARKDOWN_HINT = "Markdown: # headings, **bold**, *italic*, [links](https://example.org), lists, `code`."


def _long_text(form: forms.FormData, name: str, limit: int = MAX_DOC_BODY) -> str:
    value = form.get(name)
    return value[: limit + 1] if isinstance(value, str) else ""


def _number(raw: str | None, name: str) -> int:
    if raw is None or not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 10**9:
        raise InvalidInput(f"{name} must be a positive whole number")
    return int(raw)


def _optional_number(raw: str, name: str) -> int | None:
    return _number(raw, name) if raw else None


def _doc_id(request: web.Request) -> int:
    return int(request.match_info["doc"])


async def _context(request: web.Request) -> tuple[Any, Any, pages.Access, group_pages.GroupAbout]:
    """The group, the viewer's access (NotFound when they may not read), the about box."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        place = await pages.access(session, ctx.urls, group, viewer_uri(request))
        if not place.read:
            raise NotFound("no such group here (or it is private and you are not a member)")
        about = await group_pages.about(session, ctx.urls, group)
    return ctx, group, place, about


async def _done(request: web.Request, done: service.Done) -> web.Response:
    if done.message:
        await sessions.notify(request, done.message)
    raise web.HTTPSeeOther(done.path)


# --------------------------------------------------------------------------------------------------
# The list, settings, new


async def doc_list(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    tag = request.query.get("tag", "").strip().lower()[:40] or None
    async with ctx.sessions() as session:
        listed = await pages.listing(session, group.id, tag)
        entries = views.tree(listed, group.username) if tag is None else [
            views.TreeEntry(d.id, d.title, pages.doc_path(group.username, d.id), 0, list(d.tags or []),
                            views.when(d.updated_at)) for d in listed]
        waiting = await proposals.open_count(session, [d.id for d in await pages.listing(session, group.id)])
    return html_page(request, "docs_list.html", group=about, access=place, entries=entries, tag=tag, waiting=waiting,
                     editor_options=pages.EDITORS, editor_labels=pages.EDITOR_LABELS)


async def doc_settings(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    return await _done(request, await service.set_editors(get_context(request).fed, user.username,
                                                           request.match_info["name"], forms.text(form, "editors")))


def _doc_form(request: web.Request, about: group_pages.GroupAbout, values: dict[str, Any], errors: dict[str, str],
              *, parents: list[views.TreeEntry], action: str, heading: str, status: int = 200,
              **extra: Any) -> web.Response:
    return html_page(request, "docs_edit.html", status=status, group=about, values=values, errors=errors,
                     labels=LABELS, parents=parents, action=action, heading=heading, hint=MARKDOWN_HINT,
                     max_title=MAX_DOC_TITLE, max_summary=MAX_SUMMARY, **extra)


async def _parents(request: web.Request, group: Any, exclude: int | None = None) -> list[views.TreeEntry]:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        return [entry for entry in views.tree(await pages.listing(session, group.id), group.username)
                if entry.id != exclude]


async def new_doc_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    _, group, place, about = await _context(request)
    pages.require(place.edit, "you may not write docs in this group")
    values = {"parent": request.query.get("parent", "")}
    return _doc_form(request, about, values, {}, parents=await _parents(request, group),
                     action=f"{about.path}/docs/new", heading="New doc")


async def new_doc_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    _, group, place, about = await _context(request)
    form = await forms.read(request)
    values = {"title": forms.text(form, "title"), "body": _long_text(form, "body"),
              "summary": forms.text(form, "summary"), "tags": forms.text(form, "tags"),
              "parent": forms.text(form, "parent")}
    try:
        done = await service.create_doc(get_context(request).fed, user.username, group.username,
                                        title=values["title"], body=values["body"], summary=values["summary"],
                                        tags=values["tags"], parent_id=_optional_number(values["parent"], "parent"))
    except InvalidFields as exc:
        errors = exc.errors
    except InvalidInput as exc:
        errors = {"parent": exc.message}
    else:
        return await _done(request, done)
    return _doc_form(request, about, values, errors, parents=await _parents(request, group),
                     action=f"{about.path}/docs/new", heading="New doc", status=400)


# --------------------------------------------------------------------------------------------------
# A doc


async def doc_page(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        page = await views.doc_page(session, ctx.urls, group, doc)
    return html_page(request, "docs_page.html", group=about, access=place, doc=page, values={}, errors={},
                     labels=LABELS)


async def export(request: web.Request) -> web.Response:
    ctx, group, _, _ = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        current = await pages.head(session, doc)
    text = f"# {current.title}\n\n{current.body}\n"
    filename = pages.slug_filename(current.title)
    return web.Response(text=text, content_type="text/markdown", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.md"'})


async def edit_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    ctx, group, place, about = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        pages.require(place.edit, "you may not edit this doc directly: propose your edit instead")
        current = await pages.head(session, doc)
    values = {"title": current.title, "body": current.body, "base": str(doc.head), "tags": " ".join(doc.tags or []),
              "parent": str(doc.parent_id or "")}
    return _doc_form(request, about, values, {}, parents=await _parents(request, group, doc.id),
                     action=f"{about.path}/docs/{doc.id}/edit", heading=f"Edit {current.title}", doc_id=doc.id)


async def edit_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx, group, place, about = await _context(request)
    doc_id = _doc_id(request)
    form = await forms.read(request)
    values = {"title": forms.text(form, "title"), "body": _long_text(form, "body"),
              "summary": forms.text(form, "summary"), "base": forms.text(form, "base"),
              "tags": forms.text(form, "tags"), "parent": forms.text(form, "parent")}
    action = f"{about.path}/docs/{doc_id}/edit"
    heading = f"Edit {values['title'] or 'the doc'}"
    parents = await _parents(request, group, doc_id)
    try:
        base = _number(values["base"], "the revision you started from")
        done = await service.save_doc(ctx.fed, user.username, group.username, doc_id, base=base,
                                      title=values["title"], body=values["body"], summary=values["summary"],
                                      tags=values["tags"], parent_id=_optional_number(values["parent"], "parent"))
    except pages.StaleSave as stale:
        async with ctx.sessions() as session:
            doc = await pages.find(session, group, doc_id)
            base_revision = await pages.revision(session, doc, stale.base)
            head = await pages.revision(session, doc, stale.head)
            theirs = views.compare(base_revision, head)
            line = (await views.revision_lines(session, ctx.urls, [head]))[0]
        merged = {**values, "title": stale.title, "body": stale.merged, "base": str(stale.head)}
        return _doc_form(request, about, merged, {}, parents=parents, action=action, heading=heading, status=409,
                         doc_id=doc_id, stale=stale, theirs=theirs, head_line=line, mine=values["body"])
    except InvalidFields as exc:
        return _doc_form(request, about, values, exc.errors, parents=parents, action=action, heading=heading,
                         status=400, doc_id=doc_id)
    except InvalidInput as exc:
        field = "parent" if "parent" in exc.message or "sit under" in exc.message else \
            "tags" if "tag" in exc.message else "body"
        return _doc_form(request, about, values, {field: exc.message}, parents=parents, action=action,
                         heading=heading, status=400, doc_id=doc_id)
    return await _done(request, done)


async def delete(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    return await _done(request, await service.delete_doc(get_context(request).fed, user.username,
                                                         request.match_info["name"], _doc_id(request)))


# --------------------------------------------------------------------------------------------------
# History, revisions, diffs, restore


async def history(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    before = _optional_number(request.query.get("before", ""), "before")
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        rows = await pages.history(session, doc, before=before)
        lines = await views.revision_lines(session, ctx.urls, rows)
    older = rows[-1].number if len(rows) == pages.HISTORY_PAGE and rows[-1].number > 1 else None
    return html_page(request, "docs_history.html", group=about, access=place, doc=doc,
                     doc_path=pages.doc_path(group.username, doc.id), lines=lines, older=older)


async def revision(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        found = await pages.revision(session, doc, int(request.match_info["number"]))
        line = (await views.revision_lines(session, ctx.urls, [found]))[0]
    return html_page(request, "docs_revision.html", group=about, access=place, doc=doc, line=line,
                     doc_path=pages.doc_path(group.username, doc.id), html=render(found.body),
                     current=found.number == doc.head)


async def compare(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    view = request.query.get("view", "inline")
    if view not in ("inline", "side"):
        raise InvalidInput("view: inline or side")
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        new = _number(request.query.get("to") or str(doc.head), "to")
        old = _number(request.query.get("from") or str(max(new - 1, 1)), "from")
        compared = views.compare(await pages.revision(session, doc, old), await pages.revision(session, doc, new))
    return html_page(request, "docs_diff.html", group=about, access=place, doc=doc, compared=compared, view=view,
                     doc_path=pages.doc_path(group.username, doc.id))


async def restore(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    number = _number(forms.text(form, "number"), "revision")
    return await _done(request, await service.restore(get_context(request).fed, user.username,
                                                      request.match_info["name"], _doc_id(request), number))


# --------------------------------------------------------------------------------------------------
# Proposed edits


def _propose_page(request: web.Request, about: group_pages.GroupAbout, doc_id: int, values: dict[str, str],
                  errors: dict[str, str], status: int = 200, *, action: str | None = None) -> web.Response:
    return html_page(request, "docs_propose.html", status=status, group=about, values=values, errors=errors,
                     labels=LABELS, hint=MARKDOWN_HINT, max_title=MAX_DOC_TITLE,
                     action=action or f"{about.path}/docs/{doc_id}/propose",
                     back=f"{about.path}/docs/{doc_id}")


async def propose_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    ctx, group, place, about = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        pages.require(place.propose, "you may not propose edits in this group")
        current = await pages.head(session, doc)
    return _propose_page(request, about, doc.id, {"title": current.title, "body": current.body, "base": str(doc.head)}, {})


async def propose_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx, group, _, about = await _context(request)
    doc_id = _doc_id(request)
    form = await forms.read(request)
    values = {"title": forms.text(form, "title"), "body": _long_text(form, "body"), "reason": forms.text(form, "reason"),
              "base": forms.text(form, "base")}
    try:
        base = _number(values["base"], "the revision you started from")
        done = await service.propose(ctx.fed, user.username, group.username, doc_id, base=base, title=values["title"],
                                     body=values["body"], reason=values["reason"])
    except InvalidFields as exc:
        return _propose_page(request, about, doc_id, values, exc.errors, status=400)
    except NotFound as exc:  # the doc was deleted meanwhile: the text stays on the page
        return _propose_page(request, about, doc_id, values, {"body": exc.message}, status=404)
    except InvalidInput as exc:
        return _propose_page(request, about, doc_id, values, {"base": exc.message}, status=400)
    return await _done(request, done)


async def proposal_queue(request: web.Request) -> web.Response:
    ctx, group, place, about = await _context(request)
    pages.require(place.team, "only the group's team reviews proposed edits")
    async with ctx.sessions() as session:
        listed = await views.queue(session, ctx.urls, group)
    return html_page(request, "docs_queue.html", group=about, access=place, proposals=listed)


async def _proposal_page(request: web.Request, status: int = 200, errors: dict[str, str] | None = None,
                         values: dict[str, str] | None = None) -> web.Response:
    ctx, group, place, about = await _context(request)
    async with ctx.sessions() as session:
        doc = await pages.find(session, group, _doc_id(request))
        proposal = await proposals.find(session, doc, int(request.match_info["proposal"]))
        if not (place.team or proposal.proposer_uri == place.viewer):
            raise NotFound("no such proposed edit of this doc")
        shown = await views.proposal_view(session, ctx.urls, group, doc, proposal)
    revise_values = {"title": proposal.title, "body": proposal.body, "reason": proposal.reason, **(values or {})}
    return html_page(request, "docs_proposal.html", status=status, group=about, access=place, proposal=shown,
                     doc_path=pages.doc_path(group.username, doc.id), errors=errors or {}, values=revise_values,
                     labels=LABELS, hint=MARKDOWN_HINT, max_title=MAX_DOC_TITLE,
                     mine=proposal.proposer_uri == place.viewer,
                     view="side" if request.query.get("view") == "side" else "inline")


async def proposal_page(request: web.Request) -> web.Response:
    return await _proposal_page(request)


async def decide(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    values = {"comment": forms.text(form, "comment")}
    try:
        done = await service.decide(get_context(request).fed, user.username, request.match_info["name"],
                                    _doc_id(request), int(request.match_info["proposal"]),
                                    forms.text(form, "decision"), values["comment"])
    except InvalidFields as exc:
        return await _proposal_page(request, 400, exc.errors, values)
    return await _done(request, done)


async def revise(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    values = {"title": forms.text(form, "title"), "body": _long_text(form, "body"), "reason": forms.text(form, "reason")}
    try:
        done = await service.revise(get_context(request).fed, user.username, request.match_info["name"],
                                    _doc_id(request), int(request.match_info["proposal"]), title=values["title"],
                                    body=values["body"], reason=values["reason"])
    except InvalidFields as exc:
        return await _proposal_page(request, 400, exc.errors, values)
    return await _done(request, done)


# --------------------------------------------------------------------------------------------------
# Comments


async def comment(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    form = await forms.read(request)
    reply_to = _optional_number(forms.text(form, "reply_to"), "reply_to")
    key = f"comment-{reply_to}" if reply_to else "comment"
    body, anchor = forms.text(form, key), forms.text(form, "anchor") or None
    try:
        done = await service.comment(ctx.fed, user.username, request.match_info["name"], _doc_id(request), body,
                                     anchor=anchor, reply_to=reply_to)
    except (InvalidFields, InvalidInput) as exc:
        _, group, place, about = await _context(request)
        async with ctx.sessions() as session:
            doc = await pages.find(session, group, _doc_id(request))
            page = await views.doc_page(session, ctx.urls, group, doc)
        errors = exc.errors if isinstance(exc, InvalidFields) else {"body": exc.message}
        return html_page(request, "docs_page.html", status=400, group=about, access=place, doc=page,
                         values={key: body, "anchor": anchor or ""}, errors={key: next(iter(errors.values()))},
                         labels=LABELS)
    return await _done(request, done)


async def resolve(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    return await _done(request, await service.resolve(get_context(request).fed, user.username,
                                                      request.match_info["name"], _doc_id(request),
                                                      int(request.match_info["comment"]),
                                                      forms.text(form, "resolved") != "no"))


# --------------------------------------------------------------------------------------------------
# A doc of another server's group (another Made Open node): propose an edit, sent as an Offer


async def _remote_doc(request: web.Request) -> service.RemoteDoc:
    ctx = get_context(request)
    async with ctx.sessions() as session:
        await threads.visible_post(session, ctx.urls, int(request.match_info["id"]), viewer_uri(request))
        return await service.remote_doc(session, int(request.match_info["id"]))


def _remote_propose_page(request: web.Request, found: service.RemoteDoc, values: dict[str, str],
                         errors: dict[str, str], status: int = 200) -> web.Response:
    shown = {"path": f"/posts/{found.post_id}", "title": found.group.display_name or found.group.username}
    return html_page(request, "docs_propose.html", status=status, group=shown, values=values, errors=errors,
                     labels=LABELS, hint=MARKDOWN_HINT, max_title=MAX_DOC_TITLE,
                     action=f"/posts/{found.post_id}/propose-edit", back=f"/posts/{found.post_id}",
                     remote_server=found.group.domain)


async def remote_propose_form(request: web.Request) -> web.Response:
    sessions.require_user(request)
    found = await _remote_doc(request)
    return _remote_propose_page(request, found, {"title": found.title, "body": found.source,
                                                 "base": str(found.revision)}, {})


async def remote_propose_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    found = await _remote_doc(request)
    form = await forms.read(request)
    values = {"title": forms.text(form, "title"), "body": _long_text(form, "body"), "reason": forms.text(form, "reason"),
              "base": str(found.revision)}
    try:
        done = await service.propose_remote(get_context(request).fed, user.username, found.post_id,
                                            title=values["title"], body=values["body"], reason=values["reason"])
    except InvalidFields as exc:
        return _remote_propose_page(request, found, values, exc.errors, status=400)
    return await _done(request, done)
