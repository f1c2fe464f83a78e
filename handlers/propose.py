"""The floor is yours: the speaking-slot request conversation, one step at a time.

No state is kept in memory: every answer goes to DraftConversation, which saves it to the
person's draft with the next step. Each handler reads the draft back, so a restarted bot picks
up exactly where the person left off.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

from telegram import Update
from telegram.constants import ChatType

from bot.i18n import Html, plain, t
from bot.models import ProposalDraft
from bot.proposal_flow import SUMMARY_LENGTH
from bot.proposals import (
    DraftConversation,
    InvalidAnswer,
    NoDraft,
    Outcome,
    ProposalError,
    StaleButton,
    Step,
    TooManyOpen,
    has_answers,
)
from bot.textmatch import fold
from handlers import views
from handlers.answer_views import render_answer
from handlers.callbacks import Button
from handlers.common import answer_press, show, viewer_for
from handlers.context import FocusContext, wake_outbox
from handlers.draft_views import cancel_confirm_view, invite_view, question_view
from handlers.proposal_views import error_text

log = logging.getLogger(__name__)

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
NOT_AN_ANSWER: Final = frozenset(
    {"nav:greeting", "nav:thanks", "nav:ack", "nav:propose", "nav:help"}
)


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
    view = invite_view(context.bot.username, context.lang)
    await chat.send_message(view.text, reply_markup=view.keyboard)


async def answer_step(update: Update, context: FocusContext) -> bool:
    """The open draft takes the text (an answer, "back", a question answered aside, or an
    answer refused with its reason, the step asked again); False without an open draft.
    A draft left a while ago raises DormantDraft: the text is then a question
    (handlers/routes.py), and `say_dormant` follows its answer.

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
    viewer = await viewer_for(update, context, [key])
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


async def say_dormant(update: Update, context: FocusContext) -> None:
    """Under the answer to a text typed while a draft waits: the request is still there."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(t("proposals.dormant", context.lang))


async def media_during_step(update: Update, context: FocusContext) -> bool:
    """A photo or sticker in private during the flow: say a typed answer is needed and ask
    the same question again, and True; False without an open draft (only text is read)."""
    user = update.effective_user
    service = context.services.drafts
    # No draft, as read with the person in this update's first step: no second read.
    may_have_draft = user is not None and _private(update) and context.has_draft is not False
    draft = await service.active_draft(user.id) if user and may_have_draft else None
    if draft is None:
        return False
    lead = t("proposals.not_text", context.lang)
    await show(update, question_view(service.source(draft), draft, context.lang, lead), edit=False)
    return True


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
    (/cancel comes through handlers/routes.py: an organizer's awaited note goes first.)
    """
    user, query = update.effective_user, update.callback_query
    if user is None:
        if query:
            await query.answer()
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
