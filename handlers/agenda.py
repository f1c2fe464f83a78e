"""My agenda: ☆ Save, /agenda, /now, /settings and reminders, change notices after /reload,
calendar files, inline mode and deep links. Thin: the logic is in bot/agenda.py,
bot/schedule.py and bot/calendar.py.

Every button acts for the person who pressed it (`query.from_user`), never for an id read from
the callback data; the admin's buttons re-check that the presser is an admin.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.error import BadRequest

from bot.answers import Nav
from bot.broadcasts import BroadcastReport
from bot.calendar import calendar_file, deep_link
from bot.content import Content, Organization, Session
from bot.i18n import LANGUAGE_NAMES, Html, plain, t
from bot.models.broadcast import BroadcastKind
from bot.schedule import (
    REMINDER_CHOICES,
    NoticePlan,
    change_line,
    event_lines,
    notice_text,
    now_and_next,
    zone,
)
from bot.textmatch import fold
from handlers import callbacks, views
from handlers.callbacks import Button
from handlers.common import edit_progress, show
from handlers.context import FocusContext

DEEP_LINK: Final = re.compile(r"^(session|org)-([a-z0-9-]{1,32})$")
INLINE_LIMIT: Final = 20
NOW_ANSWER: Final = f"nav:{Nav.NOW.value}"


def _now(context: FocusContext) -> dt.datetime:
    """The runtime's clock: the real one, or a test's (build_application(clock=...))."""
    return context.bot_data.clock()


# -- ☆ Save and the session card ---------------------------------------------------------------


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


async def toggle_save(update: Update, context: FocusContext) -> None:
    """☆ Save / ★ Saved on a session card, for whoever pressed it."""
    query = update.callback_query
    assert query is not None
    (session_id,) = Button.fields(context)
    content = context.services.content.content
    session = content.session(session_id)
    if session is None:
        await query.answer(plain("button.expired", context.lang))
        return
    saved = await context.services.agenda.toggle_and_plan(query.from_user.id, session.id, content)
    await query.answer(
        plain("agenda.toast.saved" if saved else "agenda.toast.removed", context.lang)
    )
    await _relabel(update, session, saved, context.lang)


async def _relabel(update: Update, session: Session, saved: bool, lang: str) -> None:
    """Change only the Save button on the message (its other buttons stay as they were)."""
    query = update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query else None
    if query is None or markup is None:
        return
    label = plain("agenda.button.saved" if saved else "agenda.button.save", lang)
    data = callbacks.SAVE.data(session.id)
    rows = [
        [
            InlineKeyboardButton(label, callback_data=data) if b.callback_data == data else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows))
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


# -- /agenda ----------------------------------------------------------------------------------


def agenda_view(
    content: Content, lang: str, sessions: list[Session], overlaps: set[str], minutes: int
) -> views.View:
    """Saved sessions in time order, overlaps marked, one tap to each card."""
    if content.event.date is None:
        reminders = t("agenda.reminders.no_date", lang)
    elif minutes:
        reminders = t("agenda.reminders.on", lang, minutes=minutes)
    else:
        reminders = t("agenda.reminders.off", lang)
    if not sessions:
        rows = [[views.button(plain("menu.programme", lang), callbacks.PROGRAMME.data(0))]]
        if whole := views.programme_ics_button(content, lang):
            rows.append(whole)
        rows += [_reminders_row(lang), views.back_row(lang)]
        return views.View(f"{t('agenda.empty', lang)}\n\n{reminders}", InlineKeyboardMarkup(rows))
    lines: list[str] = [t("agenda.title", lang, count=len(sessions))]
    note = views.draft_note(content, lang)
    if note:
        lines.append(note)
    lines.append("")
    for session in sessions:
        lines.append(html.escape(views.session_line(session, lang)))
        if session.id in overlaps:
            lines.append(f"   {t('agenda.overlap', lang)}")
    lines += ["", reminders, t("agenda.pick", lang)]
    rows = []
    for session in sessions:
        mark = "⚠️ " if session.id in overlaps else ""
        label = f"{mark}{session.start:%H:%M} · {session.title.get(lang)}"
        rows.append([views.button(label, callbacks.SESSION.data(session.id))])
    if content.event.date is not None:
        my_agenda = callbacks.ICS.data(callbacks.ICS_AGENDA)
        rows.append([views.button(plain("agenda.button.ics", lang), my_agenda)])
    if whole := views.programme_ics_button(content, lang):
        rows.append(whole)
    rows += [_reminders_row(lang), views.back_row(lang)]
    return views.View(views.fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def _reminders_row(lang: str) -> list[InlineKeyboardButton]:
    return [views.button(plain("agenda.button.reminders", lang), callbacks.REMINDERS.data())]


async def agenda(update: Update, context: FocusContext) -> None:
    """/agenda and "⭐ My agenda"."""
    if update.callback_query:
        await update.callback_query.answer()
    await _show_agenda(update, context)


async def _show_agenda(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    content = context.services.content.content
    service = context.services.agenda
    sessions, overlaps = await service.agenda(user.id, content)
    minutes = await service.reminders.minutes(user.id)
    await show(update, agenda_view(content, context.lang, sessions, overlaps, minutes))


# -- /now -------------------------------------------------------------------------------------


def now_view(content: Content, lang: str, now: dt.datetime) -> views.View:
    """What is on now and next in the event's zone; before the day, when it starts; with no
    date, says so and shows the programme's order."""
    found = now_and_next(content, now)
    zone_name = content.event.timezone
    local = now.astimezone(dt.UTC if found.state == "no_date" else zone(content))
    lines: list[str]
    if found.state == "no_date":
        lines = [t("now.no_date", lang)]
        if note := views.draft_note(content, lang):
            lines.append(note)
        lines += [html.escape(views.session_line(s, lang)) for s in found.upcoming]
    elif found.state == "before":
        assert found.day_starts is not None
        date, time = f"{found.day_starts:%d/%m/%Y}", f"{found.day_starts:%H:%M}"
        lines = [t("now.before", lang, date=date, time=time, zone=zone_name)]
        lines += [html.escape(views.session_line_marked(content, s, lang)) for s in found.upcoming]
    elif found.state == "after":
        lines = [t("now.after", lang)]
    else:
        lines = [
            t("now.title", lang, time=f"{local:%H:%M}", zone=zone_name),
            "",
            t("now.now", lang),
        ]
        lines += [html.escape(views.session_line_marked(content, s, lang)) for s in found.current]
        if not found.current:
            lines.append(t("now.nothing", lang))
        lines += ["", t("now.next", lang)]
        lines += [html.escape(views.session_line_marked(content, s, lang)) for s in found.upcoming]
        if not found.upcoming:
            lines.append(t("now.last", lang))
    shown = found.current + found.upcoming if found.state != "no_date" else []
    rows = [[views.button(s.title.get(lang), callbacks.SESSION.data(s.id))] for s in shown]
    rows.append(views.back_row(lang))
    return views.View(views.fit("\n".join(lines)), InlineKeyboardMarkup(rows))


