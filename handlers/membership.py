"""A person blocks or unblocks the bot (Telegram's `my_chat_member` update, private chats)."""

from __future__ import annotations

from telegram import ChatMember, Update
from telegram.constants import ChatType

from handlers.context import FocusContext


async def member_status(update: Update, context: FocusContext) -> None:
    """Blocked: a known person is marked blocked and unsubscribed (nobody is created).
    Unblocked: reachable again; the subscription comes back only with /subscribe."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    users = context.services.users
    status = change.new_chat_member.status
    if status in (ChatMember.BANNED, ChatMember.LEFT):
        await users.mark_blocked(change.from_user.id, unsubscribe=True)
    elif status == ChatMember.MEMBER:
        await users.mark_unblocked(change.from_user.id)
