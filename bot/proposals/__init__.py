"""Speaking-slot requests ("The floor is yours"), from draft to decision, free of Telegram
types; one class per job, each use case one transaction:

    conversation.py  DraftConversation: the draft, one step at a time, and its submission
    review.py        ProposalReview: decisions and their undo, organizers' prompts, withdrawal
    queries.py       ProposalQueries: reading and exporting requests; erase_requests (/forget)
    states.py        the states, the limits, and the compare-and-set every change goes through

Wired in bot/services.py (drafts, reviews, requests); the refusals are in
bot/proposal_errors.py, the steps in bot/proposal_flow.py.
"""

from bot.models.proposal import reference_of
from bot.proposal_errors import (
    ERROR_CODES,
    AlreadyDecided,
    DormantDraft,
    EmptyNote,
    InvalidAnswer,
    NoDraft,
    ProposalError,
    ProposalNotFound,
    StaleButton,
    TooLate,
    TooManyOpen,
    WrongState,
)
from bot.proposal_flow import Step, clean_text
from bot.proposals.conversation import (
    DraftConversation,
    Outcome,
    StepSource,
    has_answers,
    is_active,
    step_of,
)
from bot.proposals.queries import ProposalQueries, erase_requests
from bot.proposals.review import DECLINE, MESSAGE, NOTE_MAX_LENGTH, ProposalReview
from bot.proposals.states import (
    MAX_OPEN_PER_PERSON,
    UNDO_WINDOW,
    ProposalState,
    last_decision,
    undoable,
)

__all__ = [
    "DECLINE",
    "ERROR_CODES",
    "MAX_OPEN_PER_PERSON",
    "MESSAGE",
    "NOTE_MAX_LENGTH",
    "UNDO_WINDOW",
    "AlreadyDecided",
    "DormantDraft",
    "DraftConversation",
    "EmptyNote",
    "InvalidAnswer",
    "NoDraft",
    "Outcome",
    "ProposalError",
    "ProposalNotFound",
    "ProposalQueries",
    "ProposalReview",
    "ProposalState",
    "StaleButton",
    "Step",
    "StepSource",
    "TooLate",
    "TooManyOpen",
    "WrongState",
    "clean_text",
    "erase_requests",
    "has_answers",
    "is_active",
    "last_decision",
    "reference_of",
    "step_of",
    "undoable",
]
