"""Microblogging (issue #16): a member posts a short update from Home to their followers, as on
Mastodon: public, followers-only, or only the people mentioned. It is a ``Note`` on their profile,
federated to their followers' servers (inbox_outbox.services.posts); replies and likes are the thread
page's. ``POST /home`` with the Preview button shows Home again with the preview and the text kept."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from actors import local as local_actors
from actors.node_settings import InvalidFields
from actors.errors import InvalidInput
from content import paging, timelines
from federation.markdown import Rendered
from inbox_outbox.services import threads
from inbox_outbox.services.post_delivery import VISIBILITIES
from web import composer, forms, sessions
from web.context import get_context
from web.responses import html_page

VISIBILITY_LABELS = {
    "public": "Everyone (public)",
    "followers": "My followers only",
    "mentioned": "Only the people I mention",
}
LABELS = {"body": "Your update", "visibility": "Who sees it", "image": "Image", "image_alt": "Image description"}


async def home_page(request: web.Request, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                    preview: Rendered | None = None, status: int = 200) -> web.Response:
    """Home: the composer, then the timeline (content.timelines.home)."""
    user = sessions.require_user(request)
    ctx = get_context(request)
    before = paging.parse_cursor(request.query.get("before"))
    async with ctx.sessions() as session:
        person = await local_actors.find_person(session, user.username)
        timeline = await timelines.home(session, ctx.urls, person, before)
    return html_page(request, "timeline.html", status=status, timeline=timeline, which="home", before=before,
                     status_form=values or {"visibility": "public"}, status_errors=errors or {},
                     status_preview=preview, visibilities=VISIBILITIES, visibility_labels=VISIBILITY_LABELS,
                     status_labels=LABELS, upload_hint=composer.upload_hint(request))


async def post_update(request: web.Request) -> web.Response:
    user = sessions.require_user(request)
    form = await forms.read(request)
    body = forms.text(form, "body")
    visibility = forms.text(form, "visibility") or "public"
    image = composer.read_image(request, form, posting=not composer.wants_preview(form))
    values = {"body": body, "visibility": visibility, **image.values}
    if composer.wants_preview(form):
        return await home_page(request, values, image.errors, preview=composer.preview(request, body))
    try:
        if image.errors:
            raise InvalidFields(image.errors)
        posted = await threads.post_status(get_context(request).fed, user.username, body, visibility,
                                           image.attachments())
    except InvalidFields as exc:
        return await home_page(request, values, {**exc.errors, **image.errors}, status=400)
    except InvalidInput as exc:
        return await home_page(request, values, {"visibility": exc.message}, status=400)
    await sessions.notify(request, "Your update is posted.")
    await composer.tell_dropped(request, body)
    raise web.HTTPSeeOther(posted.path)


async def profile_posts(request: web.Request, author_uri: str) -> dict[str, Any]:
    """The values of a person's profile page that list their posts (content.timelines.by_author)."""
    ctx = get_context(request)
    before = paging.parse_cursor(request.query.get("before"))
    user = sessions.current_user(request)
    async with ctx.sessions() as session:
        posts = await timelines.by_author(session, ctx.urls, author_uri, user.profile_url if user else None, before)
    return {"posts": posts, "before": before}
