"""Live questions to a panel, votes, moderation and feedback: the Telegram side of
bot/live.py. Every button re-checks who pressed it (the service refuses a moderator's action
from anyone else, or on a question of another session); refusals are answered, never applied.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from typing import Final

from telegram import InputFile, Update
from telegram.constants import ChatType

from bot.backoff import Backoff
from bot.content import Session
from bot.i18n import plain, t
from bot.live import LiveRefused, LiveService
from handlers import live_views, update_log
from handlers.callbacks import Button
from handlers.common import answer_press, show
from handlers.context import FocusContext, SomeApp, services_of, wake_outbox
from handlers.views import View

log = logging.getLogger(__name__)

DEEP_LINK: Final = re.compile(r"(ask|mod)-([A-Za-z0-9_-]{1,40})")
ACTIONS: Final = {"ap": "approve", "hd": "hide", "an": "answered", "pn": "pin"}
CLOCK_EVERY: Final = 30.0  # seconds between two looks for sessions that ended


def _live(context: FocusContext) -> LiveService:
    return context.services.live


def _session(context: FocusContext, session_id: str) -> Session:
    return _live(context).session(session_id)


async def _refuse(update: Update, context: FocusContext, refused: LiveRefused) -> None:
    """Say what was refused: as the press's alert, or as a reply to the text."""
    text = plain(f"live.refused.{refused.code}", context.lang)
    if update.callback_query is not None:
        await answer_press(update, text, alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text, parse_mode=None)


async def _room_view(update: Update, context: FocusContext, session_id: str) -> View:
    user, chat = update.effective_user, update.effective_chat
    viewer = user.id if user else None
    live = _live(context)
    if chat is None or chat.type != ChatType.PRIVATE:
        viewer = None  # in a group, nobody's own question or votes are shown to the others
    moderator = viewer is not None and await live.is_moderator(viewer, session_id)
    board = await live.board(session_id, viewer, moderator=False)
    return live_views.room_view(
        _session(context, session_id), board, context.lang, moderator=moderator
    )


async def _moderation_view(context: FocusContext, session_id: str) -> View:
    board = await _live(context).board(session_id, None, moderator=True)
    return live_views.moderation_view(_session(context, session_id), board, context.lang)


async def _show_list(
    update: Update, context: FocusContext, session_id: str, view: View, *, edit: bool = True
) -> None:
    """Show a moderator's list, and keep it live: edited when the questions change."""
    shown = await show(update, view, edit=edit)
    if shown is not None:
        await _live(context).watch(session_id, shown.chat_id, shown.message_id, context.lang)


# -- people ---------------------------------------------------------------------------------


async def room(update: Update, context: FocusContext) -> None:
    """ "❓ Ask the panel" on a session card: its top questions, 👍 and the person's own."""
    (session_id,) = Button.fields(context)
    try:
        view = await _room_view(update, context, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update)
    await show(update, view)


