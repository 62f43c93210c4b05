"""ORM tables. Every change here comes with an Alembic revision in storage/migrations/versions."""

from storage.models.actors import Account, Group, LocalActor, Membership, NodeSetting, RemoteActor, RemoteKey
from storage.models.base import Base, utcnow
from storage.models.content import (
    BoardCount, Featured, Flag, Follow, ModerationEntry, Object, ObjectRecipient, Reaction, StatusChange,
    ThreadFollower,
)
from storage.models.login import BrowserSession, LoginAttempt
from storage.models.mail import MailMessage
from storage.models.notifications import FeedToken, Notification
from storage.models.profiles import Profile, ProfileTag, SearchPending
from storage.models.reading import ThreadRead
from storage.models.queues import Activity, Delivery, DomainAllow, DomainBlock, Host, InboundActivity, QueueWorker

__all__ = [
    "Account", "Activity", "Base", "BoardCount", "BrowserSession", "Delivery", "DomainAllow", "DomainBlock",
    "FeedToken", "Featured", "Flag", "Follow", "Group", "Host", "InboundActivity", "LocalActor", "LoginAttempt",
    "MailMessage", "Membership",
    "ModerationEntry", "NodeSetting", "Notification", "Object", "ObjectRecipient", "Profile", "ProfileTag",
    "QueueWorker", "Reaction", "RemoteActor", "RemoteKey", "SearchPending", "StatusChange", "ThreadFollower",
    "ThreadRead", "utcnow",
]
