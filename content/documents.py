"""The AS2 document we serve for a post on the board: the stored document with the board terms
(federation.board_terms) and, for peers that do not read them, the status in words as the paragraph
after the title line of ``content`` and the first line of ``source`` (Lemmy shows ``source`` when it is there)."""

from __future__ import annotations

from typing import Any

from content.kinds import STATUS_LABELS, status_line
from federation.board_terms import BoardTerms, status_paragraph, with_terms
from federation.thread_title import titled_content
from storage.models import Object


def thread_terms(obj: Object) -> BoardTerms:
    return BoardTerms(kind=obj.kind, status=obj.status, duplicate_of=obj.duplicate_of_uri,
                      accepted_answer=obj.accepted_answer_uri)


def board_document(obj: Object, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base`` (default: the stored document) as a thread of its kind and status says it."""
    doc = dict(base if base is not None else obj.document or {})
    if obj.kind is None:
        return with_terms(doc, BoardTerms())
    line = status_line(obj.status)
    # Title line first, then the status in words (federation.thread_title, federation.board_terms).
    doc["content"] = titled_content(obj.name or "", status_paragraph(line) + (obj.content or ""))
    if obj.source is not None:
        doc["source"] = {"content": f"{line}\n\n{obj.source}" if line else obj.source, "mediaType": "text/markdown"}
    return with_terms(doc, thread_terms(obj))


def response_document(document: dict[str, Any], status: str | None) -> dict[str, Any]:
    """An official response Note: flagged, with the status it announced."""
    return with_terms(document, BoardTerms(official=True, status=status if status in STATUS_LABELS else None))
