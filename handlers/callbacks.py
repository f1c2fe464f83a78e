"""Every kind of button the bot shows, area by area: its callback data and its pattern.

One `Button` per kind: `KIND.data(...)` builds the callback data (at most 64 bytes, Telegram's
limit), and the handler registered in handlers/app.py with `pattern=KIND.pattern` reads the
fields with `Button.fields(context)`. The data strings never change: buttons sent long ago in
people's chats must keep working.

Callback data comes back from the client and can be forged: the patterns only let through
what a real button could carry, and every handler re-validates the rest (ids must exist in
the content, pages are clamped, the presser's role and ownership are re-checked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from telegram.ext import CallbackContext

from bot.answers import Nav

MAX_BYTES: Final = 64  # Telegram's limit for a button's callback data


@dataclass(frozen=True)
class Button:
    """One kind of button: its callback data is built by `data` and routed by `pattern`.

    `Button("ses", r"[a-z0-9-]{1,32}")` builds "ses:panel-1" and matches ^ses:([a-z0-9-]{1,32})$;
    the handler registered with `pattern=kind.pattern` reads the fields from the match
    python-telegram-bot already made (`Button.fields(context)`), never parsing the data again.
    """

    prefix: str
    field_patterns: tuple[str, ...] = ()
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __init__(self, prefix: str, *field_patterns: str) -> None:
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "field_patterns", field_patterns)
        groups = "".join(f":({p})" for p in field_patterns)
        object.__setattr__(self, "pattern", re.compile(f"^{re.escape(prefix)}{groups}$"))

    def data(self, *values: object) -> str:
        """The callback data of one button of this kind."""
        if len(values) != len(self.field_patterns):
            raise TypeError(f"{self.prefix}: {len(self.field_patterns)} fields, got {values!r}")
        return ":".join([self.prefix, *(str(value) for value in values)])

    @staticmethod
    def fields(context: CallbackContext[Any, Any, Any, Any]) -> tuple[str, ...]:
        """The fields of the pressed button, from the match of its handler's pattern."""
        return context.matches[0].groups() if context.matches else ()


# Fields shared by several kinds.
PAGE: Final = r"\d{1,3}"  # a list's page (clamped by the view)
SLUG: Final = r"[a-z0-9-]{1,32}"  # a session's or an organization's id in the content
NUMBER: Final = r"\d{1,9}"  # a broadcast's id
PROPOSAL_ID: Final = r"\d{1,10}"  # a speaking-slot request's id


# -- The menu, the programme, the partners, questions: handlers/start.py, browse.py, ask.py ---
MENU: Final = Button("menu")
LANGUAGES: Final = Button("langs")  # the three languages offered
LANGUAGE: Final = Button("lang", r"[a-z]{2}")  # one chosen ("lang:es")
PROGRAMME: Final = Button("prog", PAGE)
SIDE_EVENTS: Final = Button("side", PAGE)
ORGANIZATIONS: Final = Button("orgs", "partner|side_event_organizer", PAGE)  # a role's list
SESSION: Final = Button("ses", SLUG)  # a session's card
ORGANIZATION: Final = Button("org", SLUG)  # an organization's card
ORGANIZATION_MORE: Final = Button("orgm", SLUG)  # "More about X": the rest of its description
ASK: Final = Button("ask")  # "Ask a question": invites the person to type
# A "did you mean" button: an answer key ("faq:venue", "nav:programme").
ANSWER: Final = Button("ans", r"(?:org|session|faq|nav):[a-z0-9_-]{1,32}")


# -- My agenda: handlers/agenda.py -------------------------------------------------------------
AGENDA: Final = Button("agenda")
NOW: Final = Button("now")
# The "did you mean" button to Now and next (an ANSWER): routed to agenda.now, before ANSWER.
NOW_ANSWER: Final = Button(ANSWER.data(f"nav:{Nav.NOW.value}"))
SETTINGS: Final = Button("settings")
REMINDERS: Final = Button("rem")  # the reminder choices
REMINDER: Final = Button("rem", "0|10|15|30")  # one chosen: minutes before, 0 for none
SAVE: Final = Button("sv", SLUG)  # ☆ Save / ★ Saved on a session's card
ICS_AGENDA: Final = "@agenda"  # ICS's field for My agenda's calendar file
ICS_PROGRAMME: Final = "@programme"  # ... and for the whole programme's
ICS: Final = Button("ics", f"{SLUG}|{ICS_AGENDA}|{ICS_PROGRAMME}")  # a calendar file
NOTICE: Final = Button("ntc", "send|drop", NUMBER)  # an admin sends or drops change notices


