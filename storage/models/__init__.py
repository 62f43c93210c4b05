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
from storage.models.recognition import (
    BadgeAward, Kudos, ReceivedBadge, RecognitionOptOut, RecognitionSettings, Redemption, Reward,
)
from storage.models.queues import Activity, Delivery, DomainAllow, DomainBlock, Host, InboundActivity, QueueWorker

__all__ = [
    "Account", "Activity", "BadgeAward", "Base", "BoardCount", "BrowserSession", "Delivery", "DomainAllow", "DomainBlock",
    "FeedToken", "Featured", "Flag", "Follow", "Group", "Host", "InboundActivity", "Kudos", "LocalActor", "LoginAttempt",
    "MailMessage", "Membership",
    "ModerationEntry", "NodeSetting", "Notification", "Object", "ObjectRecipient", "Profile", "ProfileTag",
    "QueueWorker", "Reaction", "ReceivedBadge", "RecognitionOptOut", "RecognitionSettings", "Redemption", "Reward", "RemoteActor", "RemoteKey", "SearchPending", "StatusChange", "ThreadFollower",
    "utcnow",
]
