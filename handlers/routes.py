"""Which area answers: THE one place that routes what more than one area could take.

Free text (private and group), media, `/start <argument>` and `/cancel` may belong to several
areas; this module tries them in a fixed order and calls the area that takes it. The areas
(start, browse, ask, propose, organize, admin, agenda, subscription, membership) never import
each other: only this module and app.py (which registers the handlers) import them, and
tests/test_layers.py fails if an area imports a sibling. What areas share is in common.py,
context.py, callbacks.py and the view modules (views.py, *_views.py).

Each area says whether the update is its own by taking it: `organize.take_typed_note` is
True when the text was an organizer's awaited note (taken once, in one transaction),
`propose.answer_step` when the open draft's step took it; an area that does not take it
changes nothing, and the next one is asked.

(An admin's announcement text, and /cancel while composing one, are taken before any area,
in the COMPOSING group of handlers/app.py, which then stops the update.)
"""

from __future__ import annotations

from telegram import Update

from bot.proposals import DormantDraft
from handlers import agenda, ask, live, organize, propose, start
from handlers.context import FocusContext
from handlers.draft_views import DEEP_LINK


async def private_text(update: Update, context: FocusContext) -> None:
    """Private text, tried in this order: an organizer's awaited note (a decline's reason, a
    message for the speaker); the answer to the open draft's step; otherwise a question for
    the answer engine (which also knows "what's on now").

    A draft left a while ago lets the text through as a question, and says it is waiting.
    """
    if await organize.take_typed_note(update, context):
        return
    try:
        if await propose.answer_step(update, context):
            return
    except DormantDraft:
        await ask.question(update, context)
        await propose.say_dormant(update, context)
        return
    await ask.question(update, context)


async def group_text(update: Update, context: FocusContext) -> None:
    """Text in a group addressed to the bot: an organizer's reason or message they were asked
    for; anyone else's text is a question."""
    if not await organize.take_typed_note(update, context):
        await ask.question(update, context)


async def private_media(update: Update, context: FocusContext) -> None:
    """A photo or sticker in private: during the flow, the step asks for a typed answer again;
    otherwise only text is read."""
    if not await propose.media_during_step(update, context):
        await ask.not_text(update, context)


async def start_command(update: Update, context: FocusContext) -> None:
    """/start: `/start floor` starts (or resumes) a request; `/start session-<id>` (the Share
    button) or `org-<id>` (inline mode) opens that card; otherwise the greeting and menu."""
    if context.args == [DEEP_LINK]:
        await propose.propose(update, context)
        return
    if context.args and await agenda.open_deep_link(update, context, context.args[0]):
        return
    # ask-<session> (a session's live questions) or mod-<token> (a moderator's invitation).
    if context.args and await live.open_deep_link(update, context, context.args[0]):
        return
    await start.greet(update, context)


async def cancel_command(update: Update, context: FocusContext) -> None:
    """/cancel: an organizer's awaited note is dropped (nothing is sent); otherwise the
    speaking-slot request is cancelled (after a confirmation if it has answers)."""
    if await organize.drop_typed_note(update, context):
        return
    await propose.cancel(update, context)
