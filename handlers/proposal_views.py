"""The views of speaking-slot requests: the request's card (in the organizers' group and in
private), its decision buttons and their confirmations, and the labels other views share."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, User

from bot.content import Content
from bot.i18n import DEFAULT_LANGUAGE, Html, plain, t
from bot.models import Proposal, ProposalEvent
from bot.proposals import (
    DECLINE,
    NOTE_MAX_LENGTH,
    UNDO_WINDOW,
    ProposalError,
    ProposalState,
    undoable,
)
from handlers import callbacks, views

# Requests are shown in the organizers' group in one language for everyone.
GROUP_LANGUAGE: Final = DEFAULT_LANGUAGE


def undo_minutes() -> int:
    return int(UNDO_WINDOW.total_seconds() // 60)


def _time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def state_label(state: str, lang: str) -> str:
    return plain(f"proposals.state.{state}", lang)


def spot_label(content: Content, session_id: str | None, lang: str) -> str:
    session = content.session(session_id) if session_id else None
    if session is None:
        return plain("proposals.no_preference", lang)
    # A drafted time says so wherever it shows (the card is read without the draft note).
    return f"{views.session_when(content, session, lang)} · {session.title.get(lang)}"


def format_label(content: Content, format_id: str | None, lang: str) -> str:
    found = content.proposal_format(format_id) if format_id else None
    return found.label.get(lang) if found else (format_id or plain("proposals.none", lang))


def error_text(error: ProposalError, lang: str) -> Html:
    values = dict(error.values)
    if "state" in values:
        values["state"] = plain(f"proposals.state.{values['state']}", lang)
    return t(f"proposals.error.{error.code}", lang, **values)


# -- rendering ----------------------------------------------------------------------------------


def card_text(content: Content, proposal: Proposal, lang: str) -> Html:
    """Every field of a request, user text escaped, plus who changed its state and when."""
    none = plain("proposals.none", lang)
    text = t(
        "proposals.card",
        lang,
        reference=proposal.reference,
        state=state_label(proposal.state, lang),
        title=proposal.title,
        name=proposal.name or none,
        organization=proposal.organization or none,
        sector=plain(f"proposals.sector.{proposal.sector}", lang),
        email=proposal.email or none,
        format=format_label(content, proposal.format_id, lang),
        spot=spot_label(content, proposal.session_id, lang),
        link=proposal.link or none,
        summary=proposal.summary,
        user_id=proposal.user_id or none,
        language=proposal.language,
        submitted=_time(proposal.created_at),
    )
    changes = [_change_line(event, lang) for event in proposal.events[1:]]
    return Html(views.fit("\n\n".join([text, *changes])))


def _change_line(event: ProposalEvent, lang: str) -> str:
    actor = event.actor_name or event.actor_id or plain("proposals.none", lang)
    if event.state == ProposalState.SUBMITTED.value:  # only ever an undone decision
        return t("proposals.card.undone", lang, actor=actor, time=_time(event.at))
    line: str = t(
        "proposals.card.decision",
        lang,
        state=state_label(event.state, lang),
        actor=actor,
        time=_time(event.at),
    )
    if event.note:
        line += "\n" + t("proposals.card.note", lang, note=event.note)
    return line


def decision_keyboard(proposal: Proposal, lang: str) -> InlineKeyboardMarkup | None:
    """Accept / Decline while submitted; Undo for a few minutes after a decision; a message
    to the speaker while they can still be reached."""
    rows: list[list[InlineKeyboardButton]] = []
    if proposal.state == ProposalState.SUBMITTED.value:
        rows.append(
            [
                views.button(
                    plain("proposals.button.accept", lang), callbacks.DECIDE.data("a", proposal.id)
                ),
                views.button(
                    plain("proposals.button.decline", lang),
                    callbacks.DECIDE.data("d", proposal.id),
                ),
            ]
        )
    elif undoable(proposal):
        label = plain("proposals.button.undo", lang, minutes=undo_minutes())
        rows.append([views.button(label, callbacks.DECIDE.data("u", proposal.id))])
    if proposal.user_id is not None and proposal.state != ProposalState.WITHDRAWN.value:
        label = plain("proposals.button.message", lang)
        rows.append([views.button(label, callbacks.DECIDE.data("m", proposal.id))])
    return InlineKeyboardMarkup(rows) if rows else None


def card_view(content: Content, proposal: Proposal, lang: str, *, back: bool) -> views.View:
    """A request's card with Accept / Decline while it is submitted (and a way back)."""
    keyboard = decision_keyboard(proposal, lang)
    rows: list[Sequence[InlineKeyboardButton]] = list(keyboard.inline_keyboard) if keyboard else []
    if back:
        back_to_list = callbacks.PROPOSALS_IN_STATE.data(proposal.state)
        rows.append([views.button(plain("proposals.button.back", lang), back_to_list)])
    return views.View(
        card_text(content, proposal, lang), InlineKeyboardMarkup(rows) if rows else None
    )


