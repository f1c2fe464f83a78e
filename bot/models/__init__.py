"""SQLAlchemy 2 models. Each area owns a module; importing this package registers them all."""

from bot.models.agenda import ProgrammeSnapshot, SavedSession
from bot.models.base import Base
from bot.models.broadcast import Broadcast, Delivery
from bot.models.live import (
    LiveBoard,
    LiveFeedback,
    LiveInput,
    LiveInvite,
    LiveModerator,
    LiveQuestion,
    LiveRoom,
    LiveVote,
)
from bot.models.proposal import Proposal, ProposalDraft, ProposalEvent
from bot.models.state import (
    BroadcastDraft,
    ContentVersion,
    InboxUpdate,
    Lease,
    OutboxNotice,
)
from bot.models.user import User

__all__ = [
    "Base",
    "Broadcast",
    "BroadcastDraft",
    "ContentVersion",
    "Delivery",
    "InboxUpdate",
    "Lease",
    "LiveBoard",
    "LiveFeedback",
    "LiveInput",
    "LiveInvite",
    "LiveModerator",
    "LiveQuestion",
    "LiveRoom",
    "LiveVote",
    "OutboxNotice",
    "ProgrammeSnapshot",
    "Proposal",
    "ProposalDraft",
    "ProposalEvent",
    "SavedSession",
    "User",
]
