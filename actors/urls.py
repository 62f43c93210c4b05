"""The URL shapes of local actors. Ids are forever: never change a shape once released."""

from __future__ import annotations

from dataclasses import dataclass

INSTANCE_ACTOR_NAME = "actor"


@dataclass(frozen=True)
class Urls:
    base: str  # scheme://domain[:port], no trailing slash

    def person(self, username: str) -> str:
        return f"{self.base}/users/{username}"

    def group(self, username: str) -> str:
        return f"{self.base}/groups/{username}"

    def instance_actor(self) -> str:
        return f"{self.base}/actor"

    def actor(self, actor_type: str, username: str) -> str:
        if actor_type == "application":
            return self.instance_actor()
        return self.group(username) if actor_type == "group" else self.person(username)

    def shared_inbox(self) -> str:
        return f"{self.base}/inbox"

    @staticmethod
    def main_key(actor_id: str) -> str:
        return f"{actor_id}#main-key"

    @staticmethod
    def ed25519_key(actor_id: str) -> str:
        return f"{actor_id}#ed25519-key"

    @property
    def domain(self) -> str:
        return self.base.split("://", 1)[1]
