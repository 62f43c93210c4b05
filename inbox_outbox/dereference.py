"""Trusting embedded objects (PROTOCOL.md "Validation").

An object embedded in an activity is trusted only when its id is on the activity actor's host;
otherwise (or when only an id is given) it is fetched from its own origin, within the per-activity
fetch budget. Our own objects are read from the database, never from the network or the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from federation.http import FetchError
from federation.remote_actor import origin
from inbox_outbox.federation import Federation
from inbox_outbox.handlers.registry import Drop


@dataclass
class FetchBudget:
    remaining: int

    def spend(self, url: str) -> None:
        if self.remaining <= 0:
            raise Drop(f"too many fetches for one activity (stopped at {url})")
        self.remaining -= 1


async def trusted_document(
    fed: Federation, value: object, actor_id: str, budget: FetchBudget
) -> dict[str, Any]:
    """The document ``value`` stands for, as its origin serves it (or embedded, if same-origin)."""
    if isinstance(value, dict):
        doc_id = value.get("id")
        if isinstance(doc_id, str) and origin(doc_id) == origin(actor_id):
            return value
        if not isinstance(doc_id, str):
            raise Drop("embedded object has no id")
    elif isinstance(value, str):
        doc_id = value
    else:
        raise Drop("object is neither an id nor a document")
    if doc_id.startswith(fed.urls.base + "/"):
        raise Drop(f"{doc_id} is ours: remote content never stands in for a local object")
    budget.spend(doc_id)
    try:
        return await fed.client.fetch_document(doc_id)
    except FetchError as exc:
        raise Drop(f"could not fetch {doc_id} from its origin: {exc}") from None