def confirm_view(content: Content, proposal: Proposal, lang: str, action: str) -> views.View:
    """ "Accept FS-0007?" / "Decline FS-0007?" (with or without a reason) under the card."""
    reference = proposal.reference
    not_now = [
        views.button(
            plain("proposals.button.not_now", lang), callbacks.DECIDE.data("n", proposal.id)
        )
    ]
    if action == "a":
        question = t("proposals.confirm.accept", lang, reference=reference)
        yes = plain("proposals.button.accept_yes", lang, reference=reference)
        rows = [[views.button(yes, callbacks.DECIDE.data("ay", proposal.id))], not_now]
    elif action == "d":
        question = t("proposals.confirm.decline", lang, reference=reference)
        rows = [
            [
                views.button(
                    plain("proposals.button.decline_reason", lang),
                    callbacks.DECIDE.data("dr", proposal.id),
                )
            ],
            [
                views.button(
                    plain("proposals.button.decline_no_reason", lang, reference=reference),
                    callbacks.DECIDE.data("dy", proposal.id),
                )
            ],
            not_now,
        ]
    elif action == "dr":
        question = t("proposals.prompt.reason", lang, reference=reference, high=NOTE_MAX_LENGTH)
        rows = [
            [
                views.button(
                    plain("proposals.button.decline_no_reason", lang, reference=reference),
                    callbacks.DECIDE.data("dy", proposal.id),
                )
            ],
            not_now,
        ]
    else:  # "m"
        question = t("proposals.prompt.message", lang, reference=reference, high=NOTE_MAX_LENGTH)
        rows = [not_now]
    text = f"{card_text(content, proposal, lang)}\n\n{question}"
    return views.View(views.fit(text), InlineKeyboardMarkup(rows))


# -- the lists: /proposals (organizers) and /myproposals (the person's own) ---------------------


def overview_view(counts: Mapping[ProposalState, int], lang: str) -> views.View:
    """/proposals: counts by state, with a button per state."""
    text = t("proposals.list.title", lang, **{state.value: n for state, n in counts.items()})
    rows = [
        [
            views.button(
                plain("proposals.button.state", lang, state=state_label(state, lang), count=n),
                callbacks.PROPOSALS_IN_STATE.data(state.value),
            )
        ]
        for state, n in counts.items()
    ]
    return views.View(text, InlineKeyboardMarkup(rows))


def state_list_view(state: ProposalState, found: Sequence[Proposal], lang: str) -> views.View:
    """The requests in one state, one button each, and the way back to the counts."""
    rows = [
        [views.button(f"{p.reference} · {p.title}", callbacks.PROPOSAL.data(p.id))] for p in found
    ]
    overview = callbacks.PROPOSALS.data()
    rows.append([views.button(plain("proposals.button.list", lang), overview)])
    text = t("proposals.list.state", lang, state=state_label(state.value, lang), count=len(found))
    return views.View(text, InlineKeyboardMarkup(rows))


def mine_view(mine: Sequence[Proposal], lang: str) -> views.View:
    """/myproposals: the person's requests and states, with Withdraw while submitted."""
    if not mine:
        return views.View(t("proposals.mine.empty", lang), views.main_menu(lang))
    lines = [t("proposals.mine.title", lang), ""]
    rows = []
    for proposal in mine:
        lines.append(
            t(
                "proposals.mine.item",
                lang,
                reference=proposal.reference,
                title=proposal.title,
                state=state_label(proposal.state, lang),
            )
        )
        if proposal.state == ProposalState.SUBMITTED.value:
            label = plain("proposals.button.withdraw", lang, reference=proposal.reference)
            rows.append([views.button(label, callbacks.WITHDRAW_ASK.data(proposal.id))])
    rows.append(views.back_row(lang))
    return views.View(views.fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def withdraw_confirm_view(proposal: Proposal, lang: str, *, told: bool) -> views.View:
    """Withdraw? Asked once, since it cannot be undone ("the organizers will be told" when
    there is a group to tell them in)."""
    keyboard = InlineKeyboardMarkup(
        [
            [
                views.button(
                    plain("proposals.button.withdraw_confirm", lang),
                    callbacks.WITHDRAW.data(proposal.id),
                )
            ],
            [views.button(plain("proposals.button.keep", lang), callbacks.MY_PROPOSALS.data())],
        ]
    )
    key = "proposals.withdraw.confirm" if told else "proposals.withdraw.confirm_stored"
    text = t(key, lang, reference=proposal.reference, title=proposal.title)
    return views.View(text, keyboard)


def reply_prompt_text(user: User, proposal: Proposal, action: str, lang: str) -> Html:
    """In the organizers' group: "@who, reply to this message with the reason (or the
    message for the speaker) of FS-0007" (`action`: DECLINE or MESSAGE)."""
    mention = f'<a href="tg://user?id={user.id}">{html.escape(user.first_name)}</a>'
    key = (
        "proposals.prompt.reply_reason" if action == DECLINE else "proposals.prompt.reply_message"
    )
    return t(key, lang, who=Html(mention), reference=proposal.reference)


def decided_notice(proposal: Proposal, lang: str) -> str:
    """The toast after a decision: its new state, and how long it can be undone."""
    return plain(
        "proposals.decided",
        lang,
        reference=proposal.reference,
        state=state_label(proposal.state, lang),
        minutes=undo_minutes(),
    )