# -- Announcements (admins only): handlers/admin.py --------------------------------------------
BROADCAST_AUDIENCE: Final = Button("bc:aud", "all|speakers|lang:(?:en|es|ca)")
BROADCAST_AUDIENCES: Final = Button("bc:audiences")  # back to the audience buttons
BROADCAST_SEND: Final = Button("bc:send")
BROADCAST_CANCEL: Final = Button("bc:cancel")
BROADCAST_RESEND: Final = Button("bc:resend", NUMBER)  # to those a broadcast failed to reach


# -- Updates and privacy: handlers/subscription.py ---------------------------------------------
UPDATES: Final = Button("sub:menu")  # the "🔔 Updates" menu entry
SUBSCRIBE: Final = Button("sub", "on|off")
FORGET: Final = Button("forget", "yes|no")  # /forget's confirmation


# -- Deciding on and following speaking-slot requests: handlers/organize.py --------------------
# a / d: ask "Accept FS-0007?" / "Decline FS-0007?"; ay: accept; dy: decline without a
# reason; dr: decline with a reason (typed next); n: not now; u: undo; m: message the speaker.
DECIDE: Final = Button("pr", "a|d|ay|dy|dr|n|u|m", PROPOSAL_ID)
PROPOSALS: Final = Button("pr:l")  # the counts by state (/proposals)
PROPOSALS_IN_STATE: Final = Button("pr:l", "submitted|accepted|declined|withdrawn")
PROPOSAL: Final = Button("pr:o", PROPOSAL_ID)  # one request's card
MY_PROPOSALS: Final = Button("pr:my")  # the person's own (/myproposals)
WITHDRAW_ASK: Final = Button("pr:w", PROPOSAL_ID)  # "Withdraw FS-0007?"
WITHDRAW: Final = Button("pr:wy", PROPOSAL_ID)


# -- Speaking-slot requests: handlers/propose.py (their data is unchanged: old buttons in
# people's chats keep working) -----------------------------------------------------------------
STEP_NAME: Final = r"[a-z]{1,16}"  # a step's name; the service refuses one not current
DRAFT_ID: Final = r"\d{1,10}"  # a draft's id; the service refuses one not the presser's
PROPOSE_START: Final = Button("fl:go")  # start or resume a request
STEP_CHOICE: Final = Button("fl:c", STEP_NAME, r"[a-z0-9_-]{1,32}")  # a step's answer button
STEP_BACK: Final = Button("fl:b", STEP_NAME)  # the step before (the summary while changing one)
STEP_EDIT: Final = Button("fl:e", STEP_NAME)  # change one field from the summary
PROPOSE_SUBMIT: Final = Button("fl:s", DRAFT_ID)
PROPOSE_CANCEL: Final = Button("fl:x")  # cancel the request (a finished one asks first)
PROPOSE_CANCEL_ANSWER: Final = Button("fl:x", "[yn]", DRAFT_ID)  # y deletes, n keeps


# -- Live questions to a panel, feedback: handlers/live.py --------------------------------------
QUESTION_ID: Final = r"\d{1,10}"  # a live question's id; the service re-checks its session
LIVE_ROOM: Final = Button("lvs", SLUG)  # "❓ Ask the panel": the session's top questions
LIVE_ASK: Final = Button("lvq", SLUG)  # the next text is a question for this session
LIVE_ANONYMOUS: Final = Button("lvn")  # ask anonymously (or not), while typing
LIVE_CANCEL: Final = Button("lvx")  # stop typing a question, a comment or a reason
LIVE_VOTE: Final = Button("lvv", SLUG, QUESTION_ID)  # 👍, pressed again to take it back
LIVE_MODERATE: Final = Button("lvm", SLUG)  # a moderator's ranked list
LIVE_SESSIONS: Final = Button("lvm")  # the sessions a moderator moderates
# ap: approve, hd: hide (a reason for the author is asked next), an: answered, pn: pin next.
LIVE_ACTION: Final = Button("lva", "ap|hd|an|pn", SLUG, QUESTION_ID)
LIVE_NO_REASON: Final = Button("lvh")  # hide without a reason
LIVE_STATE: Final = Button("lvo", "open|closed|mod1|mod0", SLUG)
LIVE_SCREEN: Final = Button("lvk", SLUG)  # the projector page's link
LIVE_RATE: Final = Button("lvf", SLUG, "[1-5]")  # feedback: 1 to 5 stars
LIVE_COMMENT: Final = Button("lvc", SLUG)  # feedback: the next text is a comment
