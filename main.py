"""Focus Bot command line: run (polling, default) | chat | check-content."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from pydantic import ValidationError

from bot.content import ContentInvalid, load_content
from bot.i18n import plain
from bot.settings import Settings


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def print_content_errors(error: ContentInvalid, settings: Settings) -> None:
    print(
        plain(
            "cli.content_invalid", "en", directory=settings.content_dir, count=len(error.errors)
        ),
        file=sys.stderr,
    )
    for item in error.errors:
        print(f"  - {item}", file=sys.stderr)


def check_content(settings: Settings) -> int:
    try:
        content = load_content(settings.content_dir)
    except ContentInvalid as error:
        print_content_errors(error, settings)
        return 1
    print(
        plain(
            "cli.content_ok",
            "en",
            sessions=len(content.sessions),
            organizations=len(content.organizations),
            faqs=len(content.faqs),
        )
    )
    return 0


def run_polling(settings: Settings) -> int:
    from bot.app import build_application

    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(plain("cli.no_token", "en"), file=sys.stderr)
        return 2
    application = build_application(settings)
    application.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
    return 0


def run_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.chat import run_chat as chat

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(chat(settings, user_id=args.user_id, language=args.lang))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python main.py", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot by long polling (the default)")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal, no token needed")
    chat.add_argument("--user-id", type=int, default=1, help="your numeric user id (default 1)")
    chat.add_argument("--lang", default=None, help="en, es or ca (default en)")
    sub.add_parser("check-content", help="validate the YAML content and list every problem")
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        print(f"Invalid settings: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level if args.command != "chat" else "WARNING")
    try:
        if args.command == "check-content":
            return check_content(settings)
        if args.command == "chat":
            return run_chat(settings, args)
        return run_polling(settings)
    except ContentInvalid as error:
        print_content_errors(error, settings)
        return 1


if __name__ == "__main__":
    sys.exit(main())
