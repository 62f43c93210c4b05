"""The board's terms on posts (issue #12; PROTOCOL.md "The board"): render ours, parse peers'.

Threads stay ``Page`` (Lemmy, PieFed). What only Made Open reads travels as extension terms in our
namespace (federation.context.MADEOPEN_NS), plus schema.org's ``acceptedAnswer``:

- ``threadKind``: ``idea`` | ``concern`` | ``question`` on a thread's Page (absent: a discussion);
- ``threadStatus``: the idea's or concern's status (``open``, ``under_review``, ``planned``,
  ``in_progress``, ``done``, ``declined``, ``duplicate``), ``solved``/``unsolved`` for a question; on an
  official response Note, the status it announced;
- ``duplicateOf``: the original thread of a duplicate;
- ``official``: ``true`` on a reply that is the group team's official response;
- ``acceptedAnswer`` (https://schema.org/acceptedAnswer): the question's accepted reply.

Everyone else reads the same as text: the Page's content starts with a ``Status: Planned`` paragraph
(:func:`status_paragraph`), which a Made Open reader takes off again (:func:`without_status_paragraph`).
Pure protocol code: plain dicts in and out.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from federation.context import MADEOPEN_NS, MADEOPEN_TERMS
from federation.object_fields import id_of

KINDS = ("idea", "concern", "question")
STATUSES = ("open", "under_review", "planned", "in_progress", "done", "declined", "duplicate", "unsolved", "solved")
SCHEMA_ACCEPTED_ANSWER = "https://schema.org/acceptedAnswer"
_TERMS = ("threadKind", "threadStatus", "official", "duplicateOf", "acceptedAnswer")
BOARD_CONTEXT: dict[str, object] = {
    "madeopen": MADEOPEN_NS,
    **{term: MADEOPEN_TERMS[term] for term in _TERMS[:4]},
    "acceptedAnswer": {"@id": SCHEMA_ACCEPTED_ANSWER, "@type": "@id"},
}


class InvalidBoardTerm(ValueError):
    """A kind or status we do not know, or a term of the wrong shape; the message says which."""


@dataclass(frozen=True)
class BoardTerms:
    kind: str | None = None
    status: str | None = None
    official: bool = False
    duplicate_of: str | None = None
    accepted_answer: str | None = None

    @property
    def empty(self) -> bool:
        return self == BoardTerms()


def status_paragraph(label: str) -> str:
    """The first paragraph of a board thread's content for peers without our terms."""
    return f"<p>{html.escape(label)}</p>" if label else ""


_STATUS_PARAGRAPH = re.compile(r"^\s*<p>Status: [^<]{1,40}</p>\s*")


def without_status_paragraph(content: str) -> str:
    return _STATUS_PARAGRAPH.sub("", content, count=1)


def render_terms(terms: BoardTerms) -> dict[str, Any]:
    """The terms as document fields (only those set)."""
    fields: dict[str, Any] = {}
    if terms.kind:
        fields["threadKind"] = terms.kind
    if terms.status:
        fields["threadStatus"] = terms.status
    if terms.official:
        fields["official"] = True
    if terms.duplicate_of:
        fields["duplicateOf"] = terms.duplicate_of
    if terms.accepted_answer:
        fields["acceptedAnswer"] = terms.accepted_answer
    return fields


def with_terms(document: dict[str, Any], terms: BoardTerms) -> dict[str, Any]:
    """``document`` with the board terms replaced by ``terms`` and their context added."""
    doc = {key: value for key, value in document.items() if key not in _TERMS}
    fields = render_terms(terms)
    if not fields:
        return doc
    doc.update(fields)
    context = doc.get("@context")
    if context is not None:
        contexts = context if isinstance(context, list) else [context]
        if BOARD_CONTEXT not in contexts:
            doc["@context"] = [*contexts, BOARD_CONTEXT]
    return doc


def _choice(value: Any, allowed: tuple[str, ...], term: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in allowed:
        raise InvalidBoardTerm(f"unknown {term} {value!r}")
    return value


def parse_terms(doc: dict[str, Any]) -> BoardTerms:
    """Read the board terms of a post; InvalidBoardTerm on an unknown kind or status."""
    kind = _choice(doc.get("threadKind"), KINDS, "threadKind")
    status = _choice(doc.get("threadStatus"), STATUSES, "threadStatus")
    accepted = doc.get("acceptedAnswer")
    if isinstance(accepted, list):  # schema.org allows several; one is what a question has
        accepted = accepted[0] if accepted else None
    return BoardTerms(
        kind=kind,
        status=status,
        official=doc.get("official") is True,
        duplicate_of=id_of(doc.get("duplicateOf")),
        accepted_answer=id_of(accepted),
    )
