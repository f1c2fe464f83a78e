"""What every handler shares: the person's language, sending or editing a view, the main
menu, and the session cards as the person looking at them sees them (☆ / ★)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    WebAppInfo,
)
from telegram.constants import ChatType, MessageEntityType
from telegram.error import BadRequest
from telegram.ext import filters

from bot.broadcasts import BroadcastReport
from bot.content import Session
from bot.i18n import plain
from handlers import callbacks, views
from handlers.context import FocusContext
from handlers.views import View

log = logging.getLogger(__name__)

# Commands that belong to a speaking-slot request (or keep it where it is): any other command
# leaves it, and the person's text is a question until they come back to it.
FLOW_COMMANDS: Final = frozenset({"propose", "back", "cancel", "language"})
# Buttons that keep the request where it is: its own, and the language choice.
FLOW_BUTTONS: Final = ("fl:", callbacks.LANGUAGES.data(), f"{callbacks.LANGUAGE.prefix}:")


async def track_user(update: Update, context: FocusContext) -> None:
    """Runs first for every update: follow the content version; who is this, which language?

    Both are read from the database, in one transaction, so any worker answers any update
    the same way.
    """
    services = context.services
    user = update.effective_user
    if user is None or user.is_bot or update.my_chat_member is not None:
        # Blocking and unblocking are handled on their own (handlers/membership.py).
        await services.content_version.follow()
        return
    chat = update.effective_chat
    private = chat is not None and chat.type == ChatType.PRIVATE
    # /start, /menu, a menu button: the request waits for /propose or its own buttons.
    leaving = private and leaves_flow(update)
    seen = await services.users.visit(
        user.id, user.language_code, private=private, leaving=leaving
    )
    services.content_version.follow_version(seen.content_version)
    context.person_language = seen.language
    context.has_draft = seen.has_draft


def leaves_flow(update: Update) -> bool:
    """A command or a button of another area: the person left their request for now."""
    query = update.callback_query
    if query is not None:
        return not (query.data or "").startswith(FLOW_BUTTONS)
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return False
    command = message.text[1:].split(maxsplit=1)[0].split("@")[0].lower()
    return command not in FLOW_COMMANDS


def set_language(context: FocusContext, lang: str) -> None:
    """The person chose another language: the rest of this update speaks it."""
    context.person_language = lang


async def show(update: Update, view: View, *, edit: bool = True) -> Message | None:
    """Edit the message a button was pressed on (navigation in place) or send a new one."""
    query = update.callback_query
    if edit and query is not None and query.message is not None:
        try:
            result = await query.edit_message_text(
                view.text,
                reply_markup=view.keyboard,
                disable_web_page_preview=True,
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return None
            if "can't be edited" not in str(exc).lower() and "not found" not in str(exc).lower():
                raise
        else:
            return result if isinstance(result, Message) else None
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(
        view.text,
        reply_markup=view.keyboard,
        disable_web_page_preview=True,
    )


async def answer_press(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a button press (`text`: a plain-text toast, or an alert). Pressed while the bot
    was down, the press can no longer be answered: the text then comes as a message, so the
    person still reads what their press did."""
    query = update.callback_query
    if query is None:
        return
    answered = await query.answer(text, show_alert=alert)
    chat = update.effective_chat
    if answered is False and text and chat is not None:
        await chat.send_message(text, parse_mode=None)


class AddressedToBot(filters.MessageFilter):
    """Private chats always; in groups only a mention of the bot or a reply to it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        reply = message.reply_to_message
        if reply is not None and reply.from_user is not None and reply.from_user.id == bot.id:
            return True
        username = f"@{bot.username}".lower() if bot.username else None
        for entity, text in message.parse_entities([MessageEntityType.MENTION]).items():
            if username and text.lower() == username and entity.type == MessageEntityType.MENTION:
                return True
        return False


ADDRESSED_TO_BOT = AddressedToBot(name="AddressedToBot")


def strip_mention(text: str, bot_username: str | None) -> str:
    if bot_username:
        text = text.replace(f"@{bot_username}", " ")
    return text.strip()


async def edit_progress(bot: Bot, progress: BroadcastReport, text: str) -> None:
    """Edit the message that follows a broadcast's progress (none for reminders); when it is
    gone, the final report still arrives, as a new message."""
    if progress.progress_chat_id is None or progress.progress_message_id is None:
        return
    try:
        await bot.edit_message_text(
            text, chat_id=progress.progress_chat_id, message_id=progress.progress_message_id
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower() and progress.done:
            await bot.send_message(progress.progress_chat_id, text)


# -- who is looking at a card ------------------------------------------------------------------


async def personal_session_card(
    update: Update, context: FocusContext, session: Session
) -> views.View:
    """The card with this person's ☆ Save / ★ Saved (read for who is looking at it now)."""
    user = update.effective_user
    saved = user is not None and await context.services.agenda.is_saved(user.id, session.id)
    content = context.services.content.content
    return views.session_card_for(
        content, session, context.lang, saved=saved, bot_username=context.bot.username
    )


async def viewer_for(update: Update, context: FocusContext, keys: Sequence[str]) -> views.Viewer:
    """Who is looking, for the session cards among answer `keys` (their saved sessions are
    read only if a session is among them)."""
    user = update.effective_user
    saved: frozenset[str] = frozenset()
    if user is not None and any(key.startswith("session:") for key in keys):
        saved = frozenset(await context.services.agenda.saved(user.id))
    return views.Viewer(saved, context.bot.username)


def main_menu_view(context: FocusContext, update: Update | None = None) -> views.View:
    """The greeting and the main menu (with the Mini App's button in a private chat)."""
    lang = context.lang
    content = context.services.content.content
    keyboard = views.main_menu(lang)
    url = context.services.settings.web_app_url
    chat = update.effective_chat if update else None
    if url and chat is not None and chat.type == "private":  # web-app buttons: private only
        web_app = InlineKeyboardButton(plain("webapp.open_button", lang), web_app=WebAppInfo(url))
        keyboard = InlineKeyboardMarkup([[web_app], *keyboard.inline_keyboard])
    return views.View(views.greeting(content, lang), keyboard)
