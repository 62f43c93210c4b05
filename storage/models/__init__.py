"""ORM tables. Every change here comes with an Alembic revision in storage/migrations/versions."""

from storage.models.actors import Account, Group, LocalActor, Membership, NodeSetting, RemoteActor, RemoteKey
from storage.models.base import Base, utcnow
from storage.models.content import BoardCount, Featured, Flag, Follow, Object, Reaction, StatusChange, ThreadFollower
from storage.models.login import LoginAttempt
from storage.models.notifications import Notification
from storage.models.profiles import Profile, ProfileTag, SearchPending
from storage.models.queues import Activity, Delivery, DomainBlock, Host, InboundActivity

__all__ = [
    "Account", "Activity", "Base", "BoardCount", "Delivery", "DomainBlock", "Featured", "Flag", "Follow", "Group", "Host",
    "InboundActivity", "LocalActor", "LoginAttempt", "Membership", "NodeSetting", "Notification", "Object", "Profile",
    "ProfileTag", "Reaction", "RemoteActor", "RemoteKey", "SearchPending", "StatusChange", "ThreadFollower", "utcnow",
]
