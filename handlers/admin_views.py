"""The views of the admins' commands: an announcement's audiences, its confirmation, the
progress and report of a broadcast, the recent broadcasts (handlers/admin.py sends them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.broadcasts import LANGUAGE_PREFIX, MESSAGE_LIMIT, SPEAKERS, BroadcastReport
from bot.content import Content, ContentInvalid
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, Html, plain, t
from bot.proposals import ProposalState
from bot.users import SubscriberStats
from handlers import callbacks
from handlers.proposal_views import state_label
from handlers.views import View, button, fit

EXCERPT: Final = 60


def audience_label(audience: str, lang: str) -> str:
    if audience.startswith(LANGUAGE_PREFIX):
        code = audience.removeprefix(LANGUAGE_PREFIX)
        language = plain(f"language.name.{code}", lang) if code in LANGUAGE_NAMES else audience
        return plain("broadcast.audience.lang", lang, language=language)
    return plain(
        "broadcast.audience.speakers" if audience == SPEAKERS else "broadcast.audience.all", lang
    )


def excerpt(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= EXCERPT else line[: EXCERPT - 1] + "…"


def report_text(report: BroadcastReport, lang: str) -> Html:
    """The admin's progress message while sending, and the final report afterwards."""
    values = {
        "number": report.broadcast_id,
        "audience": audience_label(report.audience, lang),
        "total": report.total,
        "handled": report.handled,
        "delivered": report.delivered,
        "blocked": report.blocked,
        "failed": report.failed,
    }
    key = "broadcast.report" if report.done else "broadcast.progress"
    text = t(key, lang, seconds=report.seconds, **values)
    if report.unknown:
        text = Html(f"{text}\n{t('broadcast.report_unknown', lang, unknown=report.unknown)}")
    return text


def recent_view(reports: list[BroadcastReport], lang: str) -> View:
    if not reports:
        return View(t("broadcasts.empty", lang))
    blocks: list[str] = [t("broadcasts.title", lang)]
    rows = []
    for report in reports:
        when = f"{report.created_at:%d/%m %H:%M} UTC"
        blocks.append(
            f"{t('broadcasts.header', lang, when=when, text=excerpt(report.text))}\n"
            f"{report_text(report, lang)}"
        )
        if report.done and report.failed:
            label = plain(
                "broadcast.resend_button", lang, number=report.broadcast_id, failed=report.failed
            )
            rows.append([button(label, callbacks.BROADCAST_RESEND.data(report.broadcast_id))])
    return View(fit("\n\n".join(blocks)), InlineKeyboardMarkup(rows) if rows else None)


def audience_view(counts: Sequence[tuple[str, int]], lang: str) -> View:
    """One button per audience, with how many people it reaches, and Cancel."""
    rows = []
    for audience, count in counts:
        label = plain(
            "broadcast.audience_button", lang, audience=audience_label(audience, lang), count=count
        )
        rows.append([button(label, callbacks.BROADCAST_AUDIENCE.data(audience))])
    rows.append([cancel_button(lang)])
    return View(t("broadcast.choose_audience", lang), InlineKeyboardMarkup(rows))


def cancel_button(lang: str) -> InlineKeyboardButton:
    return button(plain("broadcast.cancel_button", lang), callbacks.BROADCAST_CANCEL.data())


def ask_text_view(lang: str) -> View:
    """/broadcast without a text: ask for it (within Telegram's limit), or Cancel."""
    keyboard = InlineKeyboardMarkup([[cancel_button(lang)]])
    return View(t("broadcast.ask_text", lang, limit=MESSAGE_LIMIT), keyboard)


def confirm_view(audience: str, count: int, lang: str) -> View:
    send = plain("broadcast.send_button", lang, count=count)
    other = plain("broadcast.other_audience_button", lang)
    keyboard = InlineKeyboardMarkup(
        [
            [button(send, callbacks.BROADCAST_SEND.data())],
            [button(other, callbacks.BROADCAST_AUDIENCES.data())],
            [cancel_button(lang)],
        ]
    )
    text = t("broadcast.confirm", lang, audience=audience_label(audience, lang), count=count)
    return View(text, keyboard)


def stats_view(
    people: SubscriberStats,
    requests: Mapping[ProposalState, int],
    broadcasts: tuple[int, int],
    lang: str,
) -> View:
    """/stats: subscribers (and their languages), speaking requests by state, broadcasts
    (`broadcasts`: how many, how many messages delivered)."""
    count, delivered = broadcasts
    languages = " · ".join(
        f"{plain(f'language.name.{code}', lang)} {people.by_language[code]}" for code in LANGUAGES
    )
    lines = [
        t(
            "stats.subscribers",
            lang,
            active=people.active,
            unsubscribed=people.unsubscribed,
            blocked=people.blocked,
        ),
        t("stats.languages", lang, languages=languages),
    ]
    states = " · ".join(f"{state_label(state, lang)} {n}" for state, n in requests.items())
    lines.append(t("stats.requests", lang, total=sum(requests.values()), states=states))
    lines.append(t("stats.broadcasts", lang, count=count, delivered=delivered))
    return View(f"{t('stats.title', lang)}\n\n" + "\n".join(lines))


def reload_refused_view(error: ContentInvalid, lang: str) -> View:
    """/reload found the content broken: the old one is kept; every problem, where it is."""
    problems = "\n".join(f"• {problem.render(lang)}" for problem in error.errors)
    text = t("reload.invalid", lang, count=len(error.errors), errors=problems)
    return View(fit(text))


def reloaded_view(content: Content, lang: str) -> View:
    """/reload took the new content: what it holds."""
    text = t(
        "reload.ok",
        lang,
        sessions=len(content.sessions),
        organizations=len(content.organizations),
        faqs=len(content.faqs),
    )
    return View(text)
