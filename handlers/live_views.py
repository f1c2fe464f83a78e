"""Live questions rendered for Telegram: the people's view, the prompt, the moderator's list,
the feedback request and the organizers' summary. Pure functions of plain values; every
question is user text, escaped by `t`."""

from __future__ import annotations

from typing import Final

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import Content, Session
from bot.i18n import Html, plain, t
from bot.live import APPROVED, MAX_QUESTION, PENDING, Board, FeedbackSummary, Question
from handlers import callbacks
from handlers.views import View, button, fit

SHOWN: Final = 5  # questions people see (the screen shows more)
MODERATED_SHOWN: Final = 10


def _title(session: Session, lang: str) -> str:
    return session.title.get(lang)


def _line(question: Question, rank: int | str, lang: str, *, names: bool) -> Html:
    """ "3. 👍 12 · What about rural areas? — Ada" (the name only where names are shown)."""
    author = ""
    if names:
        author = plain(
            "live.by_anonymous" if question.anonymous else "live.by",
            lang,
            name=question.author_name,
        )
    elif question.public_name:
        author = plain("live.by", lang, name=question.public_name)
    return t("live.line", lang, rank=rank, votes=question.votes, text=question.text, author=author)


def room_view(session: Session, board: Board, lang: str, *, moderator: bool) -> View:
    """The session's top questions for one person: 👍 buttons, their own question and rank."""
    state = "live.state.open" if board.room.open else "live.state.closed"
    lines: list[str] = [t("live.room.title", lang, title=_title(session, lang)), t(state, lang)]
    top = board.questions[:SHOWN]
    if board.pinned is not None:
        lines += ["", t("live.pinned", lang), _line(board.pinned, "📌", lang, names=False)]
    if top:
        lines += ["", t("live.room.top", lang)]
        lines += [_line(q, i, lang, names=False) for i, q in enumerate(top, 1)]
    elif board.pinned is None:
        lines += ["", t("live.room.empty", lang)]
    if board.mine is not None:
        lines.append("")
        if board.mine.status == PENDING:
            lines.append(t("live.mine.waiting", lang, text=board.mine.text))
        else:
            lines.append(
                t("live.mine.rank", lang, text=board.mine.text, rank=board.my_rank or "–")
            )
    rows: list[list[InlineKeyboardButton]] = []
    labelled = [("📌", board.pinned)] if board.pinned is not None else []
    labelled += [(str(i), q) for i, q in enumerate(top, 1)]
    if board.room.open:
        vote_row = []
        for label, question in labelled:
            if question.status != APPROVED or (board.mine and question.id == board.mine.id):
                continue
            mark = "live.button.voted" if question.id in board.voted else "live.button.vote"
            vote_row.append(
                button(
                    plain(mark, lang, rank=label, votes=question.votes),
                    callbacks.LIVE_VOTE.data(session.id, question.id),
                )
            )
        rows += [vote_row[i : i + 3] for i in range(0, len(vote_row), 3)]
        if board.mine is None:
            rows.append(
                [button(plain("live.button.write", lang), callbacks.LIVE_ASK.data(session.id))]
            )
    rows.append([button(plain("live.button.refresh", lang), callbacks.LIVE_ROOM.data(session.id))])
    if moderator:
        rows.append(
            [button(plain("live.button.moderate", lang), callbacks.LIVE_MODERATE.data(session.id))]
        )
    rows.append(
        [
            button(plain("menu.back", lang), callbacks.SESSION.data(session.id)),
            button(plain("menu.main", lang), callbacks.MENU.data()),
        ]
    )
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def prompt_view(session: Session, anonymous: bool, lang: str) -> View:
    """ "Type your question": how long it may be, and whether it goes without the name."""
    key = "live.prompt.anonymous" if anonymous else "live.prompt.named"
    text = "\n\n".join(
        [
            t("live.prompt", lang, title=_title(session, lang), limit=MAX_QUESTION),
            t(key, lang),
        ]
    )
    toggle = "live.button.named" if anonymous else "live.button.anonymous"
    rows = [
        [button(plain(toggle, lang), callbacks.LIVE_ANONYMOUS.data())],
        [button(plain("live.button.cancel", lang), callbacks.LIVE_CANCEL.data())],
    ]
    return View(text, InlineKeyboardMarkup(rows))


def asked_view(session: Session, question: Question, lang: str) -> View:
    key = "live.asked.waiting" if question.status == PENDING else "live.asked.up"
    rows = [[button(plain("live.button.see", lang), callbacks.LIVE_ROOM.data(session.id))]]
    return View(t(key, lang, text=question.text), InlineKeyboardMarkup(rows))


