"""/start, /menu, /help and /language, and commands we do not have."""

from __future__ import annotations

from telegram import Update

from bot.i18n import LANGUAGES, plain, t
from handlers import views
from handlers.callbacks import Button
from handlers.common import main_menu_view, set_language, show
from handlers.context import FocusContext
from handlers.draft_views import question_view


async def greet(update: Update, context: FocusContext) -> None:
    """/start (without a deep link of ours, handlers/routes.py): greet in the person's
    language and show the main menu."""
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
    drafts = context.services.drafts
    draft = await drafts.active_draft(update.effective_user.id)
    if draft is not None:
        # Mid-request: ask the pending question again, now in the new language, so the next
        # text is not silently taken as its answer.
        lead = t("language.changed", code)
        await show(update, question_view(drafts.source(draft), draft, code, lead), edit=False)
        return
    await show(update, views.language_changed(context.services.content.content, code))


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
