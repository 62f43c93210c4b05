"""What every composer (new thread, reply, edit, microblog post) shares: the Preview button and its
rendering (issue #16 "Preview before posting").

Without JavaScript the form's second button, ``name="preview"``, sends the form; the handler renders the
page again with the text kept and the preview under it, and nothing is posted. With JavaScript
(``/static/composer.js``) the same preview follows the typing through ``POST /preview``
(web/routes/composer.py). Both render exactly what posting stores: federation.markdown with this node's
base URL, and both list what the sanitiser would remove, so nothing is lost silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from actors import media, post_files, post_images
from actors.errors import InvalidInput
from federation.markdown import Rendered, render
from federation.object_render import LocalAttachment
from web import forms, sessions
from web.context import get_context
from web.forms import FormData

PREVIEW_FIELD = "preview"


def wants_preview(form: FormData) -> bool:
    """The Preview button sent the form (not the Post button)."""
    return PREVIEW_FIELD in form


def preview(request: web.Request, body: str) -> Rendered:
    return render(body, get_context(request).urls.base)


# --------------------------------------------------------------------------------------------------
# An image attached to the post


IMAGE, ALT, PENDING, REMOVE = "image", "image_alt", "image_pending", "image_remove"
ALT_MISSING = "describe the image for people who cannot see it (its alt text)"
GONE = "the file chosen earlier is no longer kept (a form left open for a day): please choose it again"


@dataclass
class ImageChoice:
    """The image a composer form carries: a new upload (stored at once, cleaned of EXIF) or one kept from
    the previous round (``image_pending``: a preview or an error), so it is never chosen twice."""

    attachment: LocalAttachment | None = None
    values: dict[str, str] = field(default_factory=dict)  # image_pending, image_alt, image_url
    errors: dict[str, str] = field(default_factory=dict)

    file: LocalAttachment | None = None  # a PDF or text file (actors.post_files)

    def attachments(self) -> tuple[LocalAttachment, ...]:
        return tuple(a for a in (self.attachment, self.file) if a is not None)


def read_image(request: web.Request, form: FormData, *, posting: bool) -> ImageChoice:
    """The image of ``form``. ``posting``: the Post button, so a missing alt text is an error."""
    ctx = get_context(request)
    alt = forms.text(form, ALT).strip()[:post_images.MAX_ALT]
    choice = ImageChoice(values={ALT: alt})
    name = forms.text(form, PENDING)
    if not media.is_image_name(name) or forms.checkbox(form, REMOVE):
        name = ""
    upload = forms.upload(form, IMAGE, limit=ctx.upload_max_bytes)
    if upload is not None:
        try:
            name = post_images.store_post_image(ctx.media_dir, upload.data, ctx.upload_max_bytes)
        except InvalidInput as exc:
            choice.errors[IMAGE] = exc.message
    if name:
        choice.attachment = post_images.attachment(ctx.media_dir, ctx.urls, name, alt)
        if choice.attachment is None and IMAGE not in choice.errors:
            choice.errors[IMAGE] = GONE  # kept from an earlier round, then removed (actors.media_vacuum)
    if choice.attachment is not None:
        choice.values.update({PENDING: name, "image_url": f"/media/{name}"})
        if posting and not alt:
            choice.errors[ALT] = ALT_MISSING
    _read_file(request, form, choice, posting=posting)
    return choice


FILE, DESCRIPTION, FILE_PENDING, FILE_REMOVE = "file", "file_desc", "file_pending", "file_remove"
DESCRIPTION_MISSING = "describe the file: say what it is, for the people who will choose to open it"


def _read_file(request: web.Request, form: FormData, choice: ImageChoice, *, posting: bool) -> None:
    """The PDF or text file of ``form`` into ``choice``, the same way as the image: stored at once,
    kept across a preview or an error by its name (``file_pending``)."""
    ctx = get_context(request)
    description = forms.text(form, DESCRIPTION).strip()[:post_files.MAX_DESCRIPTION]
    choice.values[DESCRIPTION] = description
    name = forms.text(form, FILE_PENDING)
    if not media.valid_name(name) or media.is_image_name(name) or forms.checkbox(form, FILE_REMOVE):
        name = ""
    upload = forms.upload(form, FILE, limit=ctx.upload_max_bytes)
    if upload is not None:
        try:
            name = post_files.store_post_file(ctx.media_dir, upload.data, ctx.upload_max_bytes)
        except InvalidInput as exc:
            choice.errors[FILE] = exc.message
    if name:
        choice.file = post_files.attachment(ctx.media_dir, ctx.urls, name, description)
        if choice.file is None and FILE not in choice.errors:
            choice.errors[FILE] = GONE
    if choice.file is not None:
        label = post_files.LABELS[choice.file.media_type]
        choice.values.update({FILE_PENDING: name, "file_url": f"/media/{name}",
                              "file_label": f"{label}, {post_files.size_text(choice.file.size or 0)}"})
        if posting and not description:
            choice.errors[DESCRIPTION] = DESCRIPTION_MISSING


def upload_hint(request: web.Request) -> str:
    limit = get_context(request).upload_max_bytes
    size = f"{limit / (1024 * 1024):.0f} MiB" if limit >= 1024 * 1024 else f"{limit // 1024} KiB"
    return f"PNG, JPEG, GIF or WebP, up to {size}. Location and camera data (EXIF) are removed."



async def tell_dropped(request: web.Request, body: str) -> None:
    """After posting without a preview: what the sanitiser removed, as notices on the next page."""
    for note in preview(request, body).dropped:
        await sessions.notify(request, note)
