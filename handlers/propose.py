"""The floor is yours: the speaking-slot request conversation, one step at a time.

No state is kept in memory: every answer goes to DraftConversation, which saves it to the
person's draft with the next step. Each handler reads the draft back, so a restarted bot picks
up exactly where the person left off.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType

from bot.content import Content
from bot.i18n import Html, plain, t
from bot.models import ProposalDraft
from bot.proposal_flow import KEEP, SKIP, SUMMARY_LENGTH, Flow
from bot.proposals import (
    DormantDraft,
    DraftConversation,
    InvalidAnswer,
    NoDraft,
    Outcome,
    ProposalError,
    StaleButton,
    Step,
    StepSource,
    TooManyOpen,
    has_answers,
    step_of,
)
from bot.textmatch import fold
from handlers import agenda, ask, callbacks, organize, views
from handlers.ask import render_answer
from handlers.callbacks import Button
from handlers.common import answer_press, show
from handlers.context import FocusContext, wake_outbox
from handlers.proposal_views import error_text, format_label, spot_label

log = logging.getLogger(__name__)

DEEP_LINK: Final = "floor"
# A typed answer "looks like a question" when it ends with "?", starts with "¿", or starts
# with one of these (folded: lower case, no accents), in en / es / ca.
QUESTION_OPENERS: Final = frozenset(
    {
        "what", "whats", "when", "where", "who", "whos", "which", "why", "how", "is", "are",
        "can", "could", "do", "does", "will", "que", "cuando", "donde", "quien", "quienes",
        "cual", "cuales", "como", "cuanto", "cuantos", "cuanta", "cuantas", "hay", "puedo",
        "quan", "on", "qui", "quin", "quina", "quins", "quines", "com", "quant", "quants",
        "quanta", "quantes", "puc",
    }
)  # fmt: skip
QUESTION_MAX_LENGTH: Final = 200
# Answers that are no answer to a question typed mid-flow: small talk, and the flow itself.
NOT_AN_ANSWER: Final = frozenset({"nav:greeting", "nav:thanks", "nav:propose", "nav:help"})


def looks_like_question(text: str) -> bool:
    """Shaped like a question: "when is the event?", "¿dónde es?", "quan comença"."""
    stripped = text.strip()
    if not stripped or len(stripped) > QUESTION_MAX_LENGTH:
        return False
    if stripped.endswith("?") or stripped.startswith("¿"):
        return True
    words = fold(stripped).split()
    return bool(words) and words[0] in QUESTION_OPENERS


def question_answer(context: FocusContext, text: str) -> str | None:
    """The answer key for a text typed mid-flow, if it is a question the content answers
    with confidence; None for anything that should be taken as the step's answer."""
    if not looks_like_question(text):
        return None
    result = context.services.content.index.answer(text)
    if result.best is None or result.best.key in NOT_AN_ANSWER:
        return None
    return result.best.key


# -- rendering: every step as its declaration in bot/proposal_flow.py says -------------------


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


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


# -- entry points -------------------------------------------------------------------------------


async def propose(update: Update, context: FocusContext) -> None:
    """/propose, the menu button and /start floor: start a request, or resume the open one."""
    query = update.callback_query
    user = update.effective_user
    lang = context.lang
    if user is None:
        return
    if not _private(update):
        if query:
            await query.answer()
        await _invite_to_private(update, context)
        return
    service = context.services.drafts
    try:
        draft, existing = await service.start_or_resume(user.id, update.update_id)
    except TooManyOpen as error:
        if query:
            await query.answer()
        await show(update, views.View(error_text(error, lang), views.main_menu(lang)), edit=False)
        return
    if query:
        await query.answer()
    if existing:
        lead = t("proposals.resume", lang)
    else:
        lead = t("proposals.intro", lang, questions=len(service.flow.questions))
    await show(update, question_view(service.source(draft), draft, lang, lead), edit=False)


async def _invite_to_private(update: Update, context: FocusContext) -> None:
    """In a group: a link to the private chat, where the request is made."""
    chat = update.effective_chat
    if chat is None:
        return
    url = f"https://t.me/{context.bot.username}?start={DEEP_LINK}"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(plain("proposals.button.start", context.lang), url=url)]]
    )
    await chat.send_message(t("proposals.private_only", context.lang), reply_markup=keyboard)


