"""Thread pages: a new thread in a group, a thread (the HTML of ``/objects/<uuid>``, rendered for
web.routes.objects, and ``/posts/<row id>`` for posts of other servers), and the forms on it: reply,
like/dislike, edit, delete, and the moderators' pin, lock and remove.

Handlers are thin: the services (inbox_outbox.services.threads) check who may see and do what. A reply
with a problem re-renders the thread with the message next to that reply form and the text kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from markupsafe import Markup

from actors import group_pages, person_blocks
from actors.errors import Forbidden, InvalidInput
from actors.node_settings import InvalidFields
from content import boosts, project_views, reading, thread_board, thread_tree, thread_views
from content.docs import comments
from content.docs.text import Section
from content.recognition import views as recognition_views
from content.kinds import DISCUSSION, THREAD_KINDS
from content.rules import MAX_BODY, MAX_TITLE
from content.store import thread_root
from federation.markdown import Rendered
from inbox_outbox.services import threads, watching
from inbox_outbox.services.common import load_group
from storage.models import Object
from web import composer, forms, sessions, thread_cache
from web.context import get_context
from web.responses import html_page, page_values, template_module
from web.routes.groups import remote_group_path, viewer_uri
from web.routes.people import post_helpers

_ID = r"{id:[0-9]{1,9}}"  # row ids; 9 digits stay inside PostgreSQL integer
THREAD_LABELS = {"title": "Title", "body": "Text", "kind": "Kind of thread", "image": "Image",
                 "image_alt": "Description of the image"}
STATUS_LABELS = {"status": "Status", "response": "Official response", "duplicate_of": "Duplicate of"}


def _long_text(form: forms.FormData, name: str, limit: int = MAX_BODY) -> str:
    """A post body: longer than forms.text's cut, and cut one past the limit so "too long" can be told."""
    value = form.get(name)
    return value[: limit + 1] if isinstance(value, str) else ""


def _post_id(request: web.Request) -> int:
    return int(request.match_info["id"])


# --------------------------------------------------------------------------------------------------
# A new thread


async def _group_for_posting(request: web.Request) -> tuple[group_pages.GroupAbout, group_pages.Standing]:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await load_group(session, request.match_info["name"])
        about = await group_pages.about(session, ctx.urls, group)
        place = await group_pages.standing(session, ctx.urls, group, user.profile_url)
    if not place.can_post:
        if place.private and not place.is_member:
            raise Forbidden(f"{about.title} is private: only its members can start threads. Ask to join first.")
        raise Forbidden(f"You may not start threads in {about.title}.")
    return about, place


def _new_thread_page(request: web.Request, group: group_pages.GroupAbout, values: dict[str, str],
                     errors: dict[str, str], status: int = 200, preview: Rendered | None = None) -> web.Response:
    values.setdefault("kind", group.default_kind)
    return html_page(request, "thread_new.html", status=status, group=group, values=values, errors=errors,
                     labels=THREAD_LABELS, max_title=MAX_TITLE, kinds=THREAD_KINDS, kind_labels=KIND_HINTS,
                     preview=preview, upload_hint=composer.upload_hint(request))


async def new_thread_form(request: web.Request) -> web.Response:
    group, _ = await _group_for_posting(request)
    return _new_thread_page(request, group, {}, {})


async def new_thread_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    group, _ = await _group_for_posting(request)
    form = await forms.read(request)
    title, body, kind = forms.text(form, "title"), _long_text(form, "body"), forms.text(form, "kind")
    image = composer.read_image(request, form, posting=not composer.wants_preview(form))
    values = {"title": title, "body": body, "kind": kind, **image.values}
    if composer.wants_preview(form):
        return _new_thread_page(request, group, values, image.errors, preview=composer.preview(request, body))
    try:
        if image.errors:
            raise InvalidFields(image.errors)
        posted = await threads.start_thread(get_context(request).fed, user.username, group.name, title, body,
                                            kind or group.default_kind, image.attachments())
    except InvalidFields as exc:
        return _new_thread_page(request, group, values, {**exc.errors, **image.errors}, status=400)
    except InvalidInput as exc:
        return _new_thread_page(request, group, values, {"kind": exc.message}, status=400)
    await sessions.notify(request, "Your thread is posted.")
    await composer.tell_dropped(request, body)
    raise web.HTTPSeeOther(posted.path)