def moderation_view(session: Session, board: Board, lang: str) -> View:
    """The moderator's ranked list: who asked (even anonymously), and one row of buttons per
    question: approve (while waiting), hide, answered, pin."""
    room = board.room
    lines: list[str] = [
        t("live.moderate.title", lang, title=_title(session, lang)),
        t("live.state.open" if room.open else "live.state.closed", lang),
        t("live.moderate.on" if room.moderated else "live.moderate.off", lang),
        t("live.moderate.waiting", lang, count=board.waiting),
    ]
    shown = board.questions[:MODERATED_SHOWN]
    if board.pinned is not None:
        lines += ["", t("live.pinned", lang), _line(board.pinned, "📌", lang, names=True)]
    if shown:
        lines.append("")
        for i, question in enumerate(shown, 1):
            marker = "⏳ " if question.status == PENDING else ""
            lines.append(Html(marker + _line(question, i, lang, names=True)))
    elif board.pinned is None:
        lines += ["", t("live.room.empty", lang)]
    rows: list[list[InlineKeyboardButton]] = []
    for i, question in enumerate(shown, 1):
        row = []
        actions = ("ap", "hd", "an", "pn") if question.status == PENDING else ("hd", "an", "pn")
        for action in actions:
            row.append(
                button(
                    plain(f"live.action.{action}", lang, rank=i),
                    callbacks.LIVE_ACTION.data(action, session.id, question.id),
                )
            )
        rows.append(row)
    if board.pinned is not None:
        rows.append(
            [
                button(
                    plain("live.action.an", lang, rank="📌"),
                    callbacks.LIVE_ACTION.data("an", session.id, board.pinned.id),
                )
            ]
        )
    state, state_key = (
        ("closed", "live.button.close") if room.open else ("open", "live.button.open")
    )
    moderated = "mod0" if room.moderated else "mod1"
    moderated_key = "live.button.unmoderate" if room.moderated else "live.button.moderated"
    rows.append(
        [
            button(plain(state_key, lang), callbacks.LIVE_STATE.data(state, session.id)),
            button(plain(moderated_key, lang), callbacks.LIVE_STATE.data(moderated, session.id)),
        ]
    )
    rows.append(
        [
            button(plain("live.button.screen", lang), callbacks.LIVE_SCREEN.data(session.id)),
            button(plain("live.button.refresh", lang), callbacks.LIVE_MODERATE.data(session.id)),
        ]
    )
    return View(fit("\n".join(lines)), InlineKeyboardMarkup(rows))


def sessions_view(content: Content, session_ids: list[str], lang: str) -> View:
    """/live: the sessions this person moderates, one button each."""
    rows = []
    for session_id in session_ids:
        session = content.session(session_id)
        if session is not None:
            rows.append([button(_title(session, lang), callbacks.LIVE_MODERATE.data(session_id))])
    key = "live.sessions.title" if rows else "live.sessions.none"
    return View(t(key, lang), InlineKeyboardMarkup(rows) if rows else None)


def reason_view(lang: str) -> View:
    rows = [[button(plain("live.button.no_reason", lang), callbacks.LIVE_NO_REASON.data())]]
    return View(t("live.reason.prompt", lang, limit=300), InlineKeyboardMarkup(rows))


def feedback_request_view(session: Session, lang: str) -> View:
    """After a session: 1-5 stars in one tap, and a comment if they like."""
    stars = [
        button("⭐" * n if n <= 2 else f"{n}⭐", callbacks.LIVE_RATE.data(session.id, n))
        for n in range(1, 6)
    ]
    rows = [
        stars,
        [button(plain("live.button.comment", lang), callbacks.LIVE_COMMENT.data(session.id))],
    ]
    return View(
        t("live.feedback.ask", lang, title=_title(session, lang)), InlineKeyboardMarkup(rows)
    )


def rated_view(session: Session, stars: int, lang: str) -> View:
    rows = [[button(plain("live.button.comment", lang), callbacks.LIVE_COMMENT.data(session.id))]]
    text = t("live.feedback.thanks", lang, title=_title(session, lang), stars="⭐" * stars)
    return View(text, InlineKeyboardMarkup(rows))


def feedback_summary(content: Content, summaries: list[FeedbackSummary], lang: str) -> str:
    """/feedback: per session, the average of its stars, how many, and the comments."""
    if not summaries:
        return t("live.feedback.none", lang)
    lines: list[str] = [t("live.feedback.title", lang)]
    for summary in summaries:
        session = content.session(summary.session_id)
        title = _title(session, lang) if session else summary.session_id
        average = f"{summary.average:.1f}" if summary.average is not None else "–"
        lines += [
            "",
            t("live.feedback.session", lang, title=title, average=average, count=summary.ratings),
        ]
        lines += [t("live.feedback.comment", lang, comment=c) for c in summary.comments]
    return fit("\n".join(lines))