async def private_text(update: Update, context: FocusContext) -> None:
    """Private text, tried in this order: an organizer's awaited note (handlers/organize.py);
    the answer to the open draft's step; otherwise a question for the answer engine (which
    also knows "what's on now").

    A draft left a while ago lets the text through as a question, and says it is waiting.
    """
    if await organize.take_typed_note(update, context):
        return
    try:
        if await _answer_step(update, context):
            return
    except DormantDraft:
        await ask.question(update, context)
        if update.effective_message is not None:
            await update.effective_message.reply_text(t("proposals.dormant", context.lang))
        return
    await ask.question(update, context)


async def _answer_step(update: Update, context: FocusContext) -> bool:
    """The open draft takes the text (an answer, "back", a question answered aside, or an
    answer refused with its reason, the step asked again); False without an open draft.

    "back" / "atrás" / "enrere" go back a step; a question about the event is answered and
    kept aside (one tap makes it the answer if it was meant as one).
    """
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or message.text is None or not _private(update):
        return False
    if context.has_draft is False:  # read with the person, in this update's first step
        return False
    service, lang, text = context.services.drafts, context.lang, message.text
    answer_key: list[str] = []

    def is_question(step: Step) -> bool:
        if step is Step.SUMMARY and len(text) >= SUMMARY_LENGTH[0]:
            return False  # a summary may well ask something: it is the answer
        key = question_answer(context, text)
        if key is not None:
            answer_key.append(key)
        return key is not None

    lead: Html | None = None
    try:
        replied = await service.reply_if_active(user.id, text, is_question, update.update_id)
    except InvalidAnswer as error:
        # The same question again, under the reason: nothing typed before is lost.
        draft = await service.draft_of(user.id)
        lead = error_text(error, lang)
    else:
        if replied is None:
            return False
        draft, outcome = replied
        if outcome is Outcome.QUESTION:
            await _answer_aside(update, context, answer_key[0])
            lead = t("proposals.question_aside", lang)
        elif outcome is Outcome.FIRST:
            lead = t("proposals.first_step", lang)
    if draft is None:
        return False
    await show(update, question_view(service.source(draft), draft, lang, lead), edit=False)
    return True


async def _answer_aside(update: Update, context: FocusContext, key: str) -> None:
    """The answer to a question typed mid-flow, as its own message (the step follows)."""
    store = context.services.content
    viewer = await agenda.viewer_for(update, context, [key])
    view = render_answer(store.content, key, context.lang, viewer)
    if view is not None:
        # With its buttons (a list's items are buttons); the step is asked again below it.
        await show(update, view, edit=False)


async def back_command(update: Update, context: FocusContext) -> None:
    """/back: the previous step of the open request (or the summary while changing a field)."""
    user = update.effective_user
    if user is None:
        return
    service, lang = context.services.drafts, context.lang
    # An explicit command: it also goes back in a draft left a while ago.
    went_back = (
        await service.back_if_active(user.id, only_active=False, update_id=update.update_id)
        if _private(update)
        else None
    )
    if went_back is None:
        await show(update, views.View(t("proposals.no_request", lang), views.main_menu(lang)))
        return
    draft, moved = went_back
    lead = None if moved else t("proposals.first_step", lang)
    await show(update, question_view(service.source(draft), draft, lang, lead), edit=False)


async def private_media(update: Update, context: FocusContext) -> None:
    """A photo or sticker in private: during the flow, say a typed answer is needed and ask
    the same question again; otherwise that only text is read (handlers/ask.py)."""
    user = update.effective_user
    service = context.services.drafts
    # No draft, as read with the person in this update's first step: no second read.
    may_have_draft = user is not None and _private(update) and context.has_draft is not False
    draft = await service.active_draft(user.id) if user and may_have_draft else None
    if draft is None:
        await ask.not_text(update, context)
        return
    lead = t("proposals.not_text", context.lang)
    await show(update, question_view(service.source(draft), draft, context.lang, lead), edit=False)


# -- buttons ------------------------------------------------------------------------------------


