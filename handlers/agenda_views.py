"""The views of My agenda: the saved sessions, now and next, /settings and the reminders,
the change notices an admin confirms, and the cards of inline mode (handlers/agenda.py
sends them)."""

from __future__ import annotations

import datetime as dt
import html
from typing import Final

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
)

from bot.answers import Nav
from bot.calendar import deep_link
from bot.content import Content, Organization, Session
from bot.i18n import LANGUAGE_NAMES, Html, plain, t
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

INLINE_LIMIT: Final = 20
# The answer to a typed "what's on now" ("què hi ha ara"...): handlers/ask.py shows now_view.
NOW_ANSWER: Final = f"nav:{Nav.NOW.value}"


# -- /agenda -----------------------------------------------------------------------------------


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


# -- /now --------------------------------------------------------------------------------------


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


# -- /settings and reminders -------------------------------------------------------------------


def reminder_label(minutes: int, lang: str) -> str:
    if not minutes:
        return plain("reminders.off", lang)
    return plain("reminders.minutes", lang, minutes=minutes)


def settings_view(lang: str, subscribed: bool, minutes: int) -> views.View:
    """/settings: the language, the organizers' updates and the reminders, each a button."""
    text = t(
        "settings.title",
        lang,
        language=LANGUAGE_NAMES.get(lang, lang),
        updates=plain("settings.on" if subscribed else "settings.off", lang),
        reminders=reminder_label(minutes, lang),
    )
    rows = [
        [views.button(plain("menu.language", lang), callbacks.LANGUAGES.data())],
        [views.button(plain("menu.updates", lang), callbacks.UPDATES.data())],
        _reminders_row(lang),
        views.back_row(lang),
    ]
    return views.View(text, InlineKeyboardMarkup(rows))


def reminders_view(lang: str, minutes: int, back: str, *, dated: bool) -> views.View:
    """⏰ Reminders: 10, 15 or 30 minutes before, or none (the current one ticked); `back`
    to where it was opened (without the event's date, says reminders wait for it)."""
    rows = []
    for choice in (*REMINDER_CHOICES, 0):
        label = (
            plain("reminders.minutes", lang, minutes=choice)
            if choice
            else plain("reminders.button.off", lang)
        )
        mark = "✓ " if choice == minutes else ""
        rows.append([views.button(f"{mark}{label}", callbacks.REMINDER.data(choice))])
    rows.append(views.back_row(lang, back))
    text = t("reminders.choose", lang, current=reminder_label(minutes, lang))
    if not dated:
        text = Html(f"{text}\n\n{t('agenda.reminders.no_date', lang)}")
    return views.View(text, InlineKeyboardMarkup(rows))


# -- ☆ Save ------------------------------------------------------------------------------------


def save_relabelled(
    markup: InlineKeyboardMarkup, session: Session, saved: bool, lang: str
) -> InlineKeyboardMarkup:
    """The keyboard with only its Save button changed to ☆ Save / ★ Saved."""
    label = plain("agenda.button.saved" if saved else "agenda.button.save", lang)
    data = callbacks.SAVE.data(session.id)
    rows = [
        [
            InlineKeyboardButton(label, callback_data=data) if b.callback_data == data else b
            for b in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(rows)


# -- change notices (after /reload) ------------------------------------------------------------


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


# -- inline mode -------------------------------------------------------------------------------


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