# --------------------------------------------------------------------------------------------------
# A new thread in a group of another server (issue #10 item 9): the same composer, sent to the group.


async def _remote_group_for_posting(request: web.Request, uri: str) -> group_pages.RemoteGroup:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        group = await group_pages.remote_group(session, uri, user.profile_url)
    if group.state != "accepted":
        raise Forbidden(f"Join {group.name} first: its members start threads there.")
    return group


def _new_remote_thread_page(request: web.Request, group: group_pages.RemoteGroup, values: dict[str, str],
                            errors: dict[str, str], status: int = 200,
                            preview: Rendered | None = None) -> web.Response:
    shown = {"title": group.name, "path": remote_group_path(group.uri), "private": group.private,
             "server": group.server}
    values.setdefault("kind", DISCUSSION)
    return html_page(request, "thread_new.html", status=status, group=shown, remote_uri=group.uri, values=values,
                     errors=errors, labels=THREAD_LABELS, max_title=MAX_TITLE, kinds=THREAD_KINDS,
                     kind_labels=KIND_HINTS, preview=preview, upload_hint=composer.upload_hint(request))


async def new_remote_thread_form(request: web.Request) -> web.Response:
    group = await _remote_group_for_posting(request, request.query.get("id", ""))
    return _new_remote_thread_page(request, group, {}, {})


async def new_remote_thread_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    group = await _remote_group_for_posting(request, forms.text(form, "id"))
    title, body, kind = forms.text(form, "title"), _long_text(form, "body"), forms.text(form, "kind")
    image = composer.read_image(request, form, posting=not composer.wants_preview(form))
    values = {"title": title, "body": body, "kind": kind, **image.values}
    if composer.wants_preview(form):
        return _new_remote_thread_page(request, group, values, image.errors, preview=composer.preview(request, body))
    try:
        if image.errors:
            raise InvalidFields(image.errors)
        posted = await threads.start_remote_thread(get_context(request).fed, user.username, group.uri, title, body,
                                                   kind or DISCUSSION, image.attachments())
    except InvalidFields as exc:
        return _new_remote_thread_page(request, group, values, {**exc.errors, **image.errors}, status=400)
    except InvalidInput as exc:
        return _new_remote_thread_page(request, group, values, {"kind": exc.message}, status=400)
    await sessions.notify(request, f"Your thread is sent to {group.name}. It shows there once the group accepts it.")
    await composer.tell_dropped(request, body)
    raise web.HTTPSeeOther(posted.path)


# --------------------------------------------------------------------------------------------------
# A thread


KIND_HINTS = {
    "discussion": "Discussion: talk something over",
    "idea": "Idea: suggest something; the team answers with a status",
    "concern": "Concern: raise a problem; the team answers with a status",
    "question": "Question: ask; the best reply is marked as the answer",
}


@dataclass(frozen=True)
class _Read:
    """What a thread page reads from the database for one viewer (kept by web.thread_cache)."""

    view: thread_tree.ThreadPage
    replies: list[thread_tree.Placed]
    root_id: int
    root_uri: str
    on_board: Any
    project: Any
    boosted: set[str]
    thanks: recognition_views.ThreadKudos
    helpers: Any
    remote_doc: bool
    doc_sections: tuple[Section, ...]  # a remote doc's headings, for the comment form atop its page
    watch: str | None
    blocked: set[str]  # the authors here whom the viewer blocks: their replies are folded away


