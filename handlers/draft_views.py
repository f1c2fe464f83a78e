"""The views of a speaking-slot request being written: each step as its declaration in
bot/proposal_flow.py says (progress, prompt, answer buttons, back and cancel), the summary
with its change buttons, and the cancel confirmation (handlers/propose.py sends them)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Content
from bot.i18n import Html, plain, t
from bot.models import ProposalDraft
from bot.proposal_flow import KEEP, SKIP, Flow
from bot.proposals import Step, StepSource, step_of
from handlers import callbacks, views
from handlers.proposal_views import format_label, spot_label

# /start floor (https://t.me/<bot>?start=floor): starts or resumes a request.
DEEP_LINK: Final = "floor"


def _answer_rows(source: StepSource, draft: ProposalDraft, lang: str) -> list[tuple[str, str]]:
    """(label, value) of the step's answer buttons, one per row."""
    entry = source.flow[draft.step]
    rows = entry.options(source, draft, lang)
    if entry.typed and draft.held and entry.accepts(draft.held):
        # A text taken for a question (and answered): one tap makes it the answer after all.
        field = plain(f"proposals.field.{entry.name.value}", lang).lower()
        rows.append((plain("proposals.button.use_held", lang, text=draft.held, field=field), KEEP))
    if entry.skippable:
        rows.append((plain("proposals.button.skip", lang), SKIP))
    return rows


@functools.cache
def _nav_row(
    step: Step, lang: str, editing: bool = False, first: bool = False
) -> tuple[InlineKeyboardButton, ...]:
    if editing:
        # Changing one field of a finished request: back to the summary, nothing lost.
        return (
            views.button(
                plain("proposals.button.back_to_summary", lang), callbacks.STEP_BACK.data(step)
            ),
        )
    cancel_button = views.button(
        plain("proposals.button.cancel", lang), callbacks.PROPOSE_CANCEL.data()
    )
    if first:  # nothing before it
        return (cancel_button,)
    return (
        views.button(plain("proposals.button.back", lang), callbacks.STEP_BACK.data(step)),
        cancel_button,
    )


def _progress(flow: Flow, draft: ProposalDraft, lang: str) -> Html:
    """ "Step 6 of 10", its place among the flow's questions."""
    if draft.editing:
        return t("proposals.progress_editing", lang)
    number, total = flow.progress(step_of(draft))
    return t("proposals.progress", lang, number=number, total=total)


def question_view(
    source: StepSource, draft: ProposalDraft, lang: str, lead: str | None = None
) -> views.View:
    """The current step's question (or the summary), with its buttons."""
    step = step_of(draft)
    if step is Step.REVIEW:
        return review_view(source, draft, lang, lead)
    flow = source.flow
    key, values = flow[step].question(source, draft, lang)
    prompt = t(key, lang, **values)
    text = "\n\n".join(part for part in (lead, _progress(flow, draft, lang), prompt) if part)
    rows: list[Sequence[InlineKeyboardButton]] = [
        [views.button(label, callbacks.STEP_CHOICE.data(step, value))]
        for label, value in _answer_rows(source, draft, lang)
    ]
    rows.append(_nav_row(step, lang, bool(draft.editing), step is flow.first))
    return views.View(views.fit(text), InlineKeyboardMarkup(rows))


def cancel_confirm_view(draft: ProposalDraft, lang: str) -> views.View:
    """Cancel a request with answers? Everything typed would be deleted."""
    at_summary = draft.step == Step.REVIEW.value or bool(draft.editing)
    yes = plain("proposals.button.cancel_yes", lang)
    no = plain(
        "proposals.button.cancel_no" if at_summary else "proposals.button.cancel_no_step", lang
    )
    keyboard = InlineKeyboardMarkup(
        [
            [views.button(yes, callbacks.PROPOSE_CANCEL_ANSWER.data("y", draft.id))],
            [views.button(no, callbacks.PROPOSE_CANCEL_ANSWER.data("n", draft.id))],
        ]
    )
    if at_summary and draft.title:
        text = t("proposals.cancel_confirm", lang, title=draft.title)
    else:
        text = t("proposals.cancel_confirm_unfinished", lang)
    return views.View(text, keyboard)


def _sector_label(_: Content, sector: str | None, lang: str) -> str:
    return plain(f"proposals.sector.{sector}" if sector else "proposals.none", lang)


# How a pressed answer reads in the summary (a typed one reads as it was typed).
_CHOSEN: Final[dict[Step, Callable[[Content, str | None, str], str]]] = {
    Step.SECTOR: _sector_label,
    Step.FORMAT: format_label,
    Step.SPOT: spot_label,
}


def _summary_values(source: StepSource, draft: ProposalDraft, lang: str) -> dict[str, str]:
    """Each answer for the summary, by the name of its step (the summary's placeholders)."""
    none = plain("proposals.none", lang)
    values: dict[str, str] = {}
    for entry in source.flow.editable:
        answer = entry.answer(draft)
        text = answer if isinstance(answer, str) else None
        label = _CHOSEN.get(entry.name)
        values[entry.name.value] = label(source.content, text, lang) if label else text or none
    return values


def _edit_button(step: Step, lang: str) -> InlineKeyboardButton:
    field = plain(f"proposals.field.{step.value}", lang)
    return views.button(
        plain("proposals.button.edit", lang, field=field), callbacks.STEP_EDIT.data(step.value)
    )


def review_view(
    source: StepSource, draft: ProposalDraft, lang: str, lead: str | None = None
) -> views.View:
    """Everything entered, with submit, one change button per field, back and cancel."""
    text = t("proposals.review", lang, **_summary_values(source, draft, lang))
    edits = [_edit_button(entry.name, lang) for entry in source.flow.editable]
    rows: list[Sequence[InlineKeyboardButton]] = [
        [
            views.button(
                plain("proposals.button.submit", lang), callbacks.PROPOSE_SUBMIT.data(draft.id)
            )
        ]
    ]
    rows += [edits[i : i + 3] for i in range(0, len(edits), 3)]
    rows.append(_nav_row(Step.REVIEW, lang))
    body = f"{lead}\n\n{text}" if lead else text
    return views.View(views.fit(body), InlineKeyboardMarkup(rows))


def invite_view(bot_username: str | None, lang: str) -> views.View:
    """In a group: a link to the private chat, where the request is made."""
    url = f"https://t.me/{bot_username}?start={DEEP_LINK}"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain("proposals.button.start", lang), url=url)]]
    )
    return views.View(t("proposals.private_only", lang), keyboard)
