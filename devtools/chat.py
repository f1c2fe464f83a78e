"""Terminal chat: the very same Application, no token, no network.

Each typed line becomes an update from a local user; replies are printed; inline buttons are
numbered and typing a number presses that button, also on a message sent to another chat
(the organizers' card: the terminal stands in an organizers' group when ORGANIZER_CHAT_ID is
not set). What the bot sends in the background (a broadcast being delivered, its progress
message edited) is printed as it happens, and files (/export) are saved under ./data/ with
their own name, never over an earlier one.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

from bot.i18n import normalize_language, plain
from bot.settings import Settings
from devtools.local_api import JSON, Call, LocalBotApi, LocalChat, LocalRequest, buttons_of
from handlers.app import build_application
from handlers.runtime import running

LOCAL_TOKEN = "0:local-terminal-chat"  # never leaves the process
_TAG = re.compile(r"<[^>]+>")
QUIT = {"/quit", "/exit"}
START = "/start"  # what the chat says first, on its own
# The organizers' group when ORGANIZER_CHAT_ID is not set: its messages (new requests and
# their buttons) are printed here like the others.
LOCAL_ORGANIZERS_CHAT = -1_000_000_000_001
PRINTED = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}


def terminal_settings(settings: Settings) -> Settings:
    """The settings the terminal chat runs with: an organizers' group, a stand-in if none."""
    if settings.organizer_chat_id is not None:
        return settings
    return settings.model_copy(update={"organizer_chat_id": LOCAL_ORGANIZERS_CHAT})


def to_terminal(text: str, parse_mode: object) -> str:
    """A message as the person reads it: HTML rendered as plain text, plain text as it is."""
    if str(parse_mode).upper() != "HTML":
        return text
    return html.unescape(_TAG.sub("", text))


