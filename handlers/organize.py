"""Organizers decide on speaking-slot requests; people follow and withdraw their own.

Every button here is re-checked: its data is re-parsed, the presser's numeric id is compared
with ORGANIZER_IDS / ADMIN_IDS (or with the request's owner), and the service refuses changes
that do not fit the request's state.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Final

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot.content import Content
from bot.i18n import DEFAULT_LANGUAGE, Html, plain, t
from bot.models import Proposal
from bot.proposals import (
    ProposalError,
    ProposalNotFound,
    ProposalState,
    WrongState,
)
from bot.services import FocusContext
from handlers import views
from handlers.common import show

log = logging.getLogger(__name__)

# Requests are shown in the organizers' group in one language for everyone.
GROUP_LANGUAGE: Final = DEFAULT_LANGUAGE
OVERVIEW: Final = "pr:l"
MINE: Final = "pr:my"
DECIDE_PATTERN: Final = re.compile(r"^pr:([ad]):(\d{1,10})$")
STATE_PATTERN: Final = re.compile(r"^pr:l:(submitted|accepted|declined|withdrawn)$")
OVERVIEW_PATTERN: Final = re.compile(rf"^{OVERVIEW}$")
OPEN_PATTERN: Final = re.compile(r"^pr:o:(\d{1,10})$")
MINE_PATTERN: Final = re.compile(rf"^{MINE}$")
WITHDRAW_ASK_PATTERN: Final = re.compile(r"^pr:w:(\d{1,10})$")
WITHDRAW_PATTERN: Final = re.compile(r"^pr:wy:(\d{1,10})$")


def decide_data(proposal_id: int, *, accept: bool) -> str:
    return f"pr:{'a' if accept else 'd'}:{proposal_id}"


def _match(update: Update, pattern: re.Pattern[str]) -> re.Match[str] | None:
    query = update.callback_query
    return pattern.match(query.data) if query is not None and query.data else None


def _time(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def state_label(state: str, lang: str) -> str:
    return plain(f"proposals.state.{state}", lang)


def spot_label(content: Content, session_id: str | None, lang: str) -> str:
    session = content.session(session_id) if session_id else None
    if session is None:
        return plain("proposals.no_preference", lang)
    return f"{session.start:%H:%M} · {session.title.get(lang)}"


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
    changes = [
        t(
            "proposals.card.decision",
            lang,
            state=state_label(event.state, lang),
            actor=event.actor_name or event.actor_id or none,
            time=_time(event.at),
        )
        for event in proposal.events
        if event.state != ProposalState.SUBMITTED.value
    ]
    return Html(views.fit("\n\n".join([text, *changes])))


def decision_keyboard(proposal: Proposal, lang: str) -> InlineKeyboardMarkup | None:
    if proposal.state != ProposalState.SUBMITTED.value:
        return None
    return InlineKeyboardMarkup(
        [
            [
                views.button(
                    plain("proposals.button.accept", lang), decide_data(proposal.id, accept=True)
                ),
                views.button(
                    plain("proposals.button.decline", lang),
                    decide_data(proposal.id, accept=False),
                ),
            ]
        ]
    )


def card_view(content: Content, proposal: Proposal, lang: str, *, back: bool) -> views.View:
    """A request's card with Accept / Decline while it is submitted (and a way back)."""
    keyboard = decision_keyboard(proposal, lang)
    rows: list[Sequence[InlineKeyboardButton]] = list(keyboard.inline_keyboard) if keyboard else []
    if back:
        rows.append([views.button(plain("proposals.button.back", lang), f"pr:l:{proposal.state}")])
    return views.View(
        card_text(content, proposal, lang), InlineKeyboardMarkup(rows) if rows else None
    )


# -- the organizers' group ----------------------------------------------------------------------


