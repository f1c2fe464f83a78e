"""Free-text questions answered from the content, and the "did you mean" buttons."""

from __future__ import annotations

from telegram import Update

from bot.answers_language import reply_language
from bot.i18n import LANGUAGES, plain, t
from bot.visits import known_language
from handlers import views
from handlers.agenda_views import NOW_ANSWER, now_view
from handlers.answer_views import combined, did_you_mean, offer_language, render_answer
from handlers.callbacks import Button
from handlers.common import show, strip_mention, viewer_for
from handlers.context import FocusContext

MAX_QUESTION_LENGTH = 1000  # a long message is read for its questions; beyond this, declined


async def ask_prompt(update: Update, context: FocusContext) -> None:
    """The "Ask a question" button: invite the person to type."""
    if update.callback_query:
        await update.callback_query.answer()
    await show(update, views.View(t("ask.prompt", context.lang)), edit=False)


async def question(update: Update, context: FocusContext) -> None:
    """Answer a typed question, offer close candidates, or say kindly that we don't know."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = strip_mention(message.text, context.bot.username)
    store = context.services.content
    # Reply in the language of the question when it is clearly another one than the
    # person's setting ("cómo me apunto" from someone reading in English), with a one-tap
    # offer to switch the setting; a text that could be either ("hola") keeps the setting, or
    # takes the person's Telegram language if the text fits it and not the setting.
    user = update.effective_user
    telegram = known_language(user.language_code) if user else None
    marked = store.index.lexicon.guess_language(text)
    asked_in = reply_language(text, context.lang, telegram, marked)
    lang = asked_in if asked_in in LANGUAGES else context.lang
    if len(text) > MAX_QUESTION_LENGTH:
        await message.reply_text(t("ask.too_long", lang))
        return
    result = store.index.answer(text)
    if result.best and list(result.keys) == [NOW_ANSWER]:
        # "what's on now" ("què hi ha ara"...), typed: now and next, in its language
        await show(update, now_view(store.content, lang, context.now()), edit=False)
        return
    viewer = await viewer_for(update, context, result.keys) if result.best else None
    view = combined(store.content, result, lang, viewer) if result.best else None
    if view is None and result.suggestions:
        view = did_you_mean(store.content, result.suggestions, lang)
    if view is None:
        view = views.View(t("ask.no_match", lang, question=text[:100]), views.main_menu(lang))
    if lang != context.lang:
        view = offer_language(view, lang)
    await show(update, view, edit=False)


async def chosen_answer(update: Update, context: FocusContext) -> None:
    """A "did you mean" button: show that answer in place."""
    query = update.callback_query
    assert query is not None
    (key,) = Button.fields(context)
    viewer = await viewer_for(update, context, [key])
    view = render_answer(context.services.content.content, key, context.lang, viewer)
    if view is None:
        await query.answer(plain("button.expired", context.lang))
        view = views.View(t("menu.title", context.lang), views.main_menu(context.lang))
    else:
        await query.answer()
    await show(update, view)


async def not_text(update: Update, context: FocusContext) -> None:
    """A photo, sticker or voice note where we can only read text."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            t("ask.not_text", context.lang), reply_markup=views.main_menu(context.lang)
        )
