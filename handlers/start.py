"""/start, /menu, /help and /language."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo

from bot.i18n import LANGUAGES, plain, t
from handlers import agenda, live, propose, views
from handlers.callbacks import Button
from handlers.common import set_language, show
from handlers.context import FocusContext


def main_menu_view(context: FocusContext, update: Update | None = None) -> views.View:
    lang = context.lang
    content = context.services.content.content
    keyboard = views.main_menu(lang)
    url = context.services.settings.web_app_url
    chat = update.effective_chat if update else None
    if url and chat is not None and chat.type == "private":  # web-app buttons: private only
        web_app = InlineKeyboardButton(plain("webapp.open_button", lang), web_app=WebAppInfo(url))
        keyboard = InlineKeyboardMarkup([[web_app], *keyboard.inline_keyboard])
    return views.View(views.greeting(content, lang), keyboard)


async def start(update: Update, context: FocusContext) -> None:
    """Greet in the person's language and show the main menu; `/start floor` starts a request."""
    if context.args == [propose.DEEP_LINK]:
        await propose.propose(update, context)
        return
    # https://t.me/<bot>?start=session-<id> (the Share button) or org-<id> (inline mode).
    if context.args and await agenda.open_deep_link(update, context, context.args[0]):
        return
    # ask-<session> (a session's live questions) or mod-<token> (a moderator's invitation).
    if context.args and await live.open_deep_link(update, context, context.args[0]):
        return
    await show(update, main_menu_view(context, update), edit=False)


async def menu(update: Update, context: FocusContext) -> None:
    """The main menu, in place when reached from a button."""
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, main_menu_view(context, update))


async def help_command(update: Update, context: FocusContext) -> None:
    """Explain what the bot can do."""
    if update.effective_chat:
        await update.effective_chat.send_message(
            t("help.text", context.lang),
            reply_markup=views.main_menu(context.lang),
        )


async def language_menu(update: Update, context: FocusContext) -> None:
    """Offer the three languages."""
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.languages(context.lang))


async def choose_language(update: Update, context: FocusContext) -> None:
    """Store the chosen language and confirm in it."""
    query = update.callback_query
    assert query is not None
    (code,) = Button.fields(context)
    if code not in LANGUAGES or update.effective_user is None:
        await query.answer()
        return
    await context.services.users.set_language(update.effective_user.id, code)
    set_language(context, code)
    await query.answer(plain("language.changed", code))
    proposals = context.services.proposals
    draft = await proposals.active_draft(update.effective_user.id)
    if draft is not None:
        # Mid-request: ask the pending question again, now in the new language, so the next
        # text is not silently taken as its answer.
        lead = t("language.changed", code)
        await show(update, propose.question_view(proposals, draft, code, lead), edit=False)
        return
    content = context.services.content.content
    text = f"{t('language.changed', code)}\n\n{views.greeting(content, code)}"
    await show(update, views.View(text, views.main_menu(code)))


async def unknown_command(update: Update, context: FocusContext) -> None:
    """A command we do not have (a typo, or an old one): say so and show what there is."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    words = message.text.split()
    command = words[0].split("@")[0] if words else message.text.strip() or "/"
    await message.reply_text(
        t("command.unknown", context.lang, command=command),
        reply_markup=views.main_menu(context.lang),
    )
