"""Organizers decide on speaking-slot requests; people follow and withdraw their own.

Every button here is re-checked: its pattern lets through only what a real button carries,
the presser's numeric id is compared with ORGANIZER_IDS / ADMIN_IDS (or with the request's
owner), and the service refuses changes that do not fit the request's state.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from telegram import (
    InputFile,
    Update,
    User,
)
from telegram.constants import ChatType

from bot.i18n import DEFAULT_LANGUAGE, plain, t
from bot.models import Proposal
from bot.proposals import (
    DECLINE,
    MESSAGE,
    NOTE_MAX_LENGTH,
    EmptyNote,
    ProposalError,
    ProposalNotFound,
    ProposalState,
    TooLate,
    WrongState,
    clean_text,
)
from bot.settings import Settings
from handlers import views
from handlers.callbacks import Button
from handlers.common import answer_press, show
from handlers.context import FocusContext, wake_outbox
from handlers.proposal_views import (
    GROUP_LANGUAGE,
    card_view,
    confirm_view,
    decided_notice,
    error_text,
    mine_view,
    overview_view,
    reply_prompt_text,
    state_list_view,
    undo_minutes,
    withdraw_confirm_view,
)

log = logging.getLogger(__name__)


def organizer_chat_warning(settings: Settings) -> str | None:
    """What to log at start-up when requests would be posted nowhere (None when all is set)."""
    if settings.organizer_chat_id is not None:
        return None
    deciders = len(settings.organizer_ids | settings.admin_ids)
    key = "proposals.warning.no_organizer_chat" if deciders else "proposals.warning.no_organizers"
    return plain(key, DEFAULT_LANGUAGE, count=deciders)


# -- the organizers' group ----------------------------------------------------------------------


def actor_name(user: User) -> str:
    """The organizer's name as the request's history keeps it: no control characters (a
    NUL is refused by PostgreSQL), within the column's 100 characters."""
    return clean_text(user.full_name)[:100] or str(user.id)


def _is_organizer(update: Update, context: FocusContext) -> bool:
    user = update.effective_user
    return user is not None and context.services.settings.is_organizer(user.id)


async def _refuse(update: Update, context: FocusContext) -> None:
    """A short refusal: an alert for a button, a reply for a command."""
    text = plain("proposals.organizers_only", context.lang)
    if update.callback_query:
        await answer_press(update, text, alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text, parse_mode=None)  # plain text


async def _answer_error(update: Update, context: FocusContext, error: ProposalError) -> None:
    assert update.callback_query is not None
    text = error_text(error, context.lang)
    await answer_press(update, re.sub(r"<[^>]+>", "", text)[:200], alert=True)


async def decide(update: Update, context: FocusContext) -> None:
    """Every decision button: organizers only, re-checked on each press.

    Accept and Decline first ask "Accept FS-0007?" / "Decline FS-0007?"; a decline may carry
    a reason typed next (the wait is stored, so any worker takes that message). A decision
    can be undone for a few minutes; the speaker then gets a correction if they were told.
    """
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not _is_organizer(update, context):
        await _refuse(update, context)
        return
    action, number = Button.fields(context)
    proposal_id = int(number)
    service = context.services.reviews
    try:
        if action in ("a", "d", "n"):
            if action == "n":
                await service.drop_prompt(user.id, proposal_id)
            await _show_card_or_question(update, context, proposal_id, action)
        elif action in ("ay", "dy"):
            await service.drop_prompt(user.id, proposal_id)
            proposal = await service.decide(
                proposal_id, user.id, actor_name(user), accept=action == "ay"
            )
            await answer_press(update, decided_notice(proposal, context.lang))
            await _after_change(update, context, proposal)  # the speaker's notice is queued
        elif action in ("dr", "m"):
            await _ask_for_text(
                update, context, proposal_id, DECLINE if action == "dr" else MESSAGE
            )
        else:  # "u"
            proposal, undone = await service.undo(proposal_id, user.id, actor_name(user))
            # Told already: a correction is queued; otherwise the notice was withdrawn.
            corrected = undone.told_at is not None and proposal.user_id is not None
            key = "proposals.undone_told" if corrected else "proposals.undone"
            await answer_press(update, plain(key, context.lang, reference=proposal.reference))
            await _after_change(update, context, proposal)
    except ProposalError as error:
        await _answer_error(update, context, error)
        if isinstance(error, (WrongState, TooLate)):
            # The card is out of date (decided by someone else, undo too late): refresh it.
            proposal_now = await context.services.requests.get(proposal_id)
            if proposal_now is not None:
                await service.refresh_card(proposal_id)  # through the outbox, woken next
                await _after_change(update, context, proposal_now)