async def begin_question(update: Update, context: FocusContext) -> None:
    """ "✍️ Ask a question": the person's next text is it (in their private chat only)."""
    (session_id,) = Button.fields(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        await answer_press(update, plain("live.refused.private_only", context.lang), alert=True)
        return
    try:
        await _live(context).begin_question(user.id, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update)
    await show(update, live_views.prompt_view(_session(context, session_id), False, context.lang))


async def toggle_anonymous(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    live = _live(context)
    try:
        anonymous = await live.toggle_anonymous(user.id)
        pending = await live.pending(user.id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update)
    if pending is not None:
        session = _session(context, pending.session_id)
        await show(update, live_views.prompt_view(session, anonymous, context.lang))


async def cancel_input(update: Update, context: FocusContext) -> None:
    if update.effective_user is None:
        return
    await _live(context).cancel_input(update.effective_user.id)
    await answer_press(update)
    await show(update, View(t("live.cancelled", context.lang)))


async def typed_text(update: Update, context: FocusContext) -> None:
    """Private text, before every area: a question, a comment or a hidden question's reason
    when the person was asked for one (a `live_inputs` row); else the update goes on."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    live = _live(context)
    pending = await live.pending(user.id)
    if pending is None:
        return
    try:
        if pending.purpose == "question":
            question = await live.ask(user.id, user.first_name, message.text)
            session = _session(context, pending.session_id)
            view = live_views.asked_view(session, question, context.lang)
        elif pending.purpose == "comment":
            session_id = await live.comment(user.id, message.text)
            view = View(t("live.feedback.commented", context.lang))
            log.debug("Feedback comment on %s", session_id)
        else:
            await live.tell_hidden(user.id, message.text)
            view = await _moderation_view(context, pending.session_id)
            view = View(f"{t('live.reason.sent', context.lang)}\n\n{view.text}", view.keyboard)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
    else:
        if pending.purpose == "reason":
            await _show_list(update, context, pending.session_id, view, edit=False)
        else:
            await show(update, view, edit=False)
    wake_outbox(context.application)  # the moderators' lists, a hidden question's author
    await update_log.stop(update, context)


async def drop_input(update: Update, context: FocusContext) -> None:
    """A command: whatever the person was typing for the panel, they moved on (the update
    goes on to the command's own handler)."""
    if update.effective_user is not None:
        await _live(context).cancel_input(update.effective_user.id)


async def privacy_addendum(update: Update, context: FocusContext) -> None:
    """After /privacy: what live questions and feedback store."""
    if update.effective_chat is not None:
        await update.effective_chat.send_message(t("live.privacy", context.lang))


async def press_vote(update: Update, context: FocusContext) -> None:
    """👍 on a question (again: taken back), then the list as it is now."""
    session_id, question_id = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    try:
        vote = await _live(context).vote(user.id, session_id, int(question_id))
        view = await _room_view(update, context, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    if vote.lists_changed:
        wake_outbox(context.application)  # the moderators' lists
    await answer_press(
        update, plain("live.voted" if vote.counted else "live.unvoted", context.lang)
    )
    await show(update, view)


# -- moderators -----------------------------------------------------------------------------


async def _moderator_or_refuse(update: Update, context: FocusContext, session_id: str) -> bool:
    user = update.effective_user
    try:
        _session(context, session_id)
        if user is None or not await _live(context).is_moderator(user.id, session_id):
            raise LiveRefused("not_moderator")
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return False
    return True


async def moderate(update: Update, context: FocusContext) -> None:
    """A moderator's ranked list of one session (the button), or of their sessions."""
    fields = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    if not fields:
        sessions = await _live(context).moderated_sessions(user.id)
        await answer_press(update)
        await show(
            update,
            live_views.sessions_view(context.services.content.content, sessions, context.lang),
        )
        return
    (session_id,) = fields
    if not await _moderator_or_refuse(update, context, session_id):
        return
    await answer_press(update)
    await _show_list(update, context, session_id, await _moderation_view(context, session_id))


async def live_command(update: Update, context: FocusContext) -> None:
    """/live [session]: the moderator's list (the sessions they moderate without one)."""
    user = update.effective_user
    if user is None:
        return
    args = context.args or []
    if args:
        if await _moderator_or_refuse(update, context, args[0]):
            view = await _moderation_view(context, args[0])
            await _show_list(update, context, args[0], view, edit=False)
        return
    sessions = await _live(context).moderated_sessions(user.id)
    content = context.services.content.content
    await show(update, live_views.sessions_view(content, sessions, context.lang), edit=False)


async def act(update: Update, context: FocusContext) -> None:
    """Approve, hide, answered or pin: re-checked by the service (a moderator of THIS
    question's session); a hide asks for the reason to tell the author."""
    code, session_id, question_id = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    try:
        await _live(context).moderate(user.id, session_id, int(question_id), ACTIONS[code])
        view = await _moderation_view(context, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    wake_outbox(context.application)  # the other moderators' lists
    await answer_press(update, plain(f"live.done.{code}", context.lang))
    await _show_list(update, context, session_id, view)
    if code == "hd":
        await show(update, live_views.reason_view(context.lang), edit=False)


async def hide_without_reason(update: Update, context: FocusContext) -> None:
    user = update.effective_user
    if user is None:
        return
    live = _live(context)
    pending = await live.pending(user.id)
    try:
        await live.tell_hidden(user.id, None)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    wake_outbox(context.application)
    await answer_press(update)
    await show(update, View(t("live.reason.sent", context.lang)))
    if pending is not None:
        view = await _moderation_view(context, pending.session_id)
        await _show_list(update, context, pending.session_id, view, edit=False)


async def set_state(update: Update, context: FocusContext) -> None:
    """Open or close the questions, moderation on or off."""
    state, session_id = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    live = _live(context)
    try:
        if state in ("mod0", "mod1"):
            await live.set_moderated(user.id, session_id, state == "mod1")
        else:
            await live.set_state(user.id, session_id, state)
        view = await _moderation_view(context, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    wake_outbox(context.application)  # other moderators' lists; feedback after closing
    await answer_press(update)
    await _show_list(update, context, session_id, view)


def screen_url(context: FocusContext, session_id: str, key: str) -> str:
    """The projector page's address: on the Mini App's host when it has one."""
    path = f"/live/{session_id}?key={key}"
    base = context.services.settings.web_app_url
    if base:
        root = base.rstrip("/").removesuffix("/app")
        return f"{root}{path}"
    return path


async def screen_link(update: Update, context: FocusContext) -> None:
    (session_id,) = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    try:
        key = await _live(context).screen_key(user.id, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update)
    url = screen_url(context, session_id, key)
    await show(update, View(t("live.screen.link", context.lang, url=url)), edit=False)


async def moderator_command(update: Update, context: FocusContext) -> None:
    """/moderator <session> <id> names a moderator; /moderator <session> invite makes a
    one-time link (organizers only)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    args = context.args or []
    live = _live(context)
    lang = context.lang
    try:
        if not context.services.settings.is_organizer(user.id):
            raise LiveRefused("organizers_only")
        if len(args) != 2:
            raise LiveRefused("moderator_usage")
        session_id, who = args
        if who == "invite":
            token = await live.invite(user.id, session_id)
            link = f"https://t.me/{context.bot.username}?start=mod-{token}"
            await chat.send_message(t("live.moderator.invite", lang, link=link))
            return
        if not who.isdigit() or len(who) > 15:
            raise LiveRefused("moderator_usage")
        await live.add_moderator(user.id, session_id, int(who))
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    title = _session(context, session_id).title.get(lang)
    await chat.send_message(t("live.moderator.added", lang, id=who, title=title))


async def open_deep_link(update: Update, context: FocusContext, argument: str) -> bool:
    """/start ask-<session> (the room) or mod-<token> (a moderator's invitation): False if
    the argument is not one of these."""
    match = DEEP_LINK.fullmatch(argument)
    user = update.effective_user
    if match is None or user is None:
        return False
    kind, value = match.groups()
    try:
        if kind == "ask":
            await show(update, await _room_view(update, context, value), edit=False)
            return True
        session_id = await _live(context).accept_invite(user.id, value)
        moderation = await _moderation_view(context, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return True
    lead = t("live.moderator.welcome", context.lang)
    view = View(f"{lead}\n\n{moderation.text}", moderation.keyboard)
    await _show_list(update, context, session_id, view, edit=False)
    return True


def _organizers_place(update: Update, context: FocusContext) -> bool:
    """A private chat, or the organizers' group: comments are never listed anywhere else."""
    chat = update.effective_chat
    if chat is None:
        return False
    return chat.type == ChatType.PRIVATE or chat.id == context.services.settings.organizer_chat_id


# -- feedback -------------------------------------------------------------------------------


async def rate(update: Update, context: FocusContext) -> None:
    session_id, stars = Button.fields(context)
    user = update.effective_user
    if user is None:
        return
    try:
        await _live(context).rate(user.id, session_id, int(stars))
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update, plain("live.feedback.saved", context.lang))
    session = _session(context, session_id)
    await show(update, live_views.rated_view(session, int(stars), context.lang))


async def begin_comment(update: Update, context: FocusContext) -> None:
    (session_id,) = Button.fields(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        await answer_press(update, plain("live.refused.private_only", context.lang), alert=True)
        return
    try:
        await _live(context).begin_comment(user.id, session_id)
    except LiveRefused as refused:
        await _refuse(update, context, refused)
        return
    await answer_press(update)
    await show(
        update, View(t("live.feedback.comment_prompt", context.lang, limit=1000)), edit=False
    )


async def feedback_command(update: Update, context: FocusContext) -> None:
    """/feedback: organizers see every session's; a moderator, the sessions they moderate."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    if not _organizers_place(update, context):
        await _refuse(update, context, LiveRefused("wrong_place"))
        return
    live = _live(context)
    mine = await live.moderated_sessions(user.id)
    if not mine:
        await _refuse(update, context, LiveRefused("not_moderator"))
        return
    every = context.services.settings.is_organizer(user.id)
    summaries = await live.feedback(None if every else mine)
    content = context.services.content.content
    await chat.send_message(live_views.feedback_summary(content, summaries, context.lang))


async def export_feedback(update: Update, context: FocusContext) -> None:
    """/export, after the requests' CSV: the ratings and comments, once there are some
    (organizers only; the requests' handler has already refused anyone else)."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or not context.services.settings.is_organizer(user.id):
        return
    if not _organizers_place(update, context):
        return  # the requests' handler said where to ask
    data = await _live(context).feedback_csv()
    if data is None:
        return  # no feedback yet: the requests' file alone
    name = f"feedback-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M}.csv"
    await chat.send_document(
        InputFile(data, filename=name), caption=t("live.feedback.export", context.lang)
    )


# -- notices (the outbox) and the clock -----------------------------------------------------


class LiveClock:
    """Asks for feedback on sessions that just ended (once each, whichever worker sees it)."""

    def __init__(self, application: SomeApp) -> None:
        self.application = application
        self._stop = asyncio.Event()
        self.backoff = Backoff("Asking for feedback", log)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-clock")

    async def tick(self) -> int:
        queued = await services_of(self.application).live.due_feedback()
        if queued:
            wake_outbox(self.application)
        return queued

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.tick()
            except Exception as error:
                await self.backoff.pause(error, self._stop)
                continue
            self.backoff.recovered()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), CLOCK_EVERY)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
