"""The refusals of a speaking-slot request, each naming its catalog message
(`proposals.error.<code>`): a typed answer that does not fit, a stale button, a limit."""

from __future__ import annotations

from typing import Final


class ProposalError(Exception):
    """A refusal the person can read: `code` names the catalog message, `values` fill it."""

    code = "error"

    def __init__(self, **values: object) -> None:
        super().__init__(self.code)
        self.values = values


class InvalidAnswer(ProposalError):
    def __init__(self, code: str, **values: object) -> None:
        super().__init__(**values)
        self.code = code


class NoDraft(ProposalError):
    code = "no_draft"


class StaleButton(ProposalError):
    code = "stale"


class DormantDraft(ProposalError):
    """The person's draft has not been touched for a while: their text is not an answer."""

    code = "dormant"


class TooManyOpen(ProposalError):
    code = "too_many"


class ProposalNotFound(ProposalError):
    code = "not_found"


class TooLate(ProposalError):
    """The undo window of a decision has passed."""

    code = "too_late"


class EmptyNote(ProposalError):
    code = "note_empty"


class WrongState(ProposalError):
    code = "wrong_state"

    def __init__(self, state: str) -> None:
        super().__init__(state=state)
        self.state = state


class AlreadyDecided(WrongState):
    """Another organizer decided first (two decisions at the same moment: one wins)."""

    code = "decided_by"

    def __init__(self, state: str, name: str) -> None:
        super().__init__(state)
        self.values["name"] = name


ERROR_CODES: Final = (
    "name_length",
    "organization_length",
    "email_invalid",
    "title_length",
    "summary_too_short",
    "summary_too_long",
    "link_invalid",
    "use_buttons",
    NoDraft.code,
    StaleButton.code,
    TooManyOpen.code,
    ProposalNotFound.code,
    WrongState.code,
    AlreadyDecided.code,
    TooLate.code,
    EmptyNote.code,
)