async def _show_card_or_question(
    update: Update, context: FocusContext, proposal_id: int, action: str
) -> None:
    """ "Accept FS-0007?" / "Decline FS-0007?" in place of the card's buttons, or the card
    again ("Not now")."""
    query = update.callback_query
    assert query is not None
    proposal = await context.services.requests.get(proposal_id)
    if proposal is None:
        raise ProposalNotFound()
    if action != "n" and proposal.state != ProposalState.SUBMITTED.value:
        raise WrongState(proposal.state)
    await query.answer()
    content = context.services.content.content
    lang = _card_language(update, context, proposal)
    if action == "n":
        view = card_view(content, proposal, lang, back=not _on_group_card(update, proposal))
    else:
        view = confirm_view(content, proposal, lang, action)
    await show(update, view)


def _on_group_card(update: Update, proposal: Proposal) -> bool:
    message = update.callback_query.message if update.callback_query else None
    return (
        message is not None
        and message.chat.id == proposal.organizer_chat_id
        and message.message_id == proposal.organizer_message_id
    )


def _card_language(update: Update, context: FocusContext, proposal: Proposal) -> str:
    """The group's card is in one language for everyone; a private one in the organizer's."""
    return GROUP_LANGUAGE if _on_group_card(update, proposal) else context.lang


async def _after_change(update: Update, context: FocusContext, proposal: Proposal) -> None:
    """Show the request as it is now on the card pressed; the group's card follows through
    the outbox (the change queued its edit), woken now."""
    if not _on_group_card(update, proposal):
        content = context.services.content.content
        await show(update, card_view(content, proposal, context.lang, back=True))
    wake_outbox(context.application)


async def _ask_for_text(
    update: Update, context: FocusContext, proposal_id: int, action: str
) -> None:
    """Wait for the organizer's next message in this chat: a decline's reason, or a message
    for the speaker. In a group the bot only reads replies to it: a reply is asked for."""
    query, user, chat = update.callback_query, update.effective_user, update.effective_chat
    assert query is not None and user is not None
    if chat is None:
        return
    proposal = await context.services.reviews.await_text(user.id, proposal_id, action, chat.id)
    await query.answer()
    content = context.services.content.content
    lang = _card_language(update, context, proposal)
    await show(update, confirm_view(content, proposal, lang, "dr" if action == DECLINE else "m"))
    if chat.type != ChatType.PRIVATE:
        # A plain message to reply to (the bot reads only replies to it in a group).
        # ForceReply would open the reply for them, but LocalBotApi (terminal chat, tests)
        # stores it as an inline keyboard and cannot read it back.
        await chat.send_message(reply_prompt_text(user, proposal, action, lang))


async def take_typed_note(update: Update, context: FocusContext) -> bool:
    """An organizer's text that answers their pending prompt (a decline's reason, a message
    for the speaker): acted on, and True. False for any other text (handled as usual)."""
    user, chat, message = update.effective_user, update.effective_chat, update.effective_message
    if user is None or chat is None or message is None or message.text is None:
        return False
    if not context.services.settings.is_organizer(user.id):
        return False  # nobody else ever has a prompt: no database read for them
    service = context.services.reviews
    prompt = await service.take_prompt(user.id, chat.id)
    if prompt is None:
        return False
    lang = context.lang if chat.type == ChatType.PRIVATE else GROUP_LANGUAGE
    note = clean_text(message.text, single_line=False)[:NOTE_MAX_LENGTH]
    try:
        if not any(ch.isalnum() for ch in note):
            raise EmptyNote()
        if prompt.action == DECLINE:
            proposal = await service.decide(
                prompt.proposal_id, user.id, actor_name(user), accept=False, note=note
            )
            wake_outbox(context.application)  # the card's edit and the speaker's notice
            told = proposal.user_id is not None
            key = "proposals.declined_with_note" if told else "proposals.declined_not_told"
            await message.reply_text(
                t(key, lang, reference=proposal.reference, minutes=undo_minutes())
            )
            if chat.id != proposal.organizer_chat_id:
                content = context.services.content.content
                await show(update, card_view(content, proposal, lang, back=True), edit=False)
        else:
            found = await context.services.requests.get(prompt.proposal_id)
            if found is None:
                raise ProposalNotFound()
            try:  # queued in the outbox, which sends it (and retries it) now
                await service.message_speaker(found.id, note)
            except ProposalNotFound:
                key = "proposals.message_not_sent"  # they asked to be forgotten
            else:
                key = "proposals.message_sent"
                wake_outbox(context.application)
            await message.reply_text(t(key, lang, reference=found.reference))
    except ProposalError as error:
        await message.reply_text(error_text(error, lang))
    return True


