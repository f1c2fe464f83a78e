"""An in-process Bot API stand-in, and a driver that plays a person talking to the bot.

`LocalBotApi` answers Bot API methods the way Telegram does (message ids, edits, "message is
not modified", errors injected by tests) and records every call. `LocalRequest` plugs it into
python-telegram-bot as its `BaseRequest`, so the real Application runs with no network.
`LocalChat` builds updates from a person's point of view: type a text, press a button.
The terminal chat mode and the tests use exactly these.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, RequestData

from handlers.context import FocusApp, background_done

JSON = dict[str, Any]
BOT_ID = 7_000_000_001
BOT_USERNAME = "focus_local_bot"


@dataclass
class Call:
    method: str
    params: JSON
    files: dict[str, bytes] = field(default_factory=dict)
    file_names: dict[str, str] = field(default_factory=dict)  # field -> the file's own name

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    def buttons(self) -> list[JSON]:
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [b for row in markup.get("inline_keyboard", []) for b in row]


class ApiError(Exception):
    """An error answer, as Telegram would give it (e.g. 403 "bot was blocked by the user")."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


Interceptor = Callable[[str, JSON], "ApiError | None"]


class LocalBotApi:
    """Bot API methods over an in-memory store of chats and messages."""

    def __init__(
        self, bot_id: int = BOT_ID, username: str = BOT_USERNAME, first_update_id: int = 1
    ) -> None:
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Focus Bot",
            "username": username,
        }
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], JSON] = {}
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(first_update_id)
        self.interceptors: list[Interceptor] = []
        # Told of every call answered, also those made in the background (a broadcast being
        # delivered, its progress message edited): the terminal chat prints them as they come.
        self.listeners: list[Callable[[Call], None]] = []

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method == method and (chat_id is None or c.chat_id == chat_id)
        ]

    def handle(
        self,
        method: str,
        params: JSON,
        files: dict[str, bytes] | None = None,
        file_names: dict[str, str] | None = None,
    ) -> Any:
        """Answer one Bot API call (raises ApiError like Telegram would)."""
        call = Call(method, params, files or {}, file_names or {})
        for intercept in self.interceptors:
            error = intercept(method, params)
            if error is not None:
                raise error
        self.calls.append(call)
        handler = getattr(self, f"_{method}", None)
        result = handler(params) if handler else True
        for listener in self.listeners:
            listener(call)
        return result

    def _getMe(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _chat(self, chat_id: Any) -> JSON:
        chat_id = int(chat_id)
        return {
            "id": chat_id,
            "type": "private" if chat_id > 0 else "supergroup",
            **({"title": "Organizers"} if chat_id < 0 else {"first_name": "Local"}),
        }

    def _store(self, params: JSON, extra: JSON) -> JSON:
        chat_id = int(params["chat_id"])
        message = {
            "message_id": self.next_message_id(),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self.bot_user,
            **extra,
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _sendMessage(self, params: JSON) -> JSON:
        text = str(params.get("text", ""))
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(params, {"text": text})

    def _sendDocument(self, params: JSON) -> JSON:
        return self._store(
            params,
            {
                "document": {"file_id": "local", "file_unique_id": "local", "file_name": "file"},
                "caption": params.get("caption", ""),
            },
        )

    def _editMessageText(self, params: JSON) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        if message.get("text") == params.get("text") and message.get("reply_markup") == markup:
            raise ApiError(400, "Bad Request: message is not modified")
        if len(str(params.get("text", ""))) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        message["text"] = params.get("text")
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        return message

    def _editMessageReplyMarkup(self, params: JSON) -> JSON:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _getUpdates(self, params: JSON) -> list[JSON]:
        return []


class LocalRequest(BaseRequest):
    """python-telegram-bot's transport, answered in-process by a LocalBotApi."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, bytes] = {}
        file_names: dict[str, str] = {}
        if request_data is not None and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                content = value[1] if isinstance(value, tuple) else value
                files[name] = content if isinstance(content, bytes) else content.read()
                if isinstance(value, tuple) and value[0]:
                    file_names[name] = str(value[0])
        try:
            result = self.api.handle(api_method, params, files, file_names)
        except ApiError as error:
            return error.code, json.dumps(error.payload()).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


@dataclass
class LocalChat:
    """One person talking to the bot: builds their updates and feeds them to the Application."""

    application: FocusApp
    api: LocalBotApi
    user_id: int = 1
    first_name: str = "Local"
    language_code: str | None = "en"
    chat_id: int | None = None
    username: str | None = None

    @property
    def chat(self) -> JSON:
        chat_id = self.chat_id if self.chat_id is not None else self.user_id
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": self.first_name}
        return {"id": chat_id, "type": "supergroup", "title": "Group"}

    @property
    def user(self) -> JSON:
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        if self.username:
            user["username"] = self.username
        return user

    def _message(self, **fields: Any) -> JSON:
        return {
            "message_id": self.api.next_message_id(),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **fields,
        }

    async def feed(self, payload: JSON) -> list[Call]:
        """Process one update; return the calls the bot made while handling it."""
        before = len(self.api.calls)
        update = Update.de_json(
            {"update_id": self.api.next_update_id(), **payload}, self.application.bot
        )
        await self.application.process_update(update)
        await background_done(self.application)  # e.g. the card posted to the organizers
        return self.api.calls[before:]

    async def send(self, text: str, *, reply_to: JSON | None = None) -> list[Call]:
        fields: JSON = {"text": text}
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        mention = f"@{self.api.bot_user['username']}"
        if mention in text:
            entities.append(
                {"type": "mention", "offset": text.index(mention), "length": len(mention)}
            )
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        return await self.feed({"message": self._message(**fields)})

    async def send_message(self, **fields: Any) -> list[Call]:
        """Any other kind of message: a photo, a sticker, a document..."""
        return await self.feed({"message": self._message(**fields)})

    async def press_data(self, data: str, message: JSON | None = None) -> list[Call]:
        """Press a button with this callback data (possibly forged) on `message`."""
        message = message or self.last_bot_message() or self._message(text="?")
        query = {
            "id": str(self.api.next_update_id()),
            "from": self.user,
            "chat_instance": str(self.chat["id"]),
            "data": data,
            "message": message,
        }
        return await self.feed({"callback_query": query})

    async def press(self, label: str) -> list[Call]:
        """Press the button whose text contains `label` on the bot's latest keyboard here."""
        message = self.last_bot_message(with_buttons=True)
        if message is None:
            raise AssertionError("no message with buttons in this chat")
        for button in buttons_of(message):
            if label.lower() in button["text"].lower() and "callback_data" in button:
                return await self.press_data(button["callback_data"], message)
        labels = [b["text"] for b in buttons_of(message)]
        raise AssertionError(f"no button {label!r}; the buttons are {labels}")

    def bot_messages(self) -> list[JSON]:
        chat_id = self.chat["id"]
        return [m for (cid, _), m in sorted(self.api.messages.items()) if cid == chat_id]

    def last_bot_message(self, *, with_buttons: bool = False) -> JSON | None:
        for message in reversed(self.bot_messages()):
            if not with_buttons or buttons_of(message):
                return message
        return None


def buttons_of(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def sent_texts(calls: list[Call]) -> list[str]:
    """The texts the person would read after these calls (new messages, edits, notices)."""
    out = []
    for call in calls:
        if call.method in {"sendMessage", "editMessageText", "sendDocument"}:
            out.append(call.text)
        elif call.method == "answerCallbackQuery" and call.params.get("text"):
            out.append(str(call.params["text"]))
    return out


__all__ = ["ApiError", "Call", "LocalBotApi", "LocalChat", "LocalRequest"]