async def post_to_organizers(context: FocusContext, proposal: Proposal) -> None:
    """Post a new request to ORGANIZER_CHAT_ID (if set); it stays stored either way."""
    services = context.services
    chat_id = services.settings.organizer_chat_id
    if chat_id is None:
        return
    view = card_view(services.content.content, proposal, GROUP_LANGUAGE, back=False)
    try:
        message = await context.bot.send_message(
            chat_id,
            view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
            disable_web_page_preview=True,
        )
    except TelegramError as exc:
        # The request is stored; the organizers still find it with /proposals.
        log.warning("Could not post %s to the organizers: %s", proposal.reference, exc)
        return
    await services.proposals.set_organizer_message(proposal.id, chat_id, message.message_id)


async def refresh_group_card(context: FocusContext, proposal: Proposal) -> None:
    """Edit the request's card in the organizers' group to its current state."""
    if proposal.organizer_chat_id is None or proposal.organizer_message_id is None:
        return
    view = card_view(context.services.content.content, proposal, GROUP_LANGUAGE, back=False)
    try:
        await context.bot.edit_message_text(
            view.text,
            chat_id=proposal.organizer_chat_id,
            message_id=proposal.organizer_message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,
            disable_web_page_preview=True,
        )
    except TelegramError as exc:
        log.warning("Could not update the organizers' card of %s: %s", proposal.reference, exc)