async def drop_typed_note(update: Update, context: FocusContext) -> bool:
    """/cancel from an organizer with a pending prompt: nothing is sent, and True."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None or not context.services.settings.is_organizer(user.id):
        return False
    if not await context.services.reviews.drop_prompt(user.id):
        return False
    await message.reply_text(t("proposals.prompt.dropped", context.lang))
    return True


# -- /proposals and /export ---------------------------------------------------------------------


def _organizers_place(update: Update, context: FocusContext) -> bool:
    """A private chat, or the organizers' group: never list requests in another group."""
    chat = update.effective_chat
    if chat is None:
        return False
    return chat.type == ChatType.PRIVATE or chat.id == context.services.settings.organizer_chat_id


async def _refused(update: Update, context: FocusContext, *, valid: bool = True) -> bool:
    """Refuse (and say so) unless the data is valid and an organizer asks in their place."""
    if valid and _is_organizer(update, context) and _organizers_place(update, context):
        return False
    await _refuse(update, context)
    return True


async def proposals(update: Update, context: FocusContext) -> None:
    """/proposals: counts by state, with a button per state."""
    if await _refused(update, context):
        return
    if update.callback_query:
        await update.callback_query.answer()
    counts = await context.services.requests.counts()
    await show(update, overview_view(counts, context.lang))


async def state_list(update: Update, context: FocusContext) -> None:
    """The requests in one state, one button each."""
    if await _refused(update, context):
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    (state_value,) = Button.fields(context)
    state = ProposalState(state_value)
    found = await context.services.requests.with_state(state)
    await show(update, state_list_view(state, found, context.lang))


async def open_card(update: Update, context: FocusContext) -> None:
    """One request's card, with Accept / Decline while it is submitted."""
    if await _refused(update, context):
        return
    (number,) = Button.fields(context)
    proposal = await context.services.requests.get(int(number))
    if proposal is None:
        await _answer_error(update, context, ProposalNotFound())
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    content = context.services.content.content
    await show(update, card_view(content, proposal, context.lang, back=True))


async def export(update: Update, context: FocusContext) -> None:
    """/export: every request as a CSV file."""
    chat = update.effective_chat
    if await _refused(update, context, valid=chat is not None) or chat is None:
        return
    service = context.services.requests
    data = await service.export_csv()
    count = sum((await service.counts()).values())
    name = f"proposals-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.csv"
    await chat.send_document(
        InputFile(data, filename=name),
        caption=t("proposals.export.caption", context.lang, count=count),
    )


# -- the person's own requests ------------------------------------------------------------------


async def my_proposals(update: Update, context: FocusContext) -> None:
    """/myproposals: the person's requests and states, with Withdraw while submitted."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if chat.type != ChatType.PRIVATE:
        # Someone's requests are theirs: never listed where others can read them.
        await chat.send_message(t("proposals.mine_private_only", context.lang))
        return
    if update.callback_query:
        await update.callback_query.answer()
    mine = await context.services.requests.of_person(user.id)
    await show(update, mine_view(mine, context.lang))


async def withdraw_ask(update: Update, context: FocusContext) -> None:
    """Withdraw? Ask once, since it cannot be undone."""
    (number,) = Button.fields(context)
    user = update.effective_user
    proposal = await context.services.requests.get(int(number))
    if proposal is None or user is None or proposal.user_id != user.id:
        await _answer_error(update, context, ProposalNotFound())
        return
    assert update.callback_query is not None
    if proposal.state != ProposalState.SUBMITTED.value:
        await _answer_error(update, context, WrongState(proposal.state))
        return
    await update.callback_query.answer()
    # "The organizers will be told" only where there is a group to tell them in.
    told = context.services.settings.organizer_chat_id is not None
    await show(update, withdraw_confirm_view(proposal, context.lang, told=told))


async def withdraw(update: Update, context: FocusContext) -> None:
    """Withdraw the person's own submitted request; the organizers are told."""
    (number,) = Button.fields(context)
    user = update.effective_user
    if user is None or update.callback_query is None:
        await _answer_error(update, context, ProposalNotFound())
        return
    try:
        proposal = await context.services.reviews.withdraw(int(number), user.id)
    except ProposalError as error:
        await _answer_error(update, context, error)
        return
    await update.callback_query.answer()
    lang = context.lang
    told = context.services.settings.organizer_chat_id is not None
    key = "proposals.withdraw.done" if told else "proposals.withdraw.done_listed"
    text = t(key, lang, reference=proposal.reference)
    await show(update, views.View(text, views.main_menu(lang)))
    wake_outbox(context.application)  # the card's edit and the organizers' notice
