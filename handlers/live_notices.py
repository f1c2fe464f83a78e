"""Live questions' notices, sent by the outbox: feedback requests, a hidden question's author
told, and the moderators' lists edited in place (handlers/live.py is the area; this module is
what the outbox sender calls, so it imports no area)."""

from __future__ import annotations

import logging

from telegram.error import BadRequest

from bot.i18n import t
from bot.live import BOARD_KIND, FEEDBACK_KIND, HIDDEN_KIND
from bot.outbox import Notice
from handlers import live_views
from handlers.context import SomeApp, services_of
from handlers.transport import ONCE

log = logging.getLogger(__name__)


def is_live_notice(notice: Notice) -> bool:
    return notice.kind in (FEEDBACK_KIND, HIDDEN_KIND, BOARD_KIND)


async def edit_boards(application: SomeApp, session_id: str) -> bool:
    """Edit every moderator's list of the session to its questions as they are now; a list
    deleted in its chat is no longer followed."""
    services = services_of(application)
    live = services.live
    session = services.content.content.session(session_id)
    if session is None:
        return False
    board = await live.board(session_id, None, moderator=True)
    for chat_id, message_id, lang in await live.watchers(session_id):
        view = live_views.moderation_view(session, board, lang)
        try:
            await application.bot.edit_message_text(
                view.text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=view.keyboard,
                disable_web_page_preview=True,
                rate_limit_args=ONCE,
            )
        except BadRequest as error:
            message = error.message.lower()
            if "not modified" in message:
                continue
            if "not found" in message or "can't be edited" in message:
                await live.unwatch(session_id, chat_id)
                continue
            raise
    return True


async def deliver(application: SomeApp, notice: Notice) -> bool:
    """Send a live notice, rendered now in the person's language now; False when there is
    nothing to send any more (the person or the session is gone)."""
    if notice.kind == BOARD_KIND:
        return await edit_boards(application, notice.key or "")
    services = services_of(application)
    user_part, _, session_id = (notice.key or "").partition(":")
    session = services.content.content.session(session_id)
    if not user_part.lstrip("-").isdigit() or session is None:
        return False
    user_id = int(user_part)
    person = await services.users.get(user_id)
    if person is None:
        return False  # forgotten
    lang = person.language
    if notice.kind == FEEDBACK_KIND:
        view = live_views.feedback_request_view(session, lang)
        text, keyboard = view.text, view.keyboard
    else:
        reason = notice.values.get("reason")
        key = "live.hidden.reason" if reason else "live.hidden.plain"
        text = t(key, lang, question=notice.values.get("question", ""), reason=reason or "")
        keyboard = None
    await application.bot.send_message(user_id, text, reply_markup=keyboard, rate_limit_args=ONCE)
    return True
