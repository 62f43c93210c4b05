"""Kinds of thread and the statuses they can have: the board's vocabulary (issue #12).

- **discussion**: a plain thread (what groups always had); not on the board, no status.
- **idea** and **concern**: a status set by the group's team, each change with an official response:
  open -> under review -> planned -> in progress -> done, or declined, or duplicate (of another thread).
- **question**: unsolved until the asker or the team accepts one reply as the answer (then solved).

A thread's kind is stored on its first post (``Object.kind``; None for a discussion, so the board's
partial indexes cover only board threads). Names are the wire values too (PROTOCOL.md "The board").
"""

from __future__ import annotations

from actors.errors import InvalidInput

DISCUSSION = "discussion"
THREAD_KINDS = (DISCUSSION, "idea", "concern", "question")
BOARD_KINDS = THREAD_KINDS[1:]
KIND_LABELS = {"discussion": "Discussion", "idea": "Idea", "concern": "Concern", "question": "Question"}

IDEA_STATUSES = ("open", "under_review", "planned", "in_progress", "done", "declined", "duplicate")
QUESTION_STATUSES = ("unsolved", "solved")
STATUSES = IDEA_STATUSES + QUESTION_STATUSES
STATUS_LABELS = {
    "open": "Open", "under_review": "Under review", "planned": "Planned", "in_progress": "In progress",
    "done": "Done", "declined": "Declined", "duplicate": "Duplicate", "unsolved": "Unsolved", "solved": "Solved",
}
# The statuses the team sets by hand (a question's status follows its accepted answer).
SETTABLE = IDEA_STATUSES


def check_kind(value: str | None) -> str:
    """A kind of thread from a form, JSON or a peer; InvalidInput names the ones there are."""
    kind = (value or "").strip().lower()
    if kind not in THREAD_KINDS:
        raise InvalidInput(f"unknown kind of thread {value!r}: one of {', '.join(THREAD_KINDS)}")
    return kind


def check_status(value: str | None, kind: str | None) -> str:
    """A status the team may set on a thread of ``kind``; InvalidInput otherwise."""
    status = (value or "").strip().lower().replace(" ", "_").replace("-", "_")
    if status not in STATUSES:
        raise InvalidInput(f"unknown status {value!r}: one of {', '.join(SETTABLE)}")
    if kind not in ("idea", "concern") or status not in SETTABLE:
        raise InvalidInput(f"a {KIND_LABELS.get(kind or DISCUSSION, 'thread').lower()} has no status {value!r}"
                           + ("" if kind in ("idea", "concern") else ": only ideas and concerns have a status"))
    return status


def stored_kind(kind: str) -> str | None:
    """What ``Object.kind`` holds: None for a discussion (off the board)."""
    return None if kind == DISCUSSION else kind


def first_status(kind: str | None) -> str | None:
    """A new board thread's status: ideas and concerns are open, questions unsolved."""
    if kind in ("idea", "concern"):
        return "open"
    return "unsolved" if kind == "question" else None


def status_line(status: str | None) -> str:
    """The readable line peers without our terms show (Lemmy, Mastodon): ``Status: Planned``."""
    return f"Status: {STATUS_LABELS[status]}" if status in STATUS_LABELS else ""