async def now(update: Update, context: FocusContext) -> None:
    """/now and "🕘 Now and next"."""
    if update.callback_query:
        await update.callback_query.answer()
    content = context.services.content.content
    await show(update, now_view(content, context.lang, _now(context)))


async def show_now(update: Update, context: FocusContext, lang: str) -> None:
    """Now and next, for a typed "what's on now" ("què hi ha ara"...) in its language."""
    content = context.services.content.content
    await show(update, now_view(content, lang, _now(context)), edit=False)


# -- calendar files ---------------------------------------------------------------------------


async def send_calendar(update: Update, context: FocusContext) -> None:
    """📅 .ics of one session, of My agenda, or of the whole programme."""
    query = update.callback_query
    assert query is not None
    (which,) = Button.fields(context)
    content = context.services.content.content
    lang = context.lang
    if which == callbacks.ICS_AGENDA:
        sessions, _ = await context.services.agenda.agenda(query.from_user.id, content)
        name = "my-agenda.ics"
    elif which == callbacks.ICS_PROGRAMME:
        sessions, name = content.sessions, "programme.ics"
    else:
        found = content.session(which)
        if found is None:
            await query.answer(plain("button.expired", lang))
            return
        sessions, name = [found], f"{found.id}.ics"
    await query.answer()
    chat = update.effective_chat
    if chat is None:
        return
    if content.event.date is None:
        await chat.send_message(t("ics.no_date", lang))
        return
    data = calendar_file(
        content,
        sessions,
        lang,
        sequences=await context.services.agenda.changes.sequences(),
        bot_username=context.bot.username,
    )
    await chat.send_document(data, filename=name, caption=t("ics.caption", lang))


