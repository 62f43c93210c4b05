"""Projects and tasks on the wire (issue #14; PROTOCOL.md "Projects"): render ours, parse peers'.

A project is a ``Group`` actor (FEP-1b12) with ``projectOrigin``: the idea or concern it was started from
(the thread's page and its closing official response link back to the project). A task is a ForgeFed ``Ticket`` (https://forgefed.org/spec/,
"Ticket", ``isResolved``, ``assignedTo``; ``Resolve`` marks one done) published by the project group, with
``context`` the project and our ``taskState`` (``open`` | ``doing`` | ``done``) for the step ForgeFed has no
word for. ``content`` starts with a readable line, ``Task: <title>, assigned to @x`` (servers that show
unknown types as text, and people reading the JSON), and ``endTime`` is the due date (AS2 ``endTime``).

Pure protocol code: plain dicts in and out; InvalidTicket says what is wrong with a peer's.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from federation.activities import iso
from federation.context import AS2, MADEOPEN_NS
from federation.object_fields import id_list, id_of

FORGEFED_NS = "https://forgefed.org/ns#"
TASK_STATES = ("open", "doing", "done")
MAX_TITLE = 200
PROJECT_CONTEXT: dict[str, object] = {
    "forge": FORGEFED_NS,
    "Ticket": "forge:Ticket",
    "Resolve": "forge:Resolve",
    "isResolved": "forge:isResolved",
    "assignedTo": {"@id": "forge:assignedTo", "@type": "@id"},
    "madeopen": MADEOPEN_NS,
    "taskState": "madeopen:taskState",
    "projectOrigin": {"@id": "madeopen:projectOrigin", "@type": "@id"},
}
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


class InvalidTicket(ValueError):
    """A Ticket we cannot take: the message says why."""


@dataclass(frozen=True)
class Ticket:
    id: str
    project: str  # the project group's id (``context``, else ``attributedTo``)
    title: str
    content: str  # HTML as sent (the caller sanitises)
    state: str
    assignees: tuple[str, ...] = ()
    due: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def readable_line(title: str, handles: list[str]) -> str:
    """``Task: Fix the pump, assigned to @bob@b.example`` (unassigned: just the title)."""
    line = f"Task: {title}"
    return line + (", assigned to " + ", ".join("@" + h for h in handles) if handles else "")


def ticket_document(
    *, uri: str, project: str, title: str, content_html: str, source: str, state: str, assignees: list[str],
    handles: list[str], due: date | None, published: datetime, updated: datetime | None, audience: list[str],
) -> dict[str, Any]:
    """Our task as a Ticket, addressed to ``audience`` (the project's followers, and Public when open)."""
    line = readable_line(title, handles)
    doc: dict[str, Any] = {
        "@context": [AS2, PROJECT_CONTEXT],
        "id": uri,
        "type": "Ticket",
        "attributedTo": project,
        "context": project,
        "audience": project,
        "to": audience,
        "name": title,
        "summary": line,
        "content": f"<p>{html.escape(line)}</p>{content_html}",
        "mediaType": "text/html",
        "source": {"content": source, "mediaType": "text/markdown"},
        "isResolved": state == "done",
        "taskState": state,
        "assignedTo": assignees,
        "published": iso(published),
    }
    if due is not None:
        doc["endTime"] = due.isoformat()
    if updated is not None:
        doc["updated"] = iso(updated)
    return doc


_READABLE = re.compile(r"^\s*<p>Task: [^<]*</p>\s*")


def without_readable_line(content: str) -> str:
    return _READABLE.sub("", content, count=1)


def parse_state(doc: dict[str, Any]) -> str:
    state = doc.get("taskState")
    if state is None:
        return "done" if doc.get("isResolved") is True else "open"
    if state not in TASK_STATES:
        raise InvalidTicket(f"unknown taskState {state!r}: one of {', '.join(TASK_STATES)}")
    return str(state)


def parse_ticket(doc: Any) -> Ticket:
    if not isinstance(doc, dict) or doc.get("type") != "Ticket":
        raise InvalidTicket("not a Ticket")
    uri = id_of(doc.get("id"))
    project = id_of(doc.get("context")) or id_of(doc.get("attributedTo"))
    if not uri or not project:
        raise InvalidTicket("a Ticket needs an id and its project (context)")
    title = doc.get("name")
    if not isinstance(title, str) or not title.strip():
        raise InvalidTicket("a Ticket needs a name (its title)")
    content = doc.get("content") if isinstance(doc.get("content"), str) else ""
    due = None
    end = doc.get("endTime")
    if isinstance(end, str):
        match = _DATE.match(end)
        try:
            due = date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            due = None
    return Ticket(id=uri, project=project, title=" ".join(title.split())[:MAX_TITLE],
                  content=without_readable_line(content), state=parse_state(doc),
                  assignees=id_list(doc.get("assignedTo")), due=due)