async def _notify_person(context: FocusContext, proposal: Proposal) -> None:
    """Tell the person the outcome, in their language (they may have blocked the bot)."""
    if proposal.user_id is None:
        return
    lang = await context.services.users.language_of(proposal.user_id, proposal.language)
    text = t(
        f"proposals.notify.{proposal.state}",
        lang,
        reference=proposal.reference,
        title=proposal.title,
    )
    try:
        await context.bot.send_message(proposal.user_id, text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning(
            "Could not tell %s the outcome of %s: %s", proposal.user_id, proposal.reference, exc
        )


def _is_organizer(update: Update, context: FocusContext) -> bool:
    user = update.effective_user
    return user is not None and context.services.settings.is_organizer(user.id)


async def _refuse(update: Update, context: FocusContext) -> None:
    """A short refusal: an alert for a button, a reply for a command."""
    text = plain("proposals.organizers_only", context.lang)
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_message:
        await update.effective_message.reply_text(text)


async def _answer_error(update: Update, context: FocusContext, error: ProposalError) -> None:
    assert update.callback_query is not None
    text = error_text(error, context.lang)
    await update.callback_query.answer(re.sub(r"<[^>]+>", "", text)[:200], show_alert=True)


async def decide(update: Update, context: FocusContext) -> None:
    """Accept / Decline: organizers only, once; the card shows who decided, the person is told."""
    query, user = update.callback_query, update.effective_user
    match = _match(update, DECIDE_PATTERN)
    if query is None or user is None or match is None:
        await _refuse(update, context)
        return
    if not _is_organizer(update, context):
        await _refuse(update, context)
        return
    accept = match.group(1) == "a"
    try:
        proposal = await context.services.proposals.decide(
            int(match.group(2)), user.id, user.full_name[:100], accept=accept
        )
    except ProposalError as error:
        await _answer_error(update, context, error)
        return
    lang = context.lang
    await query.answer(
        plain(
            "proposals.decided",
            lang,
            reference=proposal.reference,
            state=state_label(proposal.state, lang),
        )
    )
    in_group = (
        query.message is not None
        and query.message.chat.id == proposal.organizer_chat_id
        and query.message.message_id == proposal.organizer_message_id
    )
    if not in_group:
        content = context.services.content.content
        await show(update, card_view(content, proposal, lang, back=True))
    await refresh_group_card(context, proposal)
    await _notify_person(context, proposal)


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
    lang = context.lang
    counts = await context.services.proposals.counts()
    text = t("proposals.list.title", lang, **{state.value: n for state, n in counts.items()})
    rows = [
        [
            views.button(
                plain("proposals.button.state", lang, state=state_label(state, lang), count=n),
                f"pr:l:{state.value}",
            )
        ]
        for state, n in counts.items()
    ]
    await show(update, views.View(text, InlineKeyboardMarkup(rows)))


async def state_list(update: Update, context: FocusContext) -> None:
    """The requests in one state, one button each."""
    match = _match(update, STATE_PATTERN)
    if await _refused(update, context, valid=match is not None) or match is None:
        return
    assert update.callback_query is not None
    await update.callback_query.answer()
    lang = context.lang
    state = ProposalState(match.group(1))
    found = await context.services.proposals.with_state(state)
    rows = [[views.button(f"{p.reference} · {p.title}", f"pr:o:{p.id}")] for p in found]
    rows.append([views.button(plain("proposals.button.list", lang), OVERVIEW)])
    text = t("proposals.list.state", lang, state=state_label(state.value, lang), count=len(found))
    await show(update, views.View(text, InlineKeyboardMarkup(rows)))


async def open_card(update: Update, context: FocusContext) -> None:
    """One request's card, with Accept / Decline while it is submitted."""
    match = _match(update, OPEN_PATTERN)
    if await _refused(update, context, valid=match is not None) or match is None:
        return
    proposal = await context.services.proposals.get(int(match.group(1)))
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
    service = context.services.proposals
    data = await service.export_csv()
    count = sum((await service.counts()).values())
    name = f"proposals-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.csv"
    await chat.send_document(
        InputFile(data, filename=name),
        caption=t("proposals.export.caption", context.lang, count=count),
        parse_mode=ParseMode.HTML,
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
    lang = context.lang
    mine = await context.services.proposals.of_person(user.id)
    if not mine:
        await show(update, views.View(t("proposals.mine.empty", lang), views.main_menu(lang)))
        return
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
            rows.append([views.button(label, f"pr:w:{proposal.id}")])
    rows.append(views.back_row(lang))
    await show(update, views.View(views.fit("\n".join(lines)), InlineKeyboardMarkup(rows)))


async def withdraw_ask(update: Update, context: FocusContext) -> None:
    """Withdraw? Ask once, since it cannot be undone."""
    match = _match(update, WITHDRAW_ASK_PATTERN)
    user = update.effective_user
    proposal = await context.services.proposals.get(int(match.group(1))) if match else None
    if proposal is None or user is None or proposal.user_id != user.id:
        await _answer_error(update, context, ProposalNotFound())
        return
    assert update.callback_query is not None
    if proposal.state != ProposalState.SUBMITTED.value:
        await _answer_error(update, context, WrongState(proposal.state))
        return
    await update.callback_query.answer()
    lang = context.lang
    keyboard = InlineKeyboardMarkup(
        [
            [
                views.button(
                    plain("proposals.button.withdraw_confirm", lang), f"pr:wy:{proposal.id}"
                )
            ],
            [views.button(plain("proposals.button.keep", lang), MINE)],
        ]
    )
    text = t(
        "proposals.withdraw.confirm", lang, reference=proposal.reference, title=proposal.title
    )
    await show(update, views.View(text, keyboard))


async def withdraw(update: Update, context: FocusContext) -> None:
    """Withdraw the person's own submitted request; the organizers are told."""
    match = _match(update, WITHDRAW_PATTERN)
    user = update.effective_user
    if match is None or user is None or update.callback_query is None:
        await _answer_error(update, context, ProposalNotFound())
        return
    try:
        proposal = await context.services.proposals.withdraw(int(match.group(1)), user.id)
    except ProposalError as error:
        await _answer_error(update, context, error)
        return
    await update.callback_query.answer()
    lang = context.lang
    text = t("proposals.withdraw.done", lang, reference=proposal.reference)
    await show(update, views.View(text, views.main_menu(lang)))
    await _tell_organizers_of_withdrawal(context, proposal)


async def _tell_organizers_of_withdrawal(context: FocusContext, proposal: Proposal) -> None:
    chat_id = context.services.settings.organizer_chat_id
    if chat_id is None:
        return
    await refresh_group_card(context, proposal)
    text = t(
        "proposals.withdrawn_notice",
        GROUP_LANGUAGE,
        reference=proposal.reference,
        title=proposal.title,
    )
    reply = (
        ReplyParameters(proposal.organizer_message_id, allow_sending_without_reply=True)
        if proposal.organizer_message_id
        else None
    )
    try:
        await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML, reply_parameters=reply
        )
    except TelegramError as exc:
        log.warning("Could not tell the organizers about %s: %s", proposal.reference, exc)