# -- /settings and reminders --------------------------------------------------------------------


def _reminder_label(minutes: int, lang: str) -> str:
    if not minutes:
        return plain("reminders.off", lang)
    return plain("reminders.minutes", lang, minutes=minutes)


async def settings(update: Update, context: FocusContext) -> None:
    """/settings: language, the organizers' updates and reminders in one place."""
    if update.callback_query:
        await update.callback_query.answer()
    await _show_settings(update, context)


async def _show_settings(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    lang = context.lang
    subscribed = await context.services.users.is_subscribed(user.id)
    minutes = await context.services.agenda.reminders.minutes(user.id)
    text = t(
        "settings.title",
        lang,
        language=LANGUAGE_NAMES.get(lang, lang),
        updates=plain("settings.on" if subscribed else "settings.off", lang),
        reminders=_reminder_label(minutes, lang),
    )
    rows = [
        [views.button(plain("menu.language", lang), callbacks.LANGUAGES.data())],
        [views.button(plain("menu.updates", lang), callbacks.UPDATES.data())],
        _reminders_row(lang),
        views.back_row(lang),
    ]
    await show(update, views.View(text, InlineKeyboardMarkup(rows)))


def _opened_from_settings(update: Update) -> bool:
    """Whether the pressed message is Settings, or the Reminders page opened from it (its
    Back goes there); else it is My agenda's. Read from the message's own buttons, so
    nothing is remembered between presses (like a session card's Back to its list page)."""
    query = update.callback_query
    markup = getattr(query.message, "reply_markup", None) if query is not None else None
    if markup is None:
        return True
    data = {b.callback_data for row in markup.inline_keyboard for b in row}
    return bool(data & {callbacks.LANGUAGES.data(), callbacks.SETTINGS.data()})


async def reminders_menu(update: Update, context: FocusContext) -> None:
    """⏰ Reminders: 10, 15 or 30 minutes before, or none; Back to where it was opened."""
    query = update.callback_query
    if query is not None:
        await query.answer()
    user = update.effective_user
    if user is None:
        return
    lang = context.lang
    minutes = await context.services.agenda.reminders.minutes(user.id)
    rows = []
    for choice in (*REMINDER_CHOICES, 0):
        label = (
            plain("reminders.minutes", lang, minutes=choice)
            if choice
            else plain("reminders.button.off", lang)
        )
        mark = "✓ " if choice == minutes else ""
        rows.append([views.button(f"{mark}{label}", callbacks.REMINDER.data(choice))])
    back = callbacks.SETTINGS if _opened_from_settings(update) else callbacks.AGENDA
    rows.append(views.back_row(lang, back.data()))
    text = t("reminders.choose", lang, current=_reminder_label(minutes, lang))
    if context.services.content.content.event.date is None:
        text = Html(f"{text}\n\n{t('agenda.reminders.no_date', lang)}")
    await show(update, views.View(text, InlineKeyboardMarkup(rows)))


async def choose_reminder(update: Update, context: FocusContext) -> None:
    """A reminder choice, for the person who pressed it; their reminders move with it. Then
    back to the page the Reminders were opened from (My agenda or Settings)."""
    query = update.callback_query
    assert query is not None
    (choice,) = Button.fields(context)
    planner = context.services.agenda.reminders
    minutes = await planner.set_minutes(query.from_user.id, int(choice))
    await planner.sync(context.services.content.content, query.from_user.id)
    await query.answer(
        plain("reminders.changed", context.lang, choice=_reminder_label(minutes, context.lang))
    )
    if _opened_from_settings(update):
        await _show_settings(update, context)
    else:
        await _show_agenda(update, context)


# -- change notices (after /reload) -----------------------------------------------------------


def _is_admin(update: Update, context: FocusContext) -> bool:
    user = update.effective_user
    return user is not None and user.id in context.services.settings.admin_ids


def notice_view(plan: NoticePlan, lang: str) -> views.View:
    """The event's news (date, venue) and the changed sessions, who is told, and the notice
    one person actually gets (the longest one), to confirm."""
    parts: list[str] = []
    if plan.event is not None:
        lines = "\n".join(f"• {html.escape(line)}" for line in event_lines(plan.event, lang))
        parts.append(t("notices.event", lang, people=plan.people, lines=Html(lines)))
    if plan.changes:
        changes = "\n".join(
            f"• {html.escape(change_line(c, lang, plan.draft))}" for c in plan.changes
        )
        parts.append(
            t(
                "notices.summary",
                lang,
                sessions=len(plan.changes),
                people=plan.affected,
                changes=Html(changes),
            )
        )
    if not plan.people:
        parts.append(t("notices.nobody", lang))
    else:
        sample = notice_text(plan.sample_changes(), lang, plan.draft, plan.event)
        parts.append(
            t("notices.sample", lang, count=len(plan.sample), preview=Html(html.escape(sample)))
        )
    text = Html("\n\n".join(parts))
    rows = [
        [
            views.button(
                plain("notices.button.send", lang),
                callbacks.NOTICE.data("send", plan.broadcast_id),
            ),
            views.button(
                plain("notices.button.drop", lang),
                callbacks.NOTICE.data("drop", plan.broadcast_id),
            ),
        ]
    ]
    return views.View(views.fit(text), InlineKeyboardMarkup(rows))


async def after_reload(update: Update, context: FocusContext) -> None:
    """After /reload (handlers/admin.py, among the areas): record what changed in the
    programme, move or cancel its reminders, and show the admin the notices waiting for a
    confirmation."""
    if not _is_admin(update, context):
        return
    content = context.services.content.content
    service = context.services.agenda
    await service.changes.record(content)
    await service.reminders.sync(content)
    for plan in await service.changes.waiting():
        if not plan.people:
            await service.changes.drop(plan.broadcast_id)  # nobody to tell: nothing to ask
            continue
        await show(update, notice_view(plan, context.lang), edit=False)


async def answer_notice(update: Update, context: FocusContext) -> None:
    """📣 Send the notices / Don't send: admins only, once (any worker, any number of presses)."""
    query = update.callback_query
    assert query is not None
    lang = context.lang
    if not _is_admin(update, context):
        await query.answer(plain("button.expired", lang))
        return
    action, number = Button.fields(context)
    broadcast_id = int(number)
    changes = context.services.agenda.changes
    message = query.message
    if action == "drop":
        done = await changes.drop(broadcast_id)
        await query.answer()
        await show(update, views.View(t("notices.dropped" if done else "notices.gone", lang)))
        return
    count = await changes.confirm(
        broadcast_id,
        admin_id=query.from_user.id,
        language=lang,
        progress_chat_id=message.chat.id if message else None,
        progress_message_id=message.message_id if message else None,
    )
    await query.answer()
    if count is None:
        await show(update, views.View(t("notices.gone", lang)))
        return
    await show(update, views.View(t("notices.queued", lang, count=count)))
    if context.services.broadcasts.on_queued is not None:
        context.services.broadcasts.on_queued()


def progress_reporter(
    bot: Bot, announcements: Callable[[BroadcastReport], Awaitable[None]]
) -> Callable[[BroadcastReport], Awaitable[None]]:
    """The sender's progress: change notices in their own words; announcements as before."""

    async def report(progress: BroadcastReport) -> None:
        if progress.kind == BroadcastKind.ANNOUNCEMENT:
            await announcements(progress)
            return
        text = t(
            "notices.progress",
            progress.language,
            number=progress.broadcast_id,
            handled=progress.handled,
            total=progress.total,
            delivered=progress.delivered,
            blocked=progress.blocked,
            failed=progress.failed,
        )
        await edit_progress(bot, progress, text)

    return report


async def privacy_addendum(update: Update, context: FocusContext) -> None:
    """After /privacy (handlers/subscription.py): what My agenda stores too."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(t("agenda.privacy", context.lang))


# -- sharing: deep links and inline mode --------------------------------------------------------


async def open_deep_link(update: Update, context: FocusContext, argument: str) -> bool:
    """/start session-<id> or org-<id>: that card; False if the argument is not one of ours."""
    match = DEEP_LINK.match(argument)
    if match is None:
        return False
    content = context.services.content.content
    kind, ident = match.groups()
    view: views.View | None = None
    if kind == "session" and (session := content.session(ident)):
        view = await personal_session_card(update, context, session)
    elif kind == "org" and (org := content.organization(ident)):
        view = views.organization_card(content, org, context.lang)
    if view is None:
        view = views.View(t("agenda.link_unknown", context.lang), views.main_menu(context.lang))
    await show(update, view, edit=False)
    return True


def _matches(words: list[str], *texts: str) -> bool:
    haystack = fold(" ".join(texts))
    return all(word in haystack for word in words)


def inline_results(
    content: Content, query: str, lang: str, bot_username: str | None
) -> list[InlineQueryResultArticle]:
    """Sessions and partners whose words contain every word typed, as cards in `lang`, each
    with a button that opens it in the bot.

    The cards are HTML: answering the inline query, python-telegram-bot gives each
    InputTextMessageContent without a parse mode the application's default (HTML)."""
    words = fold(query).split()
    results: list[InlineQueryResultArticle] = []
    for session in content.sessions:
        texts = [*session.title.all(), *session.topics]
        texts += session.description.all() if session.description else []
        if words and not _matches(words, *texts):
            continue
        results.append(_session_result(content, session, lang, bot_username))
    for org in content.organizations:
        texts = [org.name, org.display_name(lang), *org.aliases]
        texts += org.summary.all() if org.summary else []
        if not words or _matches(words, *texts):
            results.append(_organization_result(content, org, lang, bot_username))
    return results[:INLINE_LIMIT]


def _open_button(lang: str, link: str | None) -> InlineKeyboardMarkup | None:
    if link is None:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(plain("inline.open", lang), url=link)]])


