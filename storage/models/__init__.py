"""ORM tables. Every change here comes with an Alembic revision in storage/migrations/versions."""

from storage.models.account_mail import AccountToken, MailRequest
from storage.models.actors import Account, Group, LocalActor, Membership, NodeSetting, RemoteActor, RemoteKey
from storage.models.base import Base, utcnow
from storage.models.content import (
    ActorSuspension, BoardCount, Boost, Featured, Flag, Follow, ModerationEntry, Object, ObjectRecipient, PersonBlock, Reaction,
    StatusChange,
    ThreadFollower,
)
from storage.models.docs import Doc, DocCommentMark, DocProposal, DocRevision, DocSettings
from storage.models.login import BrowserSession, LoginAttempt
from storage.models.mail import MailMessage
from storage.models.notifications import FeedToken, GroupWatch, MailDigest, MailPreference, Notification
from storage.models.projects import Project, ProjectInvite, ProjectTask, TaskAssignee, TaskComment
from storage.models.post_extras import PostAttachment, PostHashtag
from storage.models.profiles import Profile, ProfileTag, SearchPending
from storage.models.recognition import (
    BadgeAward, Kudos, ReceivedBadge, RecognitionOptOut, RecognitionSettings, Redemption, Reward,
)
from storage.models.reading import ThreadRead
from storage.models.queues import (
    Activity, Delivery, DomainAllow, DomainBlock, Fanout, Host, InboundActivity, QueueWorker,
)

__all__ = [
    "Account", "AccountToken", "Activity", "ActorSuspension", "BadgeAward", "Base", "BoardCount", "Boost", "BrowserSession", "Delivery", "Doc", "DocCommentMark", "DocProposal",
    "DocRevision", "DocSettings", "DomainAllow", "DomainBlock",
    "Fanout", "FeedToken", "Featured", "Flag", "Follow", "Group", "GroupWatch", "Host", "InboundActivity", "Kudos", "LocalActor", "LoginAttempt",
    "MailDigest", "MailMessage", "MailPreference", "MailRequest", "Membership",
    "ModerationEntry", "NodeSetting", "Notification", "Object", "ObjectRecipient", "PersonBlock", "PostAttachment", "PostHashtag", "Profile", "ProfileTag",
    "Project", "ProjectInvite", "ProjectTask", "TaskAssignee", "TaskComment",
    "QueueWorker", "Reaction", "ReceivedBadge", "RecognitionOptOut", "RecognitionSettings", "Redemption",
    "Reward", "RemoteActor", "RemoteKey", "SearchPending", "StatusChange", "ThreadFollower",
    "ThreadRead", "utcnow",
]