async def _read(request: web.Request, obj: Object) -> _Read:
    ctx = get_context(request)
    viewer = viewer_uri(request)
    async with ctx.sessions() as session:
        view = await thread_tree.thread_page(session, ctx.urls, obj, viewer)
        root = await thread_root(session, obj)
        section_links = await comments.local_section_links(session, root)  # a remote doc's page: our comments'
        on_board = await thread_board.thread_board(session, ctx.urls, root, viewer)
        project = await project_views.thread_project(session, ctx.urls, root.uri)  # issue #14: its project, if any
        boosted = await boosts.boosted(session, viewer, _uris(view.focus)) if viewer else set()
        # kudos buttons, byline badges (issue #17): in the same session (one checkout fewer per page, issue #13)
        thanks = await recognition_views.thread_kudos(session, ctx.urls, view, root)
        user = sessions.current_user(request)
        blocked = await person_blocks.blocked_among(session, user.id, _authors(view.focus)) if user else set()
    helpers = await post_helpers(request, obj)
    # A doc of another Made Open node's group (an Article with its revision): edits can be proposed, and a
    # comment on the doc itself may be about one of its sections.
    remote_doc = comments.is_remote_doc(root)
    doc_sections = tuple(comments.remote_sections(root)) if remote_doc and obj.id == root.id else ()
    if section_links:
        _link_sections(view.focus, section_links)
    watch = None if root.deleted else await watching.thread_watch_state(ctx.fed, viewer, root.id)
    return _Read(view=view, replies=thread_tree.in_order(view.focus), root_id=root.id, root_uri=root.uri,
                 on_board=on_board, project=project, boosted=boosted, thanks=thanks, helpers=helpers,
                 remote_doc=remote_doc, doc_sections=doc_sections, watch=watch, blocked=blocked)


async def thread_page(request: web.Request, obj: Object, *, status: int = 200,
                      reply_form: dict[str, Any] | None = None, status_form: dict[str, Any] | None = None,
                      ) -> web.Response:
    """The page of ``obj`` (the caller checked the viewer may see it). Its values and its posts' articles
    are kept between changes for a logged-in viewer (web.thread_cache), unless a failed form is shown in it."""
    ctx = get_context(request)
    user = sessions.current_user(request)
    kept = None
    if user is None or reply_form or status_form:  # an anonymous page is kept whole (web.page_cache)
        read = await _read(request, obj)
    else:
        kept = await thread_cache.values(request.app, (obj.uri, viewer_uri(request)), lambda: _read(request, obj))
        read = kept.value
    # The "unread" markers of the thread lists (content.reading): written once per kept values, that is
    # again after any change to the page or within TTL_SECONDS, not on every view (a write per GET).
    if user is not None and not (kept is not None and kept.read_marked):
        async with ctx.sessions.begin() as session:
            await reading.mark_read(session, user.id, read.root_id)
        if kept is not None:
            kept.read_marked = True
    page: dict[str, Any] = dict(
        thread=read.view, focus=read.view.focus, replies=read.replies, thanks=read.thanks, boosted=read.boosted,
        upload_hint=composer.upload_hint(request), reply_form=reply_form or {}, helpers=read.helpers, uri=obj.uri,
        board=read.on_board, root_id=read.root_id, status_form=status_form or {}, status_labels=STATUS_LABELS,
        remote_doc=read.remote_doc, doc_sections=read.doc_sections, watch=read.watch, project=read.project,
        root_uri=read.root_uri, blocked=read.blocked,
    )
    if kept is not None:
        page.update(_kept_parts(request, kept.counter, page_values(request, **page)))
    return html_page(request, "thread.html", status=status, **page)


def _kept_parts(request: web.Request, counter: thread_cache.Counter, values: dict[str, Any]) -> dict[str, Any]:
    """thread.html's ``article(post, top)`` and ``top_reply_form(post)``: kept (web.thread_cache), else
    rendered by ``_thread_post.html``'s macros with the CSRF field's stand-in and kept, by what of the viewer
    they show."""
    user: sessions.CurrentUser | None = values.get("current_user")
    thanks: recognition_views.ThreadKudos = values["thanks"]
    boosted: set[str] = values["boosted"]
    may_accept = values["board"].may_accept if values["board"] else None
    fragments = thread_cache.Fragments(request.app, counter, values["csrf_field"])
    module: Any = None
    blank: Any = None

    def macros(field: Markup) -> Any:
        nonlocal module, blank
        if module is None:
            module = template_module("_thread_post.html", {**values, "csrf_field": lambda: field})
            blank = module.blank_reply_form() if user is not None else None
        return module

    def article(post: thread_tree.PostNode, top: bool) -> Markup:
        # Everything post_article shows that is not the post's own (the same for every viewer until a
        # change): what this viewer may do with it and has done to it.
        key = (post.id, top, post.answers, post.my_vote, post.may_vote, post.may_reply, post.may_edit,
               post.may_delete, post.may_moderate, post.may_ban_author, user is not None,
               user is not None and user.profile_url == post.author.uri, thanks.may_give, post.id in thanks.given,
               post.uri in boosted, may_accept)
        return fragments.kept(key, lambda field: str(macros(field).post_article(post, field, blank, top=top)))

    def top_reply_form(post: thread_tree.PostNode) -> Markup:
        sections = values["doc_sections"]
        return fragments.kept(("reply form", post.id, sections),
                              lambda field: str(macros(field).reply_form_for(post, "Your reply", True, sections)))

    return {"article": article, "top_reply_form": top_reply_form}