async def _after_button(
    update: Update,
    context: FocusContext,
    action: Callable[[DraftConversation, int, int], Awaitable[ProposalDraft]],
) -> None:
    """Run one draft change for a button; stale or forged buttons show the current step."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    if user is None:
        await query.answer()
        return
    service, lang = context.services.drafts, context.lang
    try:
        draft = await action(service, user.id, update.update_id)
    except NoDraft as error:
        await answer_press(update, plain(f"proposals.error.{error.code}", lang), alert=True)
        return
    except ProposalError as error:
        await query.answer()
        await _ask_again(update, context, user.id, error_text(error, lang))
        return
    await query.answer()
    await show(update, question_view(service.source(draft), draft, lang))


async def _ask_again(update: Update, context: FocusContext, user_id: int, lead: str) -> None:
    """The person's current step again, under why their press did not count."""
    service = context.services.drafts
    draft = await service.draft_of(user_id)
    if draft is not None:
        await show(
            update, question_view(service.source(draft), draft, context.lang, lead), edit=False
        )


async def choose(update: Update, context: FocusContext) -> None:
    """A button answer: sector, format, skip link, consent, best spot."""
    step, value = Button.fields(context)
    await _after_button(update, context, lambda s, uid, up: s.choose(uid, step, value, up))


async def back(update: Update, context: FocusContext) -> None:
    """The previous step (or the summary while changing one field)."""
    (step,) = Button.fields(context)
    await _after_button(update, context, lambda s, uid, up: s.back(uid, step, up))


async def edit(update: Update, context: FocusContext) -> None:
    """Change one field from the summary."""
    (step,) = Button.fields(context)
    await _after_button(update, context, lambda s, uid, up: s.edit(uid, step, up))


async def submit(update: Update, context: FocusContext) -> None:
    """Turn the draft into a request (once), confirm with its reference, tell the organizers."""
    query, user = update.callback_query, update.effective_user
    assert query is not None
    (draft_id,) = Button.fields(context)
    if user is None:
        await query.answer()
        return
    service, lang = context.services.drafts, context.lang
    try:
        proposal = await service.submit(user.id, int(draft_id), lang)
    except NoDraft as error:
        await answer_press(update, plain(f"proposals.error.{error.code}", lang), alert=True)
        return
    except TooManyOpen as error:
        await query.answer()
        await show(update, views.View(error_text(error, lang), views.main_menu(lang)))
        return
    except StaleButton as error:
        await query.answer()
        await _ask_again(update, context, user.id, error_text(error, lang))
        return
    await query.answer()
    # Honest about where it went: without an organizers' group it is only stored.
    posted = context.services.settings.organizer_chat_id is not None
    key = "proposals.submitted" if posted else "proposals.submitted_stored"
    text = t(key, lang, reference=proposal.reference)
    await show(update, views.View(text, views.main_menu(lang)))
    wake_outbox(context.application)  # the organizers' card, queued with the request


async def cancel(update: Update, context: FocusContext) -> None:
    """/cancel or the Cancel button: delete the draft and everything typed so far.

    A request with any answer in it is deleted only after a confirmation (`cancel_answer`).
    """
    user, query = update.effective_user, update.callback_query
    if user is None:
        if query:
            await query.answer()
        return
    if query is None and await organize.drop_typed_note(update, context):
        return
    service, lang = context.services.drafts, context.lang
    draft = await service.draft_of(user.id)
    if query:
        await query.answer()
    if draft is not None and has_answers(draft, service.flow):
        await show(update, cancel_confirm_view(draft, lang), edit=query is not None)
        return
    cancelled = await service.cancel(user.id) if draft is not None else False
    key = "proposals.cancelled" if cancelled else "proposals.nothing_to_cancel"
    await show(update, views.View(t(key, lang), views.main_menu(lang)))


async def cancel_answer(update: Update, context: FocusContext) -> None:
    """ "Delete it?" answered. The buttons name the draft: an old one never deletes a newer
    draft, and only the presser's own draft is ever deleted."""
    query, user = update.callback_query, update.effective_user
    assert query is not None
    answer, number = Button.fields(context)
    await query.answer()
    if user is None:
        return
    service, lang, draft_id = context.services.drafts, context.lang, int(number)
    if answer == "y" and await service.cancel(user.id, draft_id):
        await show(update, views.View(t("proposals.cancelled", lang), views.main_menu(lang)))
        return
    draft = await service.draft_of(user.id)
    if draft is None:
        await show(
            update, views.View(t("proposals.nothing_to_cancel", lang), views.main_menu(lang))
        )
        return
    # "No, keep it" (or a confirmation left from an earlier draft): where the person is now.
    lead = t("proposals.kept", lang) if draft.id == draft_id else error_text(StaleButton(), lang)
    await show(update, question_view(service.source(draft), draft, lang, lead))
