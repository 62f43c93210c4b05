"""``Offer{Article}``: someone on another server proposes an edit of one of our groups' docs (issue #18;
PROTOCOL.md "Docs").

As ForgeFed offers a patch to a repository, the proposer offers the revised Article (same id, the
``docRevision`` it starts from, the new ``name`` and Markdown ``source``) to the group (``target`` or
``to``), with the reason in ``summary``. It becomes a proposed edit in the team's queue, credited to the
Offer's actor; the team's decision goes back as the group's ``Accept`` or ``Reject`` of the Offer
(inbox_outbox.services.docs). Dropped with a log: an Offer of anything else, of no doc of ours, not sent
to the doc's group, from someone who may not propose there (banned, or not a member of a private group),
or failing the doc rules (empty title, over the size limit, no reason, an unknown revision). An Offer
for a doc that was deleted is answered with a ``Reject`` saying so. The same Offer twice is stored once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from actors import notifications
from actors.errors import DomainError
from content.docs import pages, proposals
from federation.activities import activity, object_id
from federation.doc_article import InvalidOffer, parse_offer
from federation.object_fields import id_list
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop, Incoming
from inbox_outbox.ids import new_activity_id
from inbox_outbox.outbox import publish
from storage.models import DocProposal, LocalActor, utcnow

log = logging.getLogger(__name__)


async def on_offer(fed: Federation, incoming: Incoming) -> None:
    try:
        edit = parse_offer(incoming.activity)
    except InvalidOffer as exc:
        raise Drop(str(exc)) from None
    if incoming.id is None:
        raise Drop("an Offer without an id cannot be answered")
    deleted_group: LocalActor | None = None
    async with fed.sessions.begin() as session:
        doc = await pages.by_object_uri(session, edit.article)
        if doc is None:
            raise Drop(f"{edit.article} is no doc of ours")
        group = await session.get(LocalActor, doc.group_id)
        assert group is not None
        group_uri = fed.urls.group(group.username)
        if object_id(incoming.activity.get("target")) != group_uri and group_uri not in id_list(incoming.activity.get("to")):
            raise Drop(f"an edit of {edit.article} is offered to its group, {group_uri}")
        place = await pages.access(session, fed.urls, group, incoming.actor.uri)
        if not place.propose:
            raise Drop(f"{incoming.actor.uri} may not propose edits in {group.username}")
        if await session.scalar(select(DocProposal.id).where(DocProposal.offer_uri == incoming.id)) is not None:
            log.info("inbox: the Offer %s is in the queue already", incoming.id)
            return
        if doc.deleted:
            deleted_group = group
        else:
            try:
                made = await proposals.propose(session, doc, incoming.actor.uri, base=edit.base, title=edit.title,
                                               body=edit.source, reason=edit.reason, offer_uri=incoming.id)
            except DomainError as exc:
                raise Drop(f"the offered edit of {edit.article}: {exc.message}") from None
            await notifications.doc_proposed(session, group.id, incoming.actor.uri,
                                             fed.urls.base + proposals.proposal_path(group.username, doc.id, made.id))
            return
    async with fed.sessions.begin() as session:  # a deleted doc: the proposer's server is told
        assert deleted_group is not None
        group_uri = fed.urls.group(deleted_group.username)
        offer = {"id": incoming.id, "type": "Offer", "actor": incoming.actor.uri}
        reject = activity(new_activity_id(fed.urls), "Reject", group_uri, offer, to=[incoming.actor.uri],
                          summary="that doc was deleted", published=utcnow())
        await publish(session, fed.urls, deleted_group, reject, [incoming.actor.inbox])
    raise Drop(f"an edit offered for {edit.article}, which was deleted: rejected")
