"""What activity code is handed: the database, our URLs, remote actors and the signing client."""

from __future__ import annotations

from dataclasses import dataclass, field

from actors.blocks import PolicyCache
from actors.remote import RemoteActors
from actors.urls import Urls
from federation.http import FederationClient
from storage.engine import SessionMaker


@dataclass
class Federation:
    sessions: SessionMaker
    urls: Urls
    remote: RemoteActors
    client: FederationClient
    # PROTOCOL.md "Validation": at most ~50 outbound fetches caused by one incoming activity.
    fetch_budget: int = field(default=50)
    # MADEOPEN_FEDERATION_MODE=allowlist: only listed hosts are talked to (actors.blocks).
    allowlist: bool = False
    # The domain policy and suspended accounts from memory (actors.blocks.PolicyCache): the pipeline drops
    # a suspended account's queued activities and the handlers its posts relayed by others.
    policy: PolicyCache = field(init=False)

    def __post_init__(self) -> None:
        self.policy = PolicyCache(self.sessions, allowlist=self.allowlist)
