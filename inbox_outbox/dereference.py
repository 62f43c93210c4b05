"""Trusting embedded objects (PROTOCOL.md "Validation").

An object embedded in an activity is trusted when it carries an FEP-8b32 integrity proof that holds (its
owner's key, on its own origin: federation.proofs), or else when its id is on the activity actor's host;
otherwise (or when only an id is given) it is fetched from its own origin, within the per-activity
fetch budget. Our own objects are read from the database, never from the network or the payload.

Why proofs first: a group relays its members' posts (FEP-1b12 ``Announce{Create}``), and a post in a
private group is not served to the other members' servers by the author's server, so the re-fetch fails
for exactly the content that matters most. A proof is the author's own signature on the relayed copy.
FEP-8b32 "Proof verification": a proof that can be checked takes precedence; one that holds is enough, one
that fails means the document is refused (never trusted some other way instead); one that cannot be
checked (another cryptosuite, a key we cannot resolve) is ignored and today's rules apply.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from federation.http_errors import FetchError
from federation.proofs import ProofError, UnusableProof, verify_proof
from federation.remote_actor import origin
from inbox_outbox.drop import Drop
from inbox_outbox.federation import Federation

log = logging.getLogger(__name__)


@dataclass
class FetchBudget:
    remaining: int

    def spend(self, url: str) -> None:
        if self.remaining <= 0:
            raise Drop(f"too many fetches for one activity (stopped at {url})")
        self.remaining -= 1


async def proven(fed: Federation, document: dict[str, Any]) -> bool:
    """True when ``document`` carries an integrity proof that holds; False when it has none we can check;
    Drop when its proof fails."""
    if "proof" not in document:
        return False
    try:
        verified = await verify_proof(document, fed.remote.key_lookup)
    except UnusableProof as exc:
        log.info("inbox: ignoring the integrity proof of %s: %s", document.get("id"), exc)
        return False
    except ProofError as exc:
        raise Drop(f"the integrity proof of {document.get('id')} does not hold: {exc}") from None
    log.debug("inbox: %s is signed by %s", document.get("id"), verified.key_id)
    return True


async def trusted_document(
    fed: Federation, value: object, actor_id: str, budget: FetchBudget
) -> dict[str, Any]:
    """The document ``value`` stands for: embedded, if its proof holds or it is on the actor's host;
    otherwise as its origin serves it."""
    if isinstance(value, dict):
        doc_id = value.get("id")
        if not isinstance(doc_id, str):
            raise Drop("embedded object has no id")
        _refuse_ours(fed, doc_id)
        if await proven(fed, value) or origin(doc_id) == origin(actor_id):
            return value
    elif isinstance(value, str):
        doc_id = value
        _refuse_ours(fed, doc_id)
    else:
        raise Drop("object is neither an id nor a document")
    budget.spend(doc_id)
    try:
        return await fed.client.fetch_document(doc_id)
    except FetchError as exc:
        raise Drop(f"could not fetch {doc_id} from its origin: {exc}") from None


def _refuse_ours(fed: Federation, doc_id: str) -> None:
    if doc_id.startswith(fed.urls.base + "/"):
        raise Drop(f"{doc_id} is ours: remote content never stands in for a local object")