def _link_sections(post: thread_tree.PostNode, links: dict[int, thread_tree.SectionLink]) -> None:
    post.section = links.get(post.id)
    for child in post.children:
        _link_sections(child, links)


def _uris(post: thread_tree.PostNode) -> list[str]:
    return [post.uri, *(uri for child in post.children for uri in _uris(child))]


def _authors(post: thread_tree.PostNode) -> set[str]:
    return {post.author.uri, *(uri for child in post.children for uri in _authors(child))}


async def boost(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    on = forms.text(form, "boost") != "off"
    posted = await threads.boost(get_context(request).fed, user.username, _post_id(request), on)
    await sessions.notify(request, "Boosted: your followers see it." if on else "Your boost is taken back.")
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


async def post_page(request: web.Request) -> web.Response:
    """A post of another server that we have (in one of our groups, or one our people follow)."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        obj = await threads.visible_post(session, ctx.urls, _post_id(request), viewer_uri(request))
    if obj.local:
        raise web.HTTPSeeOther(thread_views.post_path(ctx.urls, obj))
    return await thread_page(request, obj, status=410 if obj.deleted else 200)


async def reply(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    body = _long_text(form, "body")
    section = forms.text(form, "section") or None  # a remote doc's heading (the form atop its page)
    image = composer.read_image(request, form, posting=not composer.wants_preview(form))
    kept = {"body": body, "section": section, "image": image.values, "image_errors": image.errors}
    if composer.wants_preview(form):
        return await _reply_again(request, user, {**kept, "preview": composer.preview(request, body)})
    try:
        if image.errors:
            raise InvalidFields(image.errors)
        posted = await threads.reply_to(get_context(request).fed, user.username, _post_id(request), body,
                                        image.attachments(), section=section)
    except InvalidFields as exc:
        error = exc.errors.get("body") or exc.errors.get("section")
        return await _reply_again(request, user, {**kept, "error": error}, status=400)
    await sessions.notify(request, "Your reply is sent to the group. It counts once the group accepts it."
                          if posted.pending else "Your reply is posted.")
    await composer.tell_dropped(request, body)
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


async def _reply_again(request: web.Request, user: sessions.CurrentUser, reply_form: dict[str, Any],
                       status: int = 200) -> web.Response:
    """The thread again with the reply form of the post replied to holding the text (and a preview or
    the error)."""
    ctx = get_context(request)
    async with ctx.sessions() as session:
        parent = await threads.visible_post(session, ctx.urls, _post_id(request), user.profile_url)
        root = await thread_root(session, parent)
    return await thread_page(request, root, status=status, reply_form={**reply_form, "id": parent.id})


async def vote(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    posted = await threads.vote(get_context(request).fed, user.username, _post_id(request), forms.text(form, "vote"))
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


# --------------------------------------------------------------------------------------------------
# Editing and deleting


async def edit_form(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        obj, values = await threads.editable(session, ctx.urls, user.username, _post_id(request))
    return _edit_page(request, obj, values, {})


def _edit_page(request: web.Request, obj: Object, values: dict[str, str], errors: dict[str, str],
               status: int = 200, preview: Rendered | None = None) -> web.Response:
    ctx = get_context(request)
    starts_thread = obj.type == "Page" and obj.in_reply_to_uri is None
    return html_page(request, "thread_edit.html", status=status, values=values, errors=errors, labels=THREAD_LABELS,
                     starts_thread=starts_thread, post_path=thread_views.post_path(ctx.urls, obj), post_id=obj.id,
                     max_title=MAX_TITLE, preview=preview)


async def edit_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    title, body = forms.text(form, "title"), _long_text(form, "body")
    if composer.wants_preview(form):
        ctx = get_context(request)
        async with ctx.sessions() as session:
            obj, _ = await threads.editable(session, ctx.urls, user.username, _post_id(request))
        return _edit_page(request, obj, {"title": title, "body": body}, {}, preview=composer.preview(request, body))
    try:
        posted = await threads.edit_post(get_context(request).fed, user.username, _post_id(request), title, body)
    except InvalidFields as exc:
        ctx = get_context(request)
        async with ctx.sessions() as session:
            obj, _ = await threads.editable(session, ctx.urls, user.username, _post_id(request))
        return _edit_page(request, obj, {"title": title, "body": body}, exc.errors, status=400)
    await sessions.notify(request, "Your changes are saved.")
    await composer.tell_dropped(request, body)
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


async def delete_form(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    ctx = get_context(request)
    async with ctx.sessions() as session:
        found = await threads.target(session, ctx.urls, user.username, _post_id(request))
        obj = await threads.visible_post(session, ctx.urls, _post_id(request), user.profile_url)
        view = await thread_tree.thread_page(session, ctx.urls, obj, user.profile_url)
    if not view.focus.may_delete:
        raise Forbidden("Only the author or a moderator of the group may delete this post.")
    own = found.author == user.profile_url
    return html_page(request, "thread_delete.html", post=view.focus, own=own,
                     post_path=thread_views.post_path(ctx.urls, obj))


async def delete_submit(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    back = await threads.delete_post(get_context(request).fed, user.username, _post_id(request),
                                     forms.text(form, "reason")[:500])
    await sessions.notify(request, "The post is deleted.")
    raise web.HTTPSeeOther(back)


# --------------------------------------------------------------------------------------------------
# Moderators: pin and lock


async def moderate(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    action = forms.text(form, "action")
    posted = await threads.moderate(get_context(request).fed, user.username, _post_id(request), action)
    notices = {"pin": "The thread is pinned to the top of the group.", "unpin": "The thread is no longer pinned.",
               "lock": "The thread is locked: no new replies.", "unlock": "The thread is open for replies again."}
    await sessions.notify(request, notices[action])
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


# --------------------------------------------------------------------------------------------------
# The board: the team's status and official response, accepted answers, following a thread


async def set_status(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    values = {"status": forms.text(form, "status"), "response": _long_text(form, "response"),
              "duplicate_of": forms.text(form, "duplicate_of")}
    if composer.wants_preview(form):
        ctx = get_context(request)
        async with ctx.sessions() as session:
            obj = await threads.visible_post(session, ctx.urls, _post_id(request), user.profile_url)
        return await thread_page(request, obj, status_form={**values, "preview": composer.preview(request,
                                                                                              values["response"])})
    try:
        posted = await threads.set_status(get_context(request).fed, user.username, _post_id(request),
                                          values["status"], values["response"], values["duplicate_of"])
    except (InvalidFields, InvalidInput) as exc:
        field = "response" if isinstance(exc, InvalidFields) else (
            "duplicate_of" if "duplicate" in exc.message else "status")
        message = (exc.errors.get("body") or exc.message) if isinstance(exc, InvalidFields) else exc.message
        ctx = get_context(request)
        async with ctx.sessions() as session:
            obj = await threads.visible_post(session, ctx.urls, _post_id(request), user.profile_url)
        return await thread_page(request, obj, status=400, status_form={**values, "errors": {field: message}})
    await sessions.notify(request, "The status is set and your response is posted.")
    raise web.HTTPSeeOther(f"{posted.thread_path}#official-response")


async def accept_answer(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    raw = forms.text(form, "answer")
    if raw != "none" and not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise InvalidInput("answer must be the id of a reply in this thread, or none")
    answer = None if raw == "none" else int(raw)
    posted = await threads.accept_answer(get_context(request).fed, user.username, _post_id(request), answer)
    await sessions.notify(request, "The answer is marked as accepted." if answer else "No answer is accepted now.")
    raise web.HTTPSeeOther(f"{posted.thread_path}#post-{posted.id}")


async def follow_thread(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    on = forms.text(form, "follow") != "off"
    posted = await threads.follow_thread(get_context(request).fed, user.username, _post_id(request), on)
    await sessions.notify(request, "You follow this thread: you will hear of its status changes." if on
                          else "You no longer follow this thread.")
    raise web.HTTPSeeOther(posted.thread_path)