def _session_result(
    content: Content, session: Session, lang: str, bot_username: str | None
) -> InlineQueryResultArticle:
    card = views.session_card(content, session, lang)
    return InlineQueryResultArticle(
        id=f"s:{session.id}",
        title=session.title.get(lang),
        description=views.session_when(content, session, lang),
        input_message_content=InputTextMessageContent(card.text),
        reply_markup=_open_button(lang, deep_link(bot_username, session.id)),
    )


def _organization_result(
    content: Content, org: Organization, lang: str, bot_username: str | None
) -> InlineQueryResultArticle:
    card = views.organization_card(content, org, lang)
    link = f"https://t.me/{bot_username}?start=org-{org.id}" if bot_username else None
    return InlineQueryResultArticle(
        id=f"o:{org.id}",
        title=org.display_name(lang),
        description=plain(f"org.role.{org.role.value}", lang),
        input_message_content=InputTextMessageContent(card.text),
        reply_markup=_open_button(lang, link),
    )


async def inline_query(update: Update, context: FocusContext) -> None:
    """`@bot digital` in any chat: matching sessions and partners, in the person's language."""
    query = update.inline_query
    if query is None:
        return
    content = context.services.content.content
    results: list[Any] = inline_results(content, query.query, context.lang, context.bot.username)
    await query.answer(results, cache_time=30, is_personal=True)
