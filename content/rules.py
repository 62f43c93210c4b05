"""What a post may say: the limits and the one check that the services and the forms share."""

from __future__ import annotations

from actors.node_settings import InvalidFields

MAX_TITLE = 200
MAX_BODY = 50_000


def check_post_text(title: str, body: str, *, title_required: bool) -> tuple[str, str]:
    """The title (one line, as typed: pages escape it) and the Markdown body, or InvalidFields per field.

    A thread in a group needs a title and may have no body; anything else needs some text.
    """
    title = " ".join((title or "").split())
    body = (body or "").strip()
    errors: dict[str, str] = {}
    if len(title) > MAX_TITLE:
        errors["title"] = f"at most {MAX_TITLE} characters (this has {len(title)})"
    elif title_required and not title:
        errors["title"] = "give the thread a title"
    if len(body) > MAX_BODY:
        errors["body"] = f"at most {MAX_BODY} characters (this has {len(body)})"
    elif not body and not title:
        errors["body"] = "write something"
    if errors:
        raise InvalidFields(errors)
    return title, body
