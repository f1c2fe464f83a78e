"""build_application: the ONE place that shows the whole bot, every handler in order."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.models.base import utcnow
from bot.settings import Settings
from handlers import (
    admin,
    agenda,
    ask,
    browse,
    callbacks,
    live,
    membership,
    organize,
    propose,
    routes,
    start,
    subscription,
    update_log,
)
from handlers.common import ADDRESSED_TO_BOT, track_user
from handlers.context import FocusApp, FocusContext
from handlers.errors import on_error
from handlers.runtime import Runtime, WallClock, runtime_of
from handlers.transport import OutgoingRateLimiter

log = logging.getLogger(__name__)

# Handler groups, in the order python-telegram-bot tries them. In each group the first handler
# that matches runs; an update then goes on to the next group, unless a handler stops it.
FIRST = -1  # the update's clock starts (the log line's TypeHandler)
PERSON = 0  # who is this, which language, which content version
COMPOSING = 1  # an admin's announcement text (stops the update when it is one)
AREAS = 2  # every area's commands, buttons and text
AFTER_ANSWER = 3  # what follows an answer (/reload's programme changes)
LIVE_ADDENDA = 4  # after those: what live questions add (/privacy, /export)
LAST = 9  # the update's log line


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    token: str | None = None,
    clock: WallClock = utcnow,
) -> FocusApp:
    """The bot: python-telegram-bot's Application with every handler of `handlers_in_order`.

    Its `bot_data` is the worker's Runtime (handlers/runtime.py), started and stopped by
    `started` / `running`; `clock` is the one "now" it reads (tests give their own)."""
    builder = (
        ApplicationBuilder()
        # Updates come from the inbox (handlers/updates.py), not from PTB's Updater.
        .updater(None)
        .token(token or (settings.bot_token.get_secret_value() if settings.bot_token else ""))
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        # Every text the views render is HTML (user text escaped); plain sends say parse_mode=None.
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(ContextTypes(context=FocusContext, bot_data=Runtime))
        .rate_limiter(OutgoingRateLimiter(settings.send_rate_limit))
    )
    if request is not None:
        builder = builder.request(request)
    application = builder.build()
    runtime = runtime_of(application)
    runtime.settings, runtime.clock, runtime.application = settings, clock, application
    application.add_handlers(handlers_in_order(settings))
    application.add_error_handler(on_error)
    return application


def handlers_in_order(settings: Settings) -> dict[int, Sequence[BaseHandler[Any, Any, Any]]]:
    """THE registration list: every handler of the bot, group by group, in the order tried."""
    private_text = (
        filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    )
    private_media = (
        filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    )
    return {
        FIRST: [TypeHandler(Update, update_log.received)],
        PERSON: [TypeHandler(Update, track_user)],
        COMPOSING: [
            # An admin asked for an announcement's text gets it taken (or cancelled) here, and
            # the update stops; for anyone else it goes on to the areas.
            CommandHandler(
                "cancel",
                admin.cancel_composing,
                filters=admin.composing_cancel_filter(settings.admin_ids),
            ),
            MessageHandler(admin.composing_filter(settings.admin_ids), admin.broadcast_text),
            # A question to a panel, a feedback comment or a hidden question's reason, when
            # the person was asked for one (handlers/live.py); else the update goes on.
            MessageHandler(private_text, live.typed_text),
            # Any other command: the person moved on, their next text is not for the panel.
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, live.drop_input),
        ],
        AREAS: [
            # -- Admins, subscriptions, privacy: handlers/admin.py, handlers/subscription.py.
            # A person blocks or unblocks the bot (private chats only).
            ChatMemberHandler(membership.member_status, ChatMemberHandler.MY_CHAT_MEMBER),
            CommandHandler("broadcast", admin.broadcast_command),
            CommandHandler("broadcasts", admin.broadcasts_command),
            CommandHandler("stats", admin.stats_command),
            CommandHandler("reload", admin.reload_command),
            CallbackQueryHandler(
                admin.choose_audience, pattern=callbacks.BROADCAST_AUDIENCE.pattern
            ),
            CallbackQueryHandler(admin.resend, pattern=callbacks.BROADCAST_RESEND.pattern),
            CallbackQueryHandler(
                admin.other_audience, pattern=callbacks.BROADCAST_AUDIENCES.pattern
            ),
            CallbackQueryHandler(admin.confirm, pattern=callbacks.BROADCAST_SEND.pattern),
            CallbackQueryHandler(admin.cancel, pattern=callbacks.BROADCAST_CANCEL.pattern),
            CommandHandler("stop", subscription.stop),
            CommandHandler("subscribe", subscription.subscribe),
            CommandHandler("privacy", subscription.privacy),
            CommandHandler("forget", subscription.forget),
            CallbackQueryHandler(subscription.updates_menu, pattern=callbacks.UPDATES.pattern),
            CallbackQueryHandler(subscription.toggle, pattern=callbacks.SUBSCRIBE.pattern),
            CallbackQueryHandler(subscription.forget_answer, pattern=callbacks.FORGET.pattern),
            # -- My agenda: handlers/agenda.py. Save, /agenda, /now, /settings and reminders,
            # calendar files, change notices, inline mode. "ans:nav:now" (a "did you mean"
            # button) must come before ask.chosen_answer below.
            CommandHandler("agenda", agenda.agenda),
            CommandHandler("now", agenda.now),
            CommandHandler("settings", agenda.settings),
            CallbackQueryHandler(agenda.agenda, pattern=callbacks.AGENDA.pattern),
            CallbackQueryHandler(agenda.now, pattern=callbacks.NOW.pattern),
            CallbackQueryHandler(agenda.now, pattern=callbacks.NOW_ANSWER.pattern),
            CallbackQueryHandler(agenda.settings, pattern=callbacks.SETTINGS.pattern),
            CallbackQueryHandler(agenda.reminders_menu, pattern=callbacks.REMINDERS.pattern),
            CallbackQueryHandler(agenda.choose_reminder, pattern=callbacks.REMINDER.pattern),
            CallbackQueryHandler(agenda.toggle_save, pattern=callbacks.SAVE.pattern),
            CallbackQueryHandler(agenda.send_calendar, pattern=callbacks.ICS.pattern),
            CallbackQueryHandler(agenda.answer_notice, pattern=callbacks.NOTICE.pattern),
            InlineQueryHandler(agenda.inline_query),
            # -- The menu, the programme, the partners, questions: start, browse, ask.
            CommandHandler("start", routes.start_command),  # deep links, or the greeting
            CommandHandler("menu", start.menu),
            CommandHandler("help", start.help_command),
            CommandHandler("language", start.language_menu),
            CommandHandler("programme", browse.programme),
            CommandHandler("program", browse.programme),
            CommandHandler("partners", browse.organizations),
            CallbackQueryHandler(start.menu, pattern=callbacks.MENU.pattern),
            CallbackQueryHandler(start.language_menu, pattern=callbacks.LANGUAGES.pattern),
            CallbackQueryHandler(start.choose_language, pattern=callbacks.LANGUAGE.pattern),
            CallbackQueryHandler(browse.programme, pattern=callbacks.PROGRAMME.pattern),
            CallbackQueryHandler(browse.side_events, pattern=callbacks.SIDE_EVENTS.pattern),
            CallbackQueryHandler(browse.organizations, pattern=callbacks.ORGANIZATIONS.pattern),
            CallbackQueryHandler(browse.session_card, pattern=callbacks.SESSION.pattern),
            CallbackQueryHandler(browse.organization_card, pattern=callbacks.ORGANIZATION.pattern),
            CallbackQueryHandler(
                browse.organization_more, pattern=callbacks.ORGANIZATION_MORE.pattern
            ),
            CallbackQueryHandler(ask.ask_prompt, pattern=callbacks.ASK.pattern),
            CallbackQueryHandler(ask.chosen_answer, pattern=callbacks.ANSWER.pattern),
            # -- Live questions to a panel, votes, moderation, feedback: handlers/live.py.
            CommandHandler("live", live.live_command),
            CommandHandler("moderator", live.moderator_command),
            CommandHandler("feedback", live.feedback_command),
            CallbackQueryHandler(live.room, pattern=callbacks.LIVE_ROOM.pattern),
            CallbackQueryHandler(live.begin_question, pattern=callbacks.LIVE_ASK.pattern),
            CallbackQueryHandler(live.toggle_anonymous, pattern=callbacks.LIVE_ANONYMOUS.pattern),
            CallbackQueryHandler(live.cancel_input, pattern=callbacks.LIVE_CANCEL.pattern),
            CallbackQueryHandler(live.press_vote, pattern=callbacks.LIVE_VOTE.pattern),
            CallbackQueryHandler(live.moderate, pattern=callbacks.LIVE_MODERATE.pattern),
            CallbackQueryHandler(live.moderate, pattern=callbacks.LIVE_SESSIONS.pattern),
            CallbackQueryHandler(live.act, pattern=callbacks.LIVE_ACTION.pattern),
            CallbackQueryHandler(
                live.hide_without_reason, pattern=callbacks.LIVE_NO_REASON.pattern
            ),
            CallbackQueryHandler(live.set_state, pattern=callbacks.LIVE_STATE.pattern),
            CallbackQueryHandler(live.screen_link, pattern=callbacks.LIVE_SCREEN.pattern),
            CallbackQueryHandler(live.rate, pattern=callbacks.LIVE_RATE.pattern),
            CallbackQueryHandler(live.begin_comment, pattern=callbacks.LIVE_COMMENT.pattern),
            # -- Speaking-slot requests ("The floor is yours"): handlers/propose.py, organize.py.
            # The person's draft row is the conversation state. While it is open, their private
            # text and media answer its current step (handlers/routes.py says what they are
            # otherwise: an organizer's note, "what's on now", a question, "only text is read").
            CommandHandler("propose", propose.propose),
            CommandHandler("back", propose.back_command),
            CommandHandler("cancel", routes.cancel_command),
            CommandHandler("myproposals", organize.my_proposals),
            CommandHandler("proposals", organize.proposals),
            CommandHandler("export", organize.export),
            CallbackQueryHandler(propose.propose, pattern=callbacks.PROPOSE_START.pattern),
            CallbackQueryHandler(propose.choose, pattern=callbacks.STEP_CHOICE.pattern),
            CallbackQueryHandler(propose.back, pattern=callbacks.STEP_BACK.pattern),
            CallbackQueryHandler(propose.edit, pattern=callbacks.STEP_EDIT.pattern),
            CallbackQueryHandler(propose.submit, pattern=callbacks.PROPOSE_SUBMIT.pattern),
            CallbackQueryHandler(propose.cancel, pattern=callbacks.PROPOSE_CANCEL.pattern),
            CallbackQueryHandler(
                propose.cancel_answer, pattern=callbacks.PROPOSE_CANCEL_ANSWER.pattern
            ),
            CallbackQueryHandler(organize.decide, pattern=callbacks.DECIDE.pattern),
            CallbackQueryHandler(organize.proposals, pattern=callbacks.PROPOSALS.pattern),
            CallbackQueryHandler(
                organize.state_list, pattern=callbacks.PROPOSALS_IN_STATE.pattern
            ),
            CallbackQueryHandler(organize.open_card, pattern=callbacks.PROPOSAL.pattern),
            CallbackQueryHandler(organize.my_proposals, pattern=callbacks.MY_PROPOSALS.pattern),
            CallbackQueryHandler(organize.withdraw_ask, pattern=callbacks.WITHDRAW_ASK.pattern),
            CallbackQueryHandler(organize.withdraw, pattern=callbacks.WITHDRAW.pattern),
            # -- Free text and media, once no command or button matched. New messages only:
            # editing an earlier answer must not answer the current step.
            MessageHandler(private_text, routes.private_text),
            MessageHandler(filters.UpdateType.MESSAGE & private_media, routes.private_media),
            # In the organizers' group, an organizer's reason for a decline (or message to a
            # speaker) they were asked for; anyone else's text there is a question.
            MessageHandler(filters.TEXT & ~filters.COMMAND & ADDRESSED_TO_BOT, routes.group_text),
            MessageHandler(private_media, ask.not_text),  # an edited photo, say
            # A command none of the above knows (in groups, only one addressed to us).
            MessageHandler(filters.COMMAND & ADDRESSED_TO_BOT, start.unknown_command),
            # Anything else pressed: a stale or forged button.
            CallbackQueryHandler(browse.expired),
        ],
        AFTER_ANSWER: [
            # /reload's programme changes (notices to confirm, reminders moved), and what
            # /privacy says about My agenda: after the areas have answered.
            CommandHandler("reload", agenda.after_reload),
            CommandHandler("privacy", agenda.privacy_addendum),
        ],
        LIVE_ADDENDA: [
            # What live questions add: /privacy's note, and /export's feedback CSV after the
            # requests' (organizers).
            CommandHandler("privacy", live.privacy_addendum),
            CommandHandler("export", live.export_feedback),
        ],
        LAST: [TypeHandler(Update, update_log.handled)],
    }


__all__ = ["build_application", "handlers_in_order"]