def unique_path(path: Path) -> Path:
    """`path`, or `name-2.ext`, `name-3.ext`... when a file of that name is already there."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


class TerminalChat:
    def __init__(
        self, chat: LocalChat, out: TextIO, lang: str, downloads: Path = Path("data")
    ) -> None:
        self.chat = chat
        self.out = out
        self.lang = lang
        self.downloads = downloads
        self.buttons: list[dict[str, Any]] = []
        self.keyboard_message: dict[str, Any] | None = None
        self.printed = len(chat.api.calls)  # the Bot API calls already shown
        self.arrived = asyncio.Event()  # set on every call, also those made in the background
        self.busy = asyncio.Lock()  # one typed line (or one background batch) at a time
        chat.api.listeners.append(lambda _call: self.arrived.set())

    def print_new(self) -> None:
        """Every call the bot made since the last print, whoever made it."""
        calls = self.chat.api.calls[self.printed :]
        self.printed += len(calls)
        self.print_calls(calls)

    async def follow(self, prompt: bool = False) -> None:
        """Print what the bot sends between two typed lines (broadcasts, progress edits)."""
        while True:
            await self.arrived.wait()
            await asyncio.sleep(0.05)  # a burst of calls is printed together
            self.arrived.clear()
            async with self.busy:
                if len(self.chat.api.calls) > self.printed:
                    self.print_new()
                    if prompt:
                        print("> ", end="", file=self.out, flush=True)

    def print_calls(self, calls: list[Call]) -> None:
        own_chat = self.chat.chat["id"]
        for call in calls:
            if call.method == "answerCallbackQuery":
                if call.params.get("text"):
                    print(f"  ({call.params['text']})", file=self.out)
                continue
            if call.method not in PRINTED:
                continue
            if call.chat_id is not None and call.chat_id != own_chat:
                print(plain("chat.to_other_chat", self.lang, chat_id=call.chat_id), file=self.out)
            if call.method != "editMessageReplyMarkup":  # only the buttons change (☆ -> ★)
                print(to_terminal(call.text, call.params.get("parse_mode")), file=self.out)
            if call.method == "sendDocument":
                for name, data in call.files.items():
                    file_name = Path(call.file_names.get(name) or f"chat-{name}").name
                    path = unique_path(self.downloads / file_name)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                    print(
                        plain("chat.document", self.lang, name=file_name, path=path),
                        file=self.out,
                    )
            self.show_buttons(call)
        self.out.flush()

    def show_buttons(self, call: Call) -> None:
        """Number the buttons of this message, in any chat: typing a number presses them."""
        buttons = call.buttons()
        if not buttons or call.chat_id is None:
            return
        self.keyboard_message, self.buttons = self.message_of(call), buttons
        for number, button in enumerate(buttons, start=1):
            print(f"  [{number}] {button['text']} {self.target(button)}".rstrip(), file=self.out)

    def target(self, button: JSON) -> str:
        """Where a button that is not pressed in the chat leads."""
        if "url" in button:
            return plain("chat.link_button", self.lang, url=button["url"])
        if "web_app" in button:
            return plain("chat.web_app_button", self.lang, url=button["web_app"]["url"])
        return ""

    def message_of(self, call: Call) -> JSON | None:
        """The message `call` sent or edited, as the Bot API stand-in keeps it."""
        chat_id = int(call.params["chat_id"])
        messages = self.chat.api.messages
        if call.params.get("message_id"):
            return messages.get((chat_id, int(call.params["message_id"])))
        markup = call.params.get("reply_markup")
        in_chat = [m for (cid, _), m in sorted(messages.items()) if cid == chat_id]
        sent = [
            m for m in in_chat if m.get("reply_markup") == markup and m.get("text") == call.text
        ]
        candidates = sent or [m for m in in_chat if buttons_of(m)]
        return candidates[-1] if candidates else None

    async def handle_line(self, line: str) -> None:
        async with self.busy:
            await self._handle_line(line)
            self.print_new()

    async def _handle_line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if line.isdigit() and self.buttons:
            number = int(line)
            if not 1 <= number <= len(self.buttons):
                print(plain("chat.no_button", self.lang, number=number), file=self.out)
                return
            button = self.buttons[number - 1]
            if "callback_data" in button and self.keyboard_message is not None:
                await self.chat.press_data(button["callback_data"], self.keyboard_message)
            elif "url" in button:
                print(button["url"], file=self.out)
            elif "web_app" in button:  # the Mini App opens in a browser: its address
                print(button["web_app"]["url"], file=self.out)
            return
        await self.chat.send(line)


async def run_chat(
    settings: Settings,
    *,
    stdin: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    user_id: int = 1,
    language: str | None = None,
    downloads: Path = Path("data"),
) -> None:
    # Telegram's update ids only grow, and a draft remembers the last update it applied (so a
    # replayed one is not applied twice): a new run on the same database goes on from the
    # clock (microseconds), above every id an earlier run gave.
    api = LocalBotApi(first_update_id=time.time_ns() // 1000)
    settings = terminal_settings(settings)
    application = build_application(settings, request=LocalRequest(api), token=LOCAL_TOKEN)
    lang = normalize_language(language)
    async with running(application):
        chat = LocalChat(application, api, user_id=user_id, language_code=lang)
        terminal = TerminalChat(chat, out, lang, downloads)
        print(plain("chat.banner", lang, user_id=user_id), file=out)
        await terminal.handle_line(START)
        following = asyncio.ensure_future(terminal.follow(prompt=stdin.isatty()))
        lines = read_lines(stdin)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, stop.set)
        first = True
        while not stop.is_set():
            if stdin.isatty():
                print("> ", end="", file=out, flush=True)
            line = await next_line(lines, stop)
            if line is None or line.strip() in QUIT:
                break
            if not (first and line.strip() == START):  # a script's /start: just done
                await terminal.handle_line(line)
            first = False
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        terminal.print_new()
        print(plain("chat.bye", lang), file=out)


def read_lines(stdin: TextIO) -> asyncio.Queue[str | None]:
    """Lines from `stdin` read by a daemon thread, so a blocked read never delays the exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        for line in iter(stdin.readline, ""):
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return queue


async def next_line(lines: asyncio.Queue[str | None], stop: asyncio.Event) -> str | None:
    """The next typed line, or None at end of input or on Ctrl-C / SIGTERM."""
    get = asyncio.ensure_future(lines.get())
    stopped = asyncio.ensure_future(stop.wait())
    done, pending = await asyncio.wait({get, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return get.result() if get in done else None
