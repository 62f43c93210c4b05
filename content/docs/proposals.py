"""Proposed edits of a doc: anyone who may read it proposes a revised text with a reason; the team
accepts it (a revision crediting the proposer), asks for changes, or declines it with a comment.

A proposal made on an older revision is merged three-way with what was saved since when accepted; when
the two clash, the team is told to ask the proposer for changes (nothing is written). A proposal
against a deleted doc is refused. The proposer revises a proposal the team sent back, which opens it
again. Proposals from another server arrive as an ``Offer`` (inbox_outbox.handlers.offer).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.errors import Conflict, InvalidInput, NotFound
from actors.node_settings import InvalidFields
from actors.urls import Urls
from content.docs import pages
from content.docs.merge import merge
from content.docs.text import check_doc
from storage.models import Doc, DocProposal, DocRevision, LocalActor, utcnow

MAX_REASON = 2_000
OPEN_STATES = ("open", "changes")
DECISIONS = ("accept", "changes", "decline")
STATE_LABELS = {"open": "Waiting for review", "changes": "Changes asked", "accepted": "Accepted",
                "declined": "Declined"}


def proposal_path(group_name: str, doc_id: int, proposal_id: int) -> str:
    return f"{pages.doc_path(group_name, doc_id)}/proposals/{proposal_id}"


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidFields({"reason": "say why: the team reads the reason with the change"})
    if len(reason) > MAX_REASON:
        raise InvalidFields({"reason": f"at most {MAX_REASON} characters (this has {len(reason)})"})
    return reason


async def propose(session: AsyncSession, doc: Doc, proposer_uri: str, *, base: int, title: str, body: str,
                  reason: str, offer_uri: str | None = None) -> DocProposal:
    """A proposed edit of ``doc`` (live: the caller found it with pages.find) on revision ``base``."""
    errors: dict[str, str] = {}
    try:
        title, body, _ = check_doc(title, body)
    except InvalidFields as exc:
        errors.update(exc.errors)
    try:
        reason = _check_reason(reason)
    except InvalidFields as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidFields(errors)
    if doc.deleted:
        raise NotFound("that doc was deleted: there is nothing to propose an edit to")
    start = await session.scalar(select(DocRevision).where(DocRevision.doc_id == doc.id, DocRevision.number == base))
    if start is None:
        raise InvalidInput(f"this doc has no revision {base}")
    current = await pages.head(session, doc)
    if title == current.title and body == current.body:
        raise InvalidFields({"body": "this is the text as it is now: change something to propose it"})
    proposal = DocProposal(doc_id=doc.id, base=base, title=title, body=body, reason=reason, proposer_uri=proposer_uri,
                           offer_uri=offer_uri, state="open", created_at=utcnow())
    session.add(proposal)
    await session.flush()
    return proposal


async def find(session: AsyncSession, doc: Doc, proposal_id: int) -> DocProposal:
    proposal = await session.get(DocProposal, proposal_id)
    if proposal is None or proposal.doc_id != doc.id:
        raise NotFound("no such proposed edit of this doc")
    return proposal


async def queue(session: AsyncSession, doc_ids: list[int], *, open_only: bool = True) -> list[DocProposal]:
    if not doc_ids:
        return []
    query = select(DocProposal).where(DocProposal.doc_id.in_(doc_ids))
    if open_only:
        query = query.where(DocProposal.state.in_(OPEN_STATES))
    return list(await session.scalars(query.order_by(DocProposal.id)))


async def open_count(session: AsyncSession, doc_ids: list[int]) -> int:
    if not doc_ids:
        return 0
    return await session.scalar(select(func.count()).select_from(DocProposal).where(
        DocProposal.doc_id.in_(doc_ids), DocProposal.state == "open")) or 0


@dataclass(frozen=True)
class Proposed:
    """What a proposal would make of the doc now: the text (merged onto the head when it was made on
    an older revision) and whether that merge is clean."""

    title: str
    body: str
    clean: bool


async def as_of_head(session: AsyncSession, doc: Doc, proposal: DocProposal) -> Proposed:
    current = await pages.head(session, doc)
    if proposal.base == doc.head:
        return Proposed(proposal.title, proposal.body, True)
    base = await pages.revision(session, doc, proposal.base)
    merged = merge(base.body, proposal.body, current.body, mine_label="proposed", theirs_label=f"revision {doc.head}")
    title = current.title if proposal.title == base.title else proposal.title
    return Proposed(title, merged.text, merged.clean)


def _open(proposal: DocProposal) -> None:
    if proposal.state not in OPEN_STATES:
        raise InvalidInput(f"this proposed edit was {proposal.state} already")


async def decide(session: AsyncSession, urls: Urls, group: LocalActor, doc: Doc, proposal: DocProposal,
                 team_uri: str, decision: str, comment: str = "") -> DocRevision | None:
    """The team's answer (the caller checked ``team_uri`` is on the team). ``accept`` returns the new
    revision; ``changes`` and ``decline`` need a comment for the proposer."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: one of {', '.join(DECISIONS)}")
    _open(proposal)
    comment = (comment or "").strip()
    if len(comment) > MAX_REASON:
        raise InvalidFields({"comment": f"at most {MAX_REASON} characters (this has {len(comment)})"})
    made = None
    if decision == "accept":
        if doc.deleted:
            raise NotFound("that doc was deleted")
        proposed = await as_of_head(session, doc, proposal)
        if not proposed.clean:
            raise Conflict("the doc changed since this edit was proposed and the two clash: ask the proposer for "
                           "changes (they will see the current text)")
        summary = proposal.reason.splitlines()[0][:300] if proposal.reason else "Proposed edit"
        made = await pages.accept_text(session, urls, group, doc, title=proposed.title, body=proposed.body,
                                       summary=summary, author_uri=proposal.proposer_uri, accepted_by=team_uri,
                                       proposal_id=proposal.id)
        proposal.state, proposal.revision = "accepted", made.number
    else:
        if not comment:
            raise InvalidFields({"comment": "tell the proposer what to change" if decision == "changes"
                                 else "tell the proposer why"})
        proposal.state = "changes" if decision == "changes" else "declined"
    proposal.response = comment
    proposal.decided_by_uri = team_uri
    proposal.decided_at = utcnow()
    await session.flush()
    return made


async def revise(session: AsyncSession, doc: Doc, proposal: DocProposal, proposer_uri: str, *, title: str,
                 body: str, reason: str) -> DocProposal:
    """The proposer answers "changes asked" with a new text (on the current revision): open again."""
    if proposal.proposer_uri != proposer_uri:
        raise InvalidInput("only the proposer revises a proposed edit")
    if proposal.state != "changes":
        raise InvalidInput("only a proposed edit the team sent back for changes is revised")
    title, body, _ = check_doc(title, body)
    proposal.title, proposal.body, proposal.reason = title, body, _check_reason(reason)
    proposal.base, proposal.state = doc.head, "open"
    await session.flush()
    return proposal
