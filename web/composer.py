"""What every composer (new thread, reply, edit, microblog post) shares: the Preview button and its
rendering (issue #16 "Preview before posting").

Without JavaScript the form's second button, ``name="preview"``, sends the form; the handler renders the
page again with the text kept and the preview under it, and nothing is posted. With JavaScript
(``/static/composer.js``) the same preview follows the typing through ``POST /preview``
(web/routes/composer.py). Both render exactly what posting stores: federation.markdown with this node's
base URL, and both list what the sanitiser would remove, so nothing is lost silently.
"""

from __future__ import annotations

from aiohttp import web

from federation.markdown import Rendered, render
from web.context import get_context
from web.forms import FormData

PREVIEW_FIELD = "preview"


def wants_preview(form: FormData) -> bool:
    """The Preview button sent the form (not the Post button)."""
    return PREVIEW_FIELD in form


def preview(request: web.Request, body: str) -> Rendered:
    return render(body, get_context(request).urls.base)
